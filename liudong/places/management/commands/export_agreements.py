from liudong.places.spreadsheets import AGREEMENTS

from ._transfer import PlaceExportCommand


class Command(PlaceExportCommand):
    help = (
        "Export the agreements with places under a region in the import template (imports "
        "back unchanged)."
    )
    header = AGREEMENTS.header
    sheet_title = AGREEMENTS.sheet_title
    export_rows = staticmethod(AGREEMENTS.export)
