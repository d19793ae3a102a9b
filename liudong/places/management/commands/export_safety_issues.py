from liudong.places.spreadsheets import SAFETY_ISSUES

from ._transfer import PlaceExportCommand


class Command(PlaceExportCommand):
    help = (
        "Export the safety and rectification register of the rental houses under a region "
        "in the import template (imports back unchanged)."
    )
    header = SAFETY_ISSUES.header
    sheet_title = SAFETY_ISSUES.sheet_title
    export_rows = staticmethod(SAFETY_ISSUES.export)
