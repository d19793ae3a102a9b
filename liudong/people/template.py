"""The person import template (DESIGN.md §5): columns, their Chinese and English headers,
and the code tables the values come from. Importer, exporter and generator share it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    field: str
    chinese: str
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", True),
    Column("sex", "性别", True),
    Column("id_number", "公民身份号码", True),
    Column("birth_date", "出生日期"),
    Column("ethnicity", "民族"),
    Column("marital_status", "婚姻状况", True),
    Column("household_region", "户籍地区划代码", True),
    Column("household_address", "户籍地址"),
    Column("residence_region", "现居住地区划代码", True),
    Column("residence_address", "现居住地址"),
    Column("arrival_date", "流入日期", True),
    Column("reason", "流动原因"),
    Column("phone", "联系电话"),
    Column("employer", "用工单位"),
    Column("spouse_id_number", "配偶身份号码"),
    Column("children", "现有子女数"),
    Column("certificate_no", "婚育证明编号"),
    Column("certificate_issuer", "发证机关区划代码"),
    Column("certificate_issued", "发证日期"),
    Column("verified_on", "查验日期"),
)
FIELDS = tuple(c.field for c in COLUMNS)
CHINESE_HEADERS = tuple(c.chinese for c in COLUMNS)
REQUIRED = tuple(c.field for c in COLUMNS if c.required)

# GB/T 2261.1: sex
SEX_MALE, SEX_FEMALE = "1", "2"
SEX_CHOICES = ((SEX_MALE, "男"), (SEX_FEMALE, "女"))
SEX_WORDS = {
    "男": SEX_MALE,
    "女": SEX_FEMALE,
    "m": SEX_MALE,
    "f": SEX_FEMALE,
    "1": SEX_MALE,
    "2": SEX_FEMALE,
    "male": SEX_MALE,
    "female": SEX_FEMALE,
}

# GB/T 2261.2: marital status; "married" means 20-23.
MARITAL_CHOICES = (
    ("10", "未婚"),
    ("20", "已婚"),
    ("21", "初婚"),
    ("22", "再婚"),
    ("23", "复婚"),
    ("30", "丧偶"),
    ("40", "离婚"),
    ("90", "未说明的婚姻状况"),
)
MARRIED_CODES = ("20", "21", "22", "23")

# Reasons for moving, as the template lists them.
REASON_CHOICES = (
    ("work", "务工经商"),
    ("family", "随迁家属"),
    ("marriage", "婚姻嫁娶"),
    ("relatives", "投亲靠友"),
    ("other", "其他"),
)

# GB/T 3304: the 56 ethnic groups (code, name), plus 97 其他 and 98 外国血统中国籍人士.
ETHNICITY_CHOICES = (
    ("01", "汉族"),
    ("02", "蒙古族"),
    ("03", "回族"),
    ("04", "藏族"),
    ("05", "维吾尔族"),
    ("06", "苗族"),
    ("07", "彝族"),
    ("08", "壮族"),
    ("09", "布依族"),
    ("10", "朝鲜族"),
    ("11", "满族"),
    ("12", "侗族"),
    ("13", "瑶族"),
    ("14", "白族"),
    ("15", "土家族"),
    ("16", "哈尼族"),
    ("17", "哈萨克族"),
    ("18", "傣族"),
    ("19", "黎族"),
    ("20", "傈僳族"),
    ("21", "佤族"),
    ("22", "畲族"),
    ("23", "高山族"),
    ("24", "拉祜族"),
    ("25", "水族"),
    ("26", "东乡族"),
    ("27", "纳西族"),
    ("28", "景颇族"),
    ("29", "柯尔克孜族"),
    ("30", "土族"),
    ("31", "达斡尔族"),
    ("32", "仫佬族"),
    ("33", "羌族"),
    ("34", "布朗族"),
    ("35", "撒拉族"),
    ("36", "毛南族"),
    ("37", "仡佬族"),
    ("38", "锡伯族"),
    ("39", "阿昌族"),
    ("40", "普米族"),
    ("41", "塔吉克族"),
    ("42", "怒族"),
    ("43", "乌孜别克族"),
    ("44", "俄罗斯族"),
    ("45", "鄂温克族"),
    ("46", "德昂族"),
    ("47", "保安族"),
    ("48", "裕固族"),
    ("49", "京族"),
    ("50", "塔塔尔族"),
    ("51", "独龙族"),
    ("52", "鄂伦春族"),
    ("53", "赫哲族"),
    ("54", "门巴族"),
    ("55", "珞巴族"),
    ("56", "基诺族"),
    ("97", "其他"),
    ("98", "外国血统中国籍人士"),
)
