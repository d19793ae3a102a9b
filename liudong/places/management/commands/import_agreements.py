from liudong.places.spreadsheets import AGREEMENTS

from ._transfer import PlaceImportCommand


class Command(PlaceImportCommand):
    help = (
        "Import agreements (责任书/服务协议) from csv or xlsx: 场所类型/place_kind (用工单位, "
        "出租房屋, 场所), 场所/place (an employer's credit code or name, a house's address, a "
        "site's name: on file in your region), 区划代码/region, 协议类型/kind, "
        "签订日期/signed_on, 有效期至/valid_until, 责任内容/duties. Matched by place, kind and "
        "date signed; importing twice changes nothing."
    )
    read = staticmethod(AGREEMENTS.read)
    import_rows = staticmethod(AGREEMENTS.run)
