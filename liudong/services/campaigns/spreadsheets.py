"""Campaign and campaign activity imports and their export rows. Changes go through
``campaigns.services``; must not touch the other sub-domains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from liudong.actors import Actor
from liudong.regions.models import Region
from liudong.services.campaigns import services as campaign_services
from liudong.services.models import (
    Activity,
    Campaign,
    CampaignKind,
)
from liudong.services.spreadsheets import (
    Cell,
    Sheet,
    day_cell,
    one_of,
    parse_choice,
    parse_count,
    parse_date,
    parse_region,
    parse_text,
    run_rows,
    save_row,
    zh_name,
)
from liudong.tabular import ImportSummary, read_table

ACTIVITY_COLUMNS = {
    "date": ("日期", "活动日期"),
    "place": ("地点", "活动地点"),
    "region": ("区划代码", "行政区划代码"),
    "participants_count": ("参加人数", "participants"),
    "materials_count": ("宣传品", "宣传品(份)", "materials"),
    "free_contraceptives_count": ("避孕药具", "免费避孕药具(份)", "contraceptives"),
}
ACTIVITY_REQUIRED = ("date", "region")
COUNT_FIELDS = ("participants_count", "materials_count", "free_contraceptives_count")


def import_activities(
    path: Path, *, campaign: Campaign, acting_user: Actor, commit: bool = True
) -> ImportSummary:
    """Activities of ``campaign`` from a file (日期, 地点, 区划代码, 参加人数, 宣传品,
    避孕药具). An activity of the same date, region and place is updated (or left
    unchanged), so importing the same file twice changes nothing the second time."""
    rows = read_table(path, ACTIVITY_COLUMNS, ACTIVITY_REQUIRED)

    def one_row(values: dict) -> str:
        key: dict[str, Any] = {
            "date": parse_date(values["date"], "date"),
            "region": parse_region(values["region"]),
            "place": str(values["place"] or "").strip(),
        }
        return save_row(
            Activity.objects.filter(campaign=campaign, **key).first(),
            {name: parse_count(values[name], name) for name in COUNT_FIELDS},
            acting_user=acting_user,
            create=partial(campaign_services.create_activity, campaign=campaign, **key),
            update=(campaign_services.update_activity, "activity"),
        )

    return run_rows(rows, one_row, commit=commit, denied_field="region")


CAMPAIGN_KIND_ZH = {
    "温暖冬春行动": CampaignKind.WARM_WINTER,
    "世界人口日": CampaignKind.POPULATION_DAY,
    "协会活动日": CampaignKind.ASSOCIATION_DAY,
    "其他": CampaignKind.OTHER,
}


CAMPAIGN_COLUMNS = {
    "name": ("名称", "活动名称"),
    "kind": ("类型", "活动类型"),
    "starts_on": ("开始日期",),
    "ends_on": ("结束日期",),
    "regions": ("区划代码", "覆盖区划代码"),
    "organiser": ("组织单位代码",),
    "description": ("说明", "活动说明"),
}
CAMPAIGN_REQUIRED = ("name", "kind", "starts_on", "ends_on")
CAMPAIGN_HEADER = [names[0] for names in CAMPAIGN_COLUMNS.values()]


def parse_regions(value: Cell) -> list[Region] | None:
    """A list of region codes (separated by spaces, commas or 、), ordered by code; None
    when blank."""
    codes = [code for code in re.split(r"[\s,，、;；]+", str(value or "")) if code]
    regions = {region.code: region for region in (parse_region(c, "regions") for c in codes)}
    return [regions[code] for code in sorted(regions)] or None


def _campaign_value(campaign: Campaign, field: str) -> object:
    if field == "regions":
        return list(campaign.regions.order_by("code"))
    return getattr(campaign, field)


def import_campaigns(path: Path, *, acting_user: Actor, commit: bool = True) -> ImportSummary:
    """Campaigns from a file (名称, 类型, 开始日期, 结束日期, 区划代码, 组织单位代码, 说明)
    through ``create_campaign`` and ``update_campaign``. A campaign is its name and start
    (and organising region, when given): one the caller sees is updated or left unchanged
    (only its organising office may change it), else it is created, organised by the
    caller's region unless 组织单位代码 names one below. Blank 区划代码: the organiser's
    whole region."""
    rows = read_table(path, CAMPAIGN_COLUMNS, CAMPAIGN_REQUIRED, free_text=("description",))
    campaigns = Campaign.objects.in_scope(acting_user)

    def one_row(values: dict) -> str:
        name = parse_text(values["name"]) or ""
        starts_on = parse_date(values["starts_on"], "starts_on")
        matching = campaigns.filter(name=name, starts_on=starts_on)
        organiser = None
        if values["organiser"] not in (None, ""):
            organiser = parse_region(values["organiser"], "organiser_region")
            matching = matching.filter(organiser_region=organiser)
        kind = parse_choice(values["kind"], CampaignKind, CAMPAIGN_KIND_ZH, "kind", _("kind"))
        return save_row(
            one_of(
                matching,
                "organiser_region",
                _("Several campaigns of this name start that day: give 组织单位代码."),
            ),
            {
                "kind": kind,
                "ends_on": parse_date(values["ends_on"], "ends_on"),
                "regions": parse_regions(values["regions"]),
                "description": parse_text(values["description"]),
            },
            acting_user=acting_user,
            create=partial(
                campaign_services.create_campaign,
                name=name,
                starts_on=starts_on,
                organiser_region=organiser,
            ),
            update=(campaign_services.update_campaign, "campaign"),
            read=_campaign_value,
        )

    return run_rows(rows, one_row, commit=commit, denied_field="organiser_region")


def campaign_rows(campaigns: Iterable[Campaign]) -> Iterable[list]:
    for campaign in campaigns:
        yield [
            campaign.name,
            zh_name(CAMPAIGN_KIND_ZH, campaign.kind),
            day_cell(campaign.starts_on),
            day_cell(campaign.ends_on),
            "、".join(sorted(region.code for region in campaign.regions.all())),
            campaign.organiser_region_id,
            campaign.description,
        ]


ACTIVITY_HEADER = [names[0] for names in ACTIVITY_COLUMNS.values()]


def activity_rows(activities: Iterable[Activity]) -> Iterable[list]:
    """A campaign's activities in the columns ``import_activities`` reads."""
    for activity in activities:
        counts = [getattr(activity, name) for name in COUNT_FIELDS]
        yield [day_cell(activity.date), activity.place, activity.region_id, *counts]


CAMPAIGN_SHEET = Sheet(CAMPAIGN_HEADER, campaign_rows, "专项活动", "campaigns", Campaign)
ACTIVITY_SHEET = Sheet(ACTIVITY_HEADER, activity_rows, "活动", "campaign activities", Activity)
