"""Business rules for regions and grids: loading the national divisions, adding and
renaming villages and groups, importing them from files, the floating-population
district rule, and grid management. Web, API and CLI all call these functions."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from liudong import tabular
from liudong.accounts.roles import MANAGE_GRIDS, MANAGE_REGIONS
from liudong.actors import Actor, Caller, is_operator
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.tabular import ImportSummary

from .codes import (
    LEVEL_BY_LENGTH,
    CodeError,
    Level,
    clean_code,
    level_of,
    padded_forms,
    parent_code,
)
from .models import DivisionsLoad, Grid, Region
from .successors import place_unknown

if TYPE_CHECKING:
    from liudong.accounts.models import User

# additions.csv: divisions created after the national list was compiled (see SOURCE.md),
# read last so that their parents exist.
DIVISION_FILES = ("provinces.csv", "cities.csv", "areas.csv", "streets.csv", "additions.csv")


# --- the shipped national divisions -------------------------------------------------------


def _division_rows(prefixes: tuple[str, ...] | None = None) -> Iterator[tuple[str, str, Level]]:
    """(code, name, level) for every shipped division, parents before children."""
    folder = resources.files("liudong.regions") / "data" / "divisions"
    for filename in DIVISION_FILES:
        text = (folder / filename).read_text(encoding="utf-8")
        for row in csv.DictReader(io.StringIO(text)):
            code = row["code"].strip()
            if prefixes and not any(code.startswith(p) or p.startswith(code) for p in prefixes):
                continue
            yield code, row["name"].strip(), level_of(code)


def divisions_fingerprint() -> str:
    digest = hashlib.sha256()
    folder = resources.files("liudong.regions") / "data" / "divisions"
    for filename in DIVISION_FILES:
        digest.update((folder / filename).read_bytes())
    return digest.hexdigest()


def is_city_name(name: str) -> bool:
    """Prefecture-level units that are cities: 杭州市, or a municipality's 市辖区."""
    return name.endswith("市") or name == "市辖区"


def is_district_name(name: str) -> bool:
    """County-level 区, except the special district 六枝特区 (a county in all but name)."""
    return name.endswith("区") and not name.endswith("特区")


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: bool = False


def load_divisions(*, prefixes: tuple[str, ...] | None = None, force: bool = False) -> LoadReport:
    """Create or update the national divisions; running it twice changes nothing.

    ``prefixes`` limits the load to some provinces or cities (tests, small demos).
    A full load whose file fingerprint is already recorded returns at once.
    """
    fingerprint = divisions_fingerprint()
    if prefixes is None and not force:
        done = DivisionsLoad.objects.first()
        if done and done.fingerprint == fingerprint:
            return LoadReport(unchanged=done.rows, skipped=True)
    rows = list(_division_rows(prefixes))
    city_names = {code: name for code, name, level in rows if level == Level.CITY}
    report = LoadReport()
    with transaction.atomic():
        existing = {
            r.code: r
            for r in Region.objects.filter(level__lte=Level.TOWNSHIP).only(
                "code", "name", "is_district", "parent_id", "level", "source"
            )
        }
        to_create, to_update = [], []
        for code, name, level in rows:
            is_district = (
                level == Level.COUNTY
                and is_district_name(name)
                and is_city_name(city_names.get(code[:4], ""))
            )
            current = existing.get(code)
            if current is None:
                to_create.append(
                    Region(
                        code=code,
                        name=name,
                        level=level,
                        parent_id=parent_code(code),
                        is_district=is_district,
                        source=Region.Source.NATIONAL,
                    )
                )
            elif (current.name, current.is_district) != (name, is_district):
                current.name, current.is_district = name, is_district
                current.source = Region.Source.NATIONAL
                to_update.append(current)
            else:
                report.unchanged += 1
        Region.objects.bulk_create(to_create, batch_size=2000)
        Region.objects.bulk_update(to_update, ["name", "is_district", "source"], batch_size=2000)
        report.created, report.updated = len(to_create), len(to_update)
        if report.created or report.updated:
            audit.record(
                Action.IMPORT,
                object_type="regions.region",
                object_repr="national divisions",
                detail={
                    "created": report.created,
                    "updated": report.updated,
                    "fingerprint": fingerprint,
                    "prefixes": list(prefixes or []),
                },
            )
        if prefixes is None:
            DivisionsLoad.objects.all().delete()
            DivisionsLoad.objects.create(fingerprint=fingerprint, rows=len(rows))
    district_codes.cache_clear()
    return report


# --- the floating-population rule (DESIGN.md §5) -----------------------------------------


@lru_cache(maxsize=1)
def district_codes() -> frozenset[str]:
    return frozenset(
        Region.objects.filter(level=Level.COUNTY, is_district=True).values_list("code", flat=True)
    )


