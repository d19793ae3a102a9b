from liudong.places.spreadsheets import SAFETY_ISSUES

from ._transfer import PlaceImportCommand


class Command(PlaceImportCommand):
    help = (
        "Import the safety and rectification register from csv or xlsx: 区划代码/region, "
        "房屋地址/rental_house (a rental house on file in your region), 安全隐患/hazard, "
        "发现日期/found_on, 整改期限/deadline, 整改完成日期/rectified_on, 备注/notes. "
        "Matched by house, hazard and date found; importing twice changes nothing."
    )
    read = staticmethod(SAFETY_ISSUES.read)
    import_rows = staticmethod(SAFETY_ISSUES.run)
