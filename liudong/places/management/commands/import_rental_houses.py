from liudong.places.spreadsheets import import_rental_houses, read_rental_houses

from ._transfer import PlaceImportCommand


class Command(PlaceImportCommand):
    help = (
        "Import rental houses from csv or xlsx: 地址/address, 区划代码/region, "
        "房东姓名/landlord_name, 房东电话/landlord_phone, 房间数/rooms, 可住人数/capacity. "
        "Matched by region and address; importing twice changes nothing."
    )
    read = staticmethod(read_rental_houses)
    import_rows = staticmethod(import_rental_houses)