def same_city_districts(code_a: str, code_b: str) -> bool:
    """True when both codes lie in districts (区) of one city or municipality.

    A move between two districts of one city is not floating (2009 Regulations, art. 2);
    a move from a county (县) or county-level city into a district of the same city is.
    """
    county_a, county_b = code_a[:6], code_b[:6]
    if county_a[:4] != county_b[:4]:
        return False
    districts = district_codes()
    return county_a in districts and county_b in districts


def is_floating(household_region: str, residence_region: str) -> bool:
    """A person is floating when household and residence counties differ, except for a
    move between districts of the same city."""
    if household_region[:6] == residence_region[:6]:
        return False
    return not same_city_districts(household_region, residence_region)


# --- looking codes up --------------------------------------------------------------------


def resolve_region(raw: object) -> Region:
    """The region a typed or imported code stands for, trying zero-padded forms.

    Raises ValidationError naming the rule when the code is malformed or unknown.
    """
    try:
        code = clean_code(raw)
    except CodeError as exc:
        raise ValidationError(str(exc), code="malformed") from exc
    candidates = [code, *padded_forms(code)]
    found = Region.objects.in_bulk(candidates)
    for candidate in candidates:
        if candidate in found:
            return found[candidate]
    raise ValidationError(
        _("Unknown region code “%(code)s”: no such division or village is registered.")
        % {"code": code},
        code="unknown",
    )


def resolve_region_noting(raw: object) -> Region:
    """Like :func:`resolve_region`, but an unknown code that is an old division is taken
    as its successor, and any other unknown code as its nearest known parent; the region
    then carries ``resolution_warning`` for the form or importer to show. Only a code
    whose province is unknown is refused."""
    try:
        return resolve_region(raw)
    except ValidationError as exc:
        if exc.code != "unknown":
            raise
        code = clean_code(raw)
        placed = place_unknown(code, lambda c: Region.objects.filter(code=c).exists())
        if placed is None:
            raise
    region = Region.objects.get(code=placed.code)
    region.resolution_warning = placed.warning(region.name)
    return region


def search_regions(
    query: str,
    *,
    near: str,
    limit: int,
    under: str = "",
    lengths: Iterable[int] = (),
) -> list[Region]:
    """Regions matching a code prefix or a name fragment, those under ``near`` first
    (a township searching "北山" means its own 北山社区 before 北山乡 in another
    province), names that begin with the query before names that merely contain it,
    each with ``.path_name`` (the names of its ancestors) and ``.path`` (the whole line,
    浙江省 › 杭州市 › 西湖区 › 北山街道). ``under`` keeps to one subtree and ``lengths`` to
    some levels (a picker that only takes townships and villages asks for 9 and 12)."""
    from django.db.models import Case, IntegerField, Value, When

    from .codes import subtree_q
    from .filters import RegionFilter

    matches = RegionFilter({"q": query}, Region.objects.all()).qs
    if under:
        matches = matches.filter(subtree_q(under))
    levels = [LEVEL_BY_LENGTH[n] for n in lengths if n in LEVEL_BY_LENGTH]
    if levels:
        matches = matches.filter(level__in=levels)
    ranked = matches.annotate(
        nearby=Case(
            When(subtree_q(near), then=Value(0)), default=Value(1), output_field=IntegerField()
        ),
        prefix=Case(
            When(name__startswith=query.strip(), then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
    ).order_by("nearby", "prefix", "level", "code")[:limit]
    return with_paths(list(ranked))


def with_paths(regions: list[Region]) -> list[Region]:
    """``regions``, each given ``.path_name`` and ``.path`` (ancestors read in one query)."""
    from .codes import ancestors

    names = dict(
        Region.objects.filter(code__in={a for r in regions for a in ancestors(r.code)}).values_list(
            "code", "name"
        )
    )
    for region in regions:
        line = [names.get(code, "") for code in ancestors(region.code)]
        line = [name for name in line if name and name != "市辖区"]
        region.path_name = "".join(line)
        region.path = " › ".join([*line, region.name])
    return regions


# --- villages and groups -----------------------------------------------------------------


LOCAL_LEVELS = (Level.VILLAGE, Level.GROUP)


def _check_may_manage(user: Caller, code: str) -> None:
    authorize(
        user,
        MANAGE_REGIONS,
        code,
        refused=_("Only a county administrator may add or rename regions."),
        outside=_("Region %(code)s lies outside your region %(region)s."),
    )


def validate_new_region(
    code_raw: object, name: str, *, pending: dict[str, str] | None = None
) -> tuple[str, str]:
    """Check a village or group before it is saved; returns (code, name).

    ``pending`` holds codes accepted earlier in the same import, so a file may list a
    village and its groups together.
    """
    try:
        code = clean_code(code_raw)
    except CodeError as exc:
        raise ValidationError({"code": str(exc)}) from exc
    if level_of(code) not in LOCAL_LEVELS:
        raise ValidationError(
            {
                "code": _(
                    "Only villages (12 digits) and village groups (15 digits) are added "
                    "locally; “%(code)s” is a %(level)s code."
                )
                % {"code": code, "level": level_of(code).label}
            }
        )
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("A name is required.")})
    if len(name) > 100:
        raise ValidationError({"name": _("A name has at most 100 characters.")})
    parent = parent_code(code)
    if not (pending and parent in pending) and not Region.objects.filter(code=parent).exists():
        raise ValidationError(
            {
                "code": _("The parent region %(parent)s of %(code)s is not registered.")
                % {"parent": parent, "code": code}
            }
        )
    return code, name


