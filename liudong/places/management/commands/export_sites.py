from liudong.places.spreadsheets import SITES

from ._transfer import PlaceExportCommand


class Command(PlaceExportCommand):
    help = "Export the sites under a region in the import template (imports back unchanged)."
    header = SITES.header
    sheet_title = SITES.sheet_title
    export_rows = staticmethod(SITES.export)
