"""Places where floating people work and live: employers, rental houses, markets and
construction sites; the agreements (责任书/服务协议) signed with them; and the safety and
rectification register of rental houses.

Each place lies in one region (a village, township or county code); agreements and
safety issues are scoped through their place. The rules are in ``places.services``.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from liudong.base import ScopedQuerySet, TrackedModel
from liudong.regions.models import Region


def _region_field() -> models.ForeignKey:
    return models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="+",
    )


class Employer(TrackedModel):
    """用工单位. Small employers (a workshop, a stall) often have no credit code: they are
    then known by name within their region."""

    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=200, blank=True)
    region = _region_field()
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["region_id", "name", "id"]
        verbose_name = _("employer")
        verbose_name_plural = _("employers")
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="employer_credit_code_unique",
            ),
            # Without a code the name within the region is the employer's key (the
            # importer matches on it), so it must be one employer.
            models.UniqueConstraint(
                fields=["region", "name"],
                condition=Q(credit_code=""),
                name="employer_name_region_unique_without_code",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RentalHouse(TrackedModel):
    """出租房屋, known by its address within its region. The landlord is a person on file
    or just a name and phone."""

    address = models.CharField(_("address"), max_length=200)
    region = _region_field()
    landlord = models.ForeignKey(
        "people.Person",
        verbose_name=_("landlord (person on file)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rental_houses",
    )
    landlord_name = models.CharField(_("landlord name"), max_length=50, blank=True)
    landlord_phone = models.CharField(_("landlord phone"), max_length=20, blank=True)
    rooms = models.PositiveSmallIntegerField(_("rooms"), null=True, blank=True)
    capacity = models.PositiveSmallIntegerField(_("tenant capacity"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["region_id", "address", "id"]
        verbose_name = _("rental house")
        verbose_name_plural = _("rental houses")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "address"], name="rental_house_address_unique"
            )
        ]

    def __str__(self) -> str:
        return self.address


class Site(TrackedModel):
    """A market, construction site, service station or other place where floating people
    gather or are served."""

    class Kind(models.TextChoices):
        MARKET = "market", _("market")
        CONSTRUCTION = "construction", _("construction site")
        # A family-planning service station or centre (服务站/服务中心): where services
        # are given, named as the provider of a service record.
        SERVICE_STATION = "service_station", _("service station or centre")
        OTHER = "other", _("other")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=200, blank=True)
    region = _region_field()
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["region_id", "name", "id"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return self.name


PLACE_FIELDS = ("employer", "rental_house", "site")


class AgreementQuerySet(ScopedQuerySet):
    def expiring(self, today: datetime.date, within_days: int) -> AgreementQuerySet:
        """Still valid today and ending within ``within_days`` days."""
        return self.filter(
            valid_until__gte=today, valid_until__lte=today + datetime.timedelta(days=within_days)
        )


class Agreement(TrackedModel):
    """责任书/服务协议 with one place on its duties to report arrivals and give access to
    services. Three nullable keys (one per kind of place) keep real foreign keys, which
    a generic relation would not."""

    class Kind(models.TextChoices):
        SERVICE = "service", _("family-planning service agreement")
        RESPONSIBILITY = "responsibility", _("management responsibility")
        OTHER = "other", _("other")

    employer = models.ForeignKey(
        Employer,
        verbose_name=_("employer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreements",
    )
    rental_house = models.ForeignKey(
        RentalHouse,
        verbose_name=_("rental house"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreements",
    )
    site = models.ForeignKey(
        Site,
        verbose_name=_("site"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreements",
    )
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    signed_on = models.DateField(_("signed on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    duties = models.TextField(_("duties"), blank=True)

    scope_fields = ("employer__region", "rental_house__region", "site__region")
    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["valid_until", "id"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(employer__isnull=False, rental_house__isnull=True, site__isnull=True)
                    | Q(employer__isnull=True, rental_house__isnull=False, site__isnull=True)
                    | Q(employer__isnull=True, rental_house__isnull=True, site__isnull=False)
                ),
                name="agreement_exactly_one_place",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("signed_on")),
                name="agreement_ends_after_signing",
            ),
        ]

    @property
    def place(self) -> Employer | RentalHouse | Site:
        return self.employer or self.rental_house or self.site  # type: ignore[return-value]

    @property
    def region_id(self) -> str:
        return self.place.region_id

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.place} {self.signed_on}"


class SafetyIssueQuerySet(ScopedQuerySet):
    def open(self) -> SafetyIssueQuerySet:
        return self.filter(rectified_on__isnull=True)

    def register_order(self, today: datetime.date) -> SafetyIssueQuerySet:
        """Open and overdue first, then open by deadline, then the rectified ones."""
        rank = models.Case(
            models.When(rectified_on__isnull=True, deadline__lt=today, then=models.Value(0)),
            models.When(rectified_on__isnull=True, then=models.Value(1)),
            default=models.Value(2),
            output_field=models.IntegerField(),
        )
        return self.annotate(register_rank=rank).order_by("register_rank", "deadline", "id")


class SafetyIssue(TrackedModel):
    """A hazard found in a rental house, its rectification deadline and when it was put
    right (the safety and rectification register)."""

    rental_house = models.ForeignKey(
        RentalHouse,
        verbose_name=_("rental house"),
        on_delete=models.PROTECT,
        related_name="safety_issues",
    )
    hazard = models.TextField(_("hazard"))
    found_on = models.DateField(_("found on"))
    deadline = models.DateField(_("rectification deadline"))
    rectified_on = models.DateField(_("rectified on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    scope_fields = ("rental_house__region",)
    objects = SafetyIssueQuerySet.as_manager()

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("safety issue")
        verbose_name_plural = _("safety issues")
        constraints = [
            models.CheckConstraint(
                condition=Q(deadline__gte=models.F("found_on")),
                name="safety_deadline_after_found",
            ),
            models.CheckConstraint(
                condition=Q(rectified_on__isnull=True) | Q(rectified_on__gte=models.F("found_on")),
                name="safety_rectified_after_found",
            ),
        ]

    @property
    def region_id(self) -> str:
        return self.rental_house.region_id

    def __str__(self) -> str:
        return f"{self.rental_house} {self.found_on}"
