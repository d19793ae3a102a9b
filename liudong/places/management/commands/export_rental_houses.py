from liudong.places.spreadsheets import RENTAL_HOUSE_HEADER, export_rental_houses

from ._transfer import PlaceExportCommand


class Command(PlaceExportCommand):
    help = (
        "Export the rental houses under a region in the import template (imports back unchanged)."
    )
    header = RENTAL_HOUSE_HEADER
    sheet_title = "出租房屋"
    export_rows = staticmethod(export_rental_houses)
