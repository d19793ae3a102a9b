from liudong.places.spreadsheets import EMPLOYER_HEADER, export_employers

from ._transfer import PlaceExportCommand


class Command(PlaceExportCommand):
    help = "Export the employers under a region in the import template (imports back unchanged)."
    header = EMPLOYER_HEADER
    sheet_title = "用工单位"
    export_rows = staticmethod(export_employers)
