"""The demo county: one real county, five of its townships, synthetic villages, groups,
grids and one account per role. Idempotent: running it again resets only the demo
accounts' passwords."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from liudong.accounts import services as accounts
from liudong.accounts.models import User
from liudong.accounts.roles import Role
from liudong.regions import services as regions
from liudong.regions.codes import Level
from liudong.regions.models import Grid, Region

DEMO_COUNTY = "330106"  # 浙江省杭州市西湖区
TOWNSHIPS = 5
VILLAGES_PER_TOWNSHIP = 8
GROUPS_PER_VILLAGE = 3
INFLOW_PEOPLE = 3000
OUTFLOW_PEOPLE = 600

VILLAGE_STEMS = [
    "翠苑",
    "文新",
    "古荡",
    "嘉绿",
    "益乐",
    "东岳",
    "蒋村",
    "龙章",
    "五联",
    "府苑",
    "灵隐",
    "玉泉",
    "金祝",
    "北山",
    "曙光",
    "西溪",
    "桃源",
    "星洲",
    "山水",
    "双龙",
    "梅家坞",
    "龙井",
    "茶园",
    "九溪",
    "满觉陇",
    "杨梅岭",
    "浮山",
    "大清",
    "外桐坞",
    "留下",
    "杨家牌楼",
    "横街",
    "屏峰",
    "西穆坞",
    "小和山",
    "朱家坞",
    "狮峰",
    "翁家山",
    "天竺",
    "双峰",
]
GROUP_NAMES = ["第一村民小组", "第二村民小组", "第三村民小组"]


@dataclass
class DemoAccount:
    username: str
    role: str
    region: str
    password: str


def _village_rows(townships: list[Region]):
    row = 2
    stems = iter(VILLAGE_STEMS)
    for township in townships:
        suffix = "社区" if township.name.endswith("街道") else "村"
        for v in range(1, VILLAGES_PER_TOWNSHIP + 1):
            village_code = f"{township.code}{v:03d}"
            yield row, {"code": village_code, "name": next(stems) + suffix}
            row += 1
            for g in range(1, GROUPS_PER_VILLAGE + 1):
                yield row, {"code": f"{village_code}{g:03d}", "name": GROUP_NAMES[g - 1]}
                row += 1


def build_demo(county_code: str = DEMO_COUNTY) -> list[DemoAccount]:
    regions.load_divisions()
    county = Region.objects.get(code=county_code)
    townships = list(county.children.order_by("code")[:TOWNSHIPS])
    summary = regions.import_regions(list(_village_rows(townships)))
    if summary.rejected:
        raise RuntimeError(f"demo villages rejected: {summary.rejected[:3]}")
    first_township = townships[0]
    first_village = Region.objects.filter(parent=first_township).order_by("code")[0]
    first_group = Region.objects.filter(parent=first_village).order_by("code")[0]
    plan = [
        ("county_admin", Role.COUNTY, county.code, "县级管理员"),
        ("inspector", Role.INSPECTOR, county.code, "考核员"),
        ("provider", Role.PROVIDER, first_township.code, "服务站技术员"),
        ("node", Role.NODE, county.code, "交换节点"),
        ("village", Role.VILLAGE, first_village.code, "村专干"),
        ("collector", Role.COLLECTOR, first_group.code, "信息员"),
    ]
    for index, township in enumerate(townships, start=1):
        plan.append((f"township_{index}", Role.TOWNSHIP, township.code, f"{township.name}专干"))
    created = []
    with transaction.atomic():
        for username, role, region_code, full_name in plan:
            region = Region.objects.get(code=region_code)
            existing = User.objects.filter(username=username).first()
            if existing is None:
                _user, password = accounts.create_user(
                    acting_user=None,
                    username=username,
                    role=role,
                    region=region,
                    full_name=full_name,
                )
            else:
                password = accounts.set_password(acting_user=None, user=existing)
            created.append(DemoAccount(username, role, region_code, password))
        _demo_grids(townships)
    _demo_people(county, townships)
    return created


def _demo_people(county: Region, townships: list[Region]) -> None:
    """A few thousand generated files: people living in the demo villages (inflow) and
    people registered in the demo townships living elsewhere (outflow)."""
    from django.conf import settings

    from liudong.people.generate import generate_rows, write_file
    from liudong.people.importing import import_persons

    villages = list(
        Region.objects.subtree(county.code)
        .filter(level=Level.VILLAGE)
        .values_list("code", flat=True)
    )
    folder = settings.VAR_DIR / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (
        ("inflow.csv", generate_rows(INFLOW_PEOPLE, seed=2026, residence_codes=villages)),
        (
            "outflow.csv",
            generate_rows(OUTFLOW_PEOPLE, seed=2027, household_codes=[t.code for t in townships]),
        ),
    ):
        write_file(folder / name, rows)
        import_persons(folder / name)


def _demo_grids(townships: list[Region]) -> None:
    collector = User.objects.get(username="collector")
    for index, township in enumerate(townships, start=1):
        villages = list(township.children.filter(level=Level.VILLAGE).order_by("code"))
        specialist = User.objects.get(username=f"township_{index}")
        half = len(villages) // 2
        for number, chunk in enumerate([villages[:half], villages[half:]], start=1):
            name = f"{township.name}第{number}网格"
            if Grid.objects.filter(region=township, name=name).exists():
                continue
            collectors = [collector] if index == 1 and number == 1 else []
            regions.save_grid(
                acting_user=None,
                name=name,
                region=township,
                areas=chunk,
                responsible=specialist,
                collectors=collectors,
            )
