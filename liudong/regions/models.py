"""Regions (the division tree, villages and groups added locally) and grids."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from liudong.actors import account_of, reach
from liudong.base import ScopedQuerySet, TrackedModel

from .codes import MAX_CODE_LENGTH, Level, level_of, subtree_q

if TYPE_CHECKING:
    from liudong.actors import Caller


class RegionQuerySet(models.QuerySet):
    def subtree(self, prefix: str, *, include_root: bool = True) -> RegionQuerySet:
        qs = self.filter(subtree_q(prefix))
        return qs if include_root else qs.exclude(code=prefix)

    def in_scope(self, user: Caller) -> RegionQuerySet:
        """Regions a user may change: their own subtree."""
        region = reach(user)
        if region is None:
            return self.none()
        return self.subtree(region) if region else self.all()


class Region(TrackedModel):
    """One unit of the division tree; the code is the key and encodes the ancestry."""

    class Source(models.TextChoices):
        NATIONAL = "national", _("national statistical codes")
        LOCAL = "local", _("added locally")

    LEVEL_CHOICES = [(level.value, level.label) for level in Level]

    code = models.CharField(_("code"), max_length=MAX_CODE_LENGTH, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=LEVEL_CHOICES)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # A county-level unit that is a district (市辖区) of a city or municipality: moves
    # between two districts of one city are not floating (DESIGN.md §5).
    is_district = models.BooleanField(_("city district"), default=False)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.LOCAL
    )

    objects = RegionQuerySet.as_manager()

    # Not stored: set by ``services.resolve_region_noting`` when the code given was an old
    # or unknown one and this region was taken for it, so the form can say so.
    resolution_warning: str = ""
    # Not stored: set by ``services.search_regions`` for the result lists.
    path_name: str = ""
    path: str = ""

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        indexes = [models.Index(fields=["name"], name="region_name_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def level_enum(self) -> Level:
        return level_of(self.code)

    def ancestors(self) -> list[Region]:
        from .codes import ancestors

        by_code = Region.objects.in_bulk(ancestors(self.code))
        return [by_code[c] for c in ancestors(self.code) if c in by_code]

    def full_name(self) -> str:
        return full_names(self)[0]


def full_names(*regions: Region | None) -> list[str]:
    """Each region's full name (its ancestors' names, then its own; "" for None), the
    ancestors of all of them read in one query (a file page names two regions)."""
    from .codes import ancestors

    codes = {code for region in regions if region is not None for code in ancestors(region.code)}
    by_code = Region.objects.in_bulk(list(codes)) if codes else {}
    names = []
    for region in regions:
        if region is None:
            names.append("")
            continue
        line = [by_code[c] for c in ancestors(region.code) if c in by_code] + [region]
        names.append("".join(r.name for r in line if r.name != "市辖区"))
    return names


class DivisionsLoad(models.Model):
    """Which version of the shipped division files the database holds (idempotent load)."""

    fingerprint = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now=True)
    rows = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"divisions {self.fingerprint[:12]} ({self.rows} rows)"


class GridQuerySet(ScopedQuerySet):
    def in_scope(self, user: Caller) -> Self:
        """Grids in the user's subtree, and the grids the user works in (a collector's
        region is a group, but their grid belongs to the township)."""
        scoped = super().in_scope(user)
        if not scoped.query.is_empty() and account_of(user) is not None:
            member = self.filter(models.Q(responsible=user) | models.Q(collectors=user)).values(
                "pk"
            )
            return self.filter(models.Q(pk__in=scoped.values("pk")) | models.Q(pk__in=member))
        return scoped


class Grid(TrackedModel):
    """A named set of villages/groups with a responsible worker and collectors."""

    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="grids",
        help_text=_("The township or village the grid belongs to."),
    )
    areas = models.ManyToManyField(
        Region, verbose_name=_("villages and groups"), related_name="in_grids", blank=True
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible worker"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="grids_responsible",
    )
    collectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("collectors"),
        related_name="grids_collecting",
        blank=True,
    )

    scope_fields = ("region",)
    objects = GridQuerySet.as_manager()

    class Meta:
        ordering = ["region_id", "name"]
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="grid_unique_name_in_region")
        ]

    def area_q(self, field: str) -> models.Q:
        """Records whose region code ``field`` lies in one of the grid's areas or below
        (a group's people are its village's too); none when the grid has no areas."""
        condition = models.Q()
        for code in self.area_codes():
            condition |= subtree_q(code, field)
        return condition if condition else models.Q(pk__in=[])

    def area_codes(self) -> list[str]:
        """The codes of the grid's areas: from ``prefetch_related("areas")`` when the grid
        was read so (a worklist asks for them once per section), else one query."""
        cached = getattr(self, "_prefetched_objects_cache", {}).get("areas")
        if cached is not None:
            return sorted(area.code for area in cached)
        return list(self.areas.order_by("code").values_list("code", flat=True))

    def __str__(self) -> str:
        return self.name