def add_region(*, acting_user: Actor, code: object, name: str) -> Region:
    code, name = validate_new_region(code, name)
    _check_may_manage(acting_user, code)
    with transaction.atomic():
        if Region.objects.filter(code=code).exists():
            raise ValidationError({"code": _("Region %(code)s already exists.") % {"code": code}})
        region = Region.objects.create(
            code=code,
            name=name,
            level=level_of(code),
            parent_id=parent_code(code),
            source=Region.Source.LOCAL,
        )
        audit.record(
            Action.CREATE,
            acting_user=acting_user,
            obj=region,
            region=region.code,
            after=audit.snapshot(region, ["code", "name", "level", "parent_id"]),
        )
    return region


def rename_region(
    *, acting_user: Actor, region: Region, name: str, expected_version: int | None = None
) -> Region:
    _check_may_manage(acting_user, region.code)
    if region.source != Region.Source.LOCAL:
        raise PermissionDenied(
            _("National divisions are renamed only by loading new division files.")
        )
    _code, name = validate_new_region(region.code, name)
    with transaction.atomic():
        before = audit.snapshot(region, ["name", "version"])
        region.name = name
        region.save_versioned(expected_version=expected_version)
        audit.record(
            Action.UPDATE,
            acting_user=acting_user,
            obj=region,
            region=region.code,
            before=before,
            after=audit.snapshot(region, ["name", "version"]),
        )
    return region


# The region import template: our field -> the headers that mean it (Chinese first).
REGION_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("区划代码", "代码", "村级区划代码"),
    "name": ("名称", "区划名称", "村居名称"),
}
REGION_EXPORT_HEADER = ["区划代码", "名称"]


def read_region_file(path: str | Path) -> list[tuple[int, dict]]:
    """Rows of a region import file; TableError when the file as a whole is unusable."""
    from liudong.tabular import read_table

    return list(read_table(path, REGION_COLUMNS, required=("code", "name")))


def export_regions(prefix: str, *, acting_user: Actor, file_format: str) -> list[tuple[str, str]]:
    """Villages and groups under ``prefix`` as template rows; the export is audited."""
    rows = list(
        Region.objects.subtree(prefix)
        .filter(level__gte=Level.VILLAGE)
        .order_by("code")
        .values_list("code", "name")
    )
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        object_type="regions.region",
        object_repr=f"regions under {prefix} ({len(rows)} rows)",
        region=prefix,
        detail={"rows": len(rows), "format": file_format},
    )
    return rows


