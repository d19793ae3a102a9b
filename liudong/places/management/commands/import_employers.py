from liudong.places.spreadsheets import import_employers, read_employers

from ._transfer import PlaceImportCommand


class Command(PlaceImportCommand):
    help = (
        "Import employers from csv or xlsx: 统一社会信用代码/credit_code, 单位名称/name, "
        "地址/address, 区划代码/region, 联系人/contact, 联系电话/phone, 行业/industry. "
        "Matched by credit code, else name within the region; importing twice changes nothing."
    )
    read = staticmethod(read_employers)
    import_rows = staticmethod(import_employers)
