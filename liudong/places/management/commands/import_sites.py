from liudong.places.spreadsheets import SITES

from ._transfer import PlaceImportCommand


class Command(PlaceImportCommand):
    help = (
        "Import markets, construction sites and service stations from csv or xlsx: "
        "场所类型/kind (市场, 建筑工地, 服务站, 其他), 场所名称/name, 地址/address, "
        "区划代码/region, 联系人/contact, 联系电话/phone. Matched by region, kind and name; "
        "importing twice changes nothing."
    )
    read = staticmethod(SITES.read)
    import_rows = staticmethod(SITES.run)