def import_regions(
    rows: Iterable[tuple[int, dict[str, Any]]], *, acting_user: Actor, dry_run: bool = False
) -> ImportSummary:
    """Import villages and groups from parsed rows: (row_number, {"code", "name"}).

    All or nothing: a file with any rejected row saves no row (a group cannot be kept
    when its village was refused). Re-importing the same rows changes nothing.
    ``acting_user`` None means the server operator (full scope); otherwise the user's
    capability and region bound every row.
    """
    summary = ImportSummary()
    accepted: dict[str, str] = {}
    seen: dict[str, int] = {}
    for row_number, values in rows:
        if problems := tabular.row_problems(values):
            summary.rejected.extend(problems)  # a control character in a cell
            continue
        raw_code = values.get("code")
        try:
            code, name = validate_new_region(raw_code, values.get("name", ""), pending=accepted)
            if code in seen:
                raise ValidationError(
                    {
                        "code": _("Code %(code)s appears twice in the file (first on row %(row)d).")
                        % {"code": code, "row": seen[code]}
                    }
                )
            if not is_operator(acting_user):
                try:
                    _check_may_manage(acting_user, code)
                except PermissionDenied as exc:
                    raise ValidationError({"code": str(exc)}) from exc
        except ValidationError as exc:
            for field_name, messages in exc.message_dict.items():
                summary.rejected.append(
                    {"row": row_number, "field": field_name, "message": " ".join(messages)}
                )
            continue
        seen[code] = row_number
        accepted[code] = name
    if summary.rejected or dry_run:
        if dry_run and not summary.rejected:
            existing = Region.objects.in_bulk(list(accepted))
            for code, name in accepted.items():
                if code not in existing:
                    summary.imported += 1
                elif existing[code].name != name:
                    summary.updated += 1
                else:
                    summary.unchanged += 1
        return summary
    with transaction.atomic():
        existing = Region.objects.in_bulk(list(accepted))
        entries = []
        for code, name in accepted.items():
            region = existing.get(code)
            if region is None:
                region = Region.objects.create(
                    code=code, name=name, level=level_of(code), parent_id=parent_code(code)
                )
                summary.imported += 1
                entries.append(
                    audit.entry(
                        Action.CREATE,
                        acting_user=acting_user,
                        obj=region,
                        region=code,
                        after={"code": code, "name": name},
                        detail={"via": "import"},
                    )
                )
            elif region.name != name:
                before = {"name": region.name}
                region.name = name
                region.save_versioned()
                summary.updated += 1
                entries.append(
                    audit.entry(
                        Action.UPDATE,
                        acting_user=acting_user,
                        obj=region,
                        region=code,
                        before=before,
                        after={"name": name},
                        detail={"via": "import"},
                    )
                )
            else:
                summary.unchanged += 1
        audit.append(entries)
    return summary


# --- grids -------------------------------------------------------------------------------


def _check_grid_scope(
    user: Actor,
    grid_region: Region,
    areas: list[Region],
    responsible: User | None,
    collectors: list[User],
) -> None:
    """Who may, where (authorize), then the grid's own rules."""
    authorize(
        user,
        MANAGE_GRIDS,
        grid_region.code,
        refused=_("Your role may not manage grids."),
        outside=_("Region %(code)s lies outside your region %(region)s."),
    )
    errors = {}
    if grid_region.level not in (Level.TOWNSHIP, Level.VILLAGE):
        errors["region"] = _("A grid belongs to a township or a village.")
    outside = [a.code for a in areas if not a.code.startswith(grid_region.code)]
    if outside:
        errors["areas"] = _("These areas lie outside the grid's region: %(codes)s") % {
            "codes": ", ".join(outside)
        }
    wrong_level = [a.code for a in areas if a.level not in LOCAL_LEVELS]
    if wrong_level:
        errors["areas"] = _("A grid is made of villages and groups: %(codes)s are not.") % {
            "codes": ", ".join(wrong_level)
        }
    staff = [s for s in [responsible, *collectors] if s is not None]
    foreign = [
        s.username for s in staff if not (s.region_id or "").startswith(grid_region.code[:9])
    ]
    if foreign:
        errors["collectors"] = _("These accounts work outside the grid's township: %(names)s") % {
            "names": ", ".join(foreign)
        }
    if errors:
        raise ValidationError(errors)


def _grid_image(grid: Grid) -> dict:
    return {
        "name": grid.name,
        "region": grid.region_id,
        "areas": sorted(grid.areas.values_list("code", flat=True)),
        "responsible": grid.responsible_id,
        "collectors": sorted(grid.collectors.values_list("pk", flat=True)),
        "version": grid.version,
    }


def save_grid(
    *,
    acting_user: Actor,
    grid: Grid | None = None,
    name: str,
    region: Region,
    areas: Iterable[Region] = (),
    responsible: User | None = None,
    collectors: Iterable[User] = (),
    expected_version: int | None = None,
) -> Grid:
    """Create a grid (``grid`` None) or change one; audited, version-checked."""
    areas, collectors = list(areas), list(collectors)
    _check_grid_scope(acting_user, region, areas, responsible, collectors)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("A name is required.")})
    with transaction.atomic():
        clash = Grid.objects.filter(region=region, name=name)
        if grid is not None:
            clash = clash.exclude(pk=grid.pk)
        if clash.exists():
            raise ValidationError({"name": _("A grid of this name already exists here.")})
        before = None if grid is None else _grid_image(grid)
        if grid is None:
            grid = Grid(name=name, region=region, responsible=responsible)
            grid.save()
        else:
            grid.name, grid.region, grid.responsible = name, region, responsible
            grid.save_versioned(expected_version=expected_version)
        grid.areas.set(areas)
        grid.collectors.set(collectors)
        audit.record(
            Action.CREATE if before is None else Action.UPDATE,
            acting_user=acting_user,
            obj=grid,
            region=grid.region_id,
            before=before,
            after=_grid_image(grid),
        )
    return grid
