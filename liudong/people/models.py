"""Person files, their family members and residence history.

A person is keyed by the 18-character ID number. The current residence (from the open
residence episode) and whether the person is floating are kept on the person itself, so
scoping and statistics are index range scans on two code columns.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Self

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from liudong.base import ScopedQuerySet, TrackedModel
from liudong.regions.models import Region

from .template import ETHNICITY_CHOICES, MARITAL_CHOICES, MARRIED_CODES, REASON_CHOICES, SEX_CHOICES

if TYPE_CHECKING:
    from liudong.actors import Caller

EDUCATION_CHOICES = (
    ("10", "研究生"),
    ("20", "大学本科"),
    ("30", "大学专科"),
    ("40", "中等专科"),
    ("60", "普通高中"),
    ("70", "初中"),
    ("80", "小学"),
    ("90", "其他"),
)


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    """Whole years at ``day`` (DESIGN.md §5: ages at the reference date)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


class PersonQuerySet(ScopedQuerySet):
    def active(self) -> PersonQuerySet:
        return self.filter(merged_into__isnull=True)

    def floating(self) -> PersonQuerySet:
        return self.filter(is_floating=True, merged_into__isnull=True)

    def outflow(self, prefix: str) -> PersonQuerySet:
        """Floating persons registered (household) in the region."""
        from liudong.regions.codes import subtree_q

        return self.floating().filter(subtree_q(prefix, "household_region"))

    def matching_in_region(self, region: str, condition: models.Q) -> PersonQuerySet:
        """Those of these files that match ``condition`` with their household or their
        residence in ``region``, found one scope field at a time: SQLite reads each
        branch from the (region, name) index alone, where for the two-field OR it
        walked every file of that name in the province (a county's "王": 570 ms at a
        million files, 2 ms this way). It only narrows: the scope stays as it was."""
        from liudong.regions.codes import subtree_q

        branches = [
            Person.objects.filter(subtree_q(region, field), condition).order_by().values("pk")
            for field in Person.scope_fields
        ]
        return self.filter(pk__in=branches[0].union(*branches[1:]))

    def inflow(self, prefix: str) -> PersonQuerySet:
        """Floating persons living (current residence) in the region."""
        from liudong.regions.codes import subtree_q

        return self.floating().filter(subtree_q(prefix, "residence_region"))


class Person(TrackedModel):
    id_number = models.CharField(_("ID number"), max_length=18, unique=True)
    # A wrong check character is kept (real registers hold them) and shown for fixing.
    id_check_failed = models.BooleanField(_("check digit wrong"), default=False)
    # Byte order, the same on both databases ("binary" is SQLite's own and migration
    # 0004 makes it PostgreSQL's C collation): one index on name then serves equality,
    # a prefix search and the list's ordering by name. Under a language collation
    # PostgreSQL walked the whole index for "王%" (1.3 s at a million files).
    # "name" in the context of a person is 姓名 (a place's name is 名称); a context, not a
    # new verbose name, so the migrations' state is unchanged.
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50, db_collation="binary")
    # Byte order too, so that the index on (initials, name) serves both a prefix search
    # and the order an initials search lists in (people.filters.search_persons).
    name_initials = models.CharField(_("pinyin initials"), max_length=50, db_collation="binary")
    sex = models.CharField(_("sex"), max_length=1, choices=SEX_CHOICES)
    birth_date = models.DateField(_("birth date"))
    ethnicity = models.CharField(
        _("ethnicity"), max_length=2, choices=ETHNICITY_CHOICES, blank=True
    )
    marital_status = models.CharField(_("marital status"), max_length=2, choices=MARITAL_CHOICES)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    education = models.CharField(
        _("education"), max_length=2, choices=EDUCATION_CHOICES, blank=True
    )
    household_region = models.ForeignKey(
        Region,
        verbose_name=_("household region"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # Meta.indexes: one index, not a second one for LIKE
    )
    household_address = models.CharField(_("household address"), max_length=200, blank=True)
    residence_region = models.ForeignKey(
        Region,
        verbose_name=_("residence region"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,  # Meta.indexes
        help_text=_(
            "From the open residence episode; empty when the person left for an unknown place."
        ),
    )
    residence_address = models.CharField(_("residence address"), max_length=200, blank=True)
    is_floating = models.BooleanField(_("floating"), default=False)
    spouse_id_number = models.CharField(_("spouse ID number"), max_length=18, blank=True)
    spouse = models.ForeignKey(
        "self",
        verbose_name=_("spouse"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # Meta.indexes: only the few files that have one
    )
    children_count = models.PositiveSmallIntegerField(_("children"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_files",
        db_index=False,  # Meta.indexes: only the few merged files
    )

    scope_fields = ("household_region", "residence_region")
    # The resident reads her own file (ScopedQuerySet.of_resident).
    resident_path = "pk"
    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        # Every index costs each imported row a write: one index per question the
        # system asks (bench/import_persons.py measures it), none for a yes/no column.
        # varchar_pattern_ops serves both = and LIKE 'x%' on PostgreSQL (elsewhere the
        # opclass is ignored and the index is a plain one).
        indexes = [
            # Duplicates (same name and birth date), name prefixes, ordering by name.
            models.Index(fields=["name", "birth_date"], name="person_name_birth_idx"),
            models.Index(fields=["name_initials", "name"], name="person_initials_name_idx"),
            models.Index(
                fields=["phone"], name="person_phone_idx", opclasses=["varchar_pattern_ops"]
            ),
            # The scope (household or residence in the actor's region), then the name: a
            # name search of a county reads each branch of the scope already narrowed by
            # the name prefix, from the index alone, not every file of that name in the
            # province (bench/search.py). The region alone (foreign keys, subtree counts)
            # is served by the same index's first column.
            models.Index(fields=["household_region", "name"], name="person_household_name_idx"),
            models.Index(fields=["residence_region", "name"], name="person_residence_name_idx"),
            models.Index(
                fields=["spouse"],
                name="person_spouse_idx",
                condition=models.Q(spouse__isnull=False),
            ),
            models.Index(
                fields=["merged_into"],
                name="person_merged_into_idx",
                condition=models.Q(merged_into__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        from .idnumbers import mask

        return f"{self.name} {mask(self.id_number)}"

    def age_on(self, day: datetime.date) -> int:
        return age_on(self.birth_date, day)

    def is_wcba(self, on: datetime.date) -> bool:
        """Woman of childbearing age, 15-49 at ``on``."""
        return self.sex == "2" and 15 <= self.age_on(on) <= 49

    def is_adult_wcba(self, on: datetime.date) -> bool:
        """Adult woman of childbearing age, 18-49 at ``on``."""
        return self.sex == "2" and 18 <= self.age_on(on) <= 49

    @property
    def is_married(self) -> bool:
        return self.marital_status in MARRIED_CODES


class EpisodeQuerySet(ScopedQuerySet):
    def open(self) -> EpisodeQuerySet:
        return self.filter(departure_date__isnull=True)


class ResidenceEpisode(TrackedModel):
    """One stay at one place: from arrival to departure (open while departure is empty)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="episodes")
    region = models.ForeignKey(
        Region,
        verbose_name=_("residence region"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # Meta.indexes
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    arrival_date = models.DateField(_("arrival date"))
    reason = models.CharField(_("reason"), max_length=10, choices=REASON_CHOICES, blank=True)
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    employer_place = models.ForeignKey(
        "places.Employer",
        verbose_name=_("employer (place)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="episodes",
    )
    rental_house = models.ForeignKey(
        "places.RentalHouse",
        verbose_name=_("rental house"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="episodes",
    )
    housing = models.CharField(_("housing"), max_length=100, blank=True)
    departure_date = models.DateField(_("departure date"), null=True, blank=True)
    # Where she went when the stay ended, as far as the office was told: a division of any
    # level (county, township or village), a place in words, both or neither.
    destination_region = models.ForeignKey(
        Region,
        verbose_name=_("destination region"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,  # never searched by; a division is not deleted while in use
    )
    destination_place = models.CharField(_("where she went"), max_length=200, blank=True)
    # The residence checked her marriage-and-childbearing certificate or exchanged record.
    verified_on = models.DateField(_("verified on"), null=True, blank=True)

    # The stay's own place, and the person's registration and current residence: the
    # place she lives now sees her earlier stays too.
    scope_fields = ("region", "person__household_region", "person__residence_region")
    # The resident reads her stays herself (ScopedQuerySet.of_resident).
    resident_path = "person"
    objects = EpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["person_id", "-arrival_date", "-id"]
        verbose_name = _("residence episode")
        verbose_name_plural = _("residence episodes")
        indexes = [models.Index(fields=["region"], name="episode_region_idx")]
        constraints = [
            # At most one open episode per person: "where she lives now" is one place.
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(departure_date__isnull=True),
                name="episode_one_open_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.arrival_date}–{self.departure_date or ''}"


class Child(TrackedModel):
    """A child of a person on file. A birth recorded here is vital statistics only."""

    parent = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="children")
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=SEX_CHOICES)
    birth_date = models.DateField(_("birth date"))
    birth_order = models.PositiveSmallIntegerField(_("birth order"), null=True, blank=True)
    birth_place = models.CharField(_("where born"), max_length=200, blank=True)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)

    scope_fields = ("parent__household_region", "parent__residence_region")
    # The resident reads her children as recorded (ScopedQuerySet.of_resident).
    resident_path = "parent"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["parent_id", "birth_date"]
        verbose_name = _("child")
        verbose_name_plural = _("children")

    def __str__(self) -> str:
        return f"{self.name or '—'} {self.birth_date}"


class HeldCertificate(TrackedModel):
    """A marriage-and-childbearing certificate named in an imported register row.

    Kept as the register states it (nothing a file brings is lost). One issued elsewhere is
    an external certificate with its issuer; one this node issued to the same woman is
    linked to its record (``certificate``) when the row is imported.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="held_certificates")
    number = models.CharField(_("certificate number"), max_length=40)
    issuer = models.CharField(_("issuing region"), max_length=15, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    # The issuing place's node reported it revoked: it no longer verifies here.
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)
    certificate = models.ForeignKey(
        "certificates.Certificate",
        verbose_name=_("certificate issued here"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    scope_fields = ("person__household_region", "person__residence_region")
    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "number"], name="held_certificate_unique")
        ]

    def __str__(self) -> str:
        return self.number


class DuplicateQuerySet(ScopedQuerySet):
    def open(self) -> DuplicateQuerySet:
        return self.filter(status=PossibleDuplicate.Status.OPEN)

    def in_scope(self, user: Caller) -> Self:
        """Pairs whose two files both lie in the user's scope: a pair across two
        townships is decided by the office above both (it sees both files), and neither
        township learns about the other's file."""
        return super().in_scope(user).filter(second__in=Person.objects.in_scope(user).values("pk"))


class PossibleDuplicate(TrackedModel):
    """Two files that may be one person: staff merge them (reversibly) or dismiss the pair."""

    class Reason(models.TextChoices):
        NAME_AND_BIRTH = "name_birth", _("same name and birth date, different ID numbers")
        TRANSPOSED_ID = "transposed", _("ID numbers one transposition apart")

    class Status(models.TextChoices):
        OPEN = "open", _("to decide")
        MERGED = "merged", _("merged")
        DISMISSED = "dismissed", _("not the same person")

    first = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    kept = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # What a merge moved, so that it can be undone exactly.
    merge_record = models.JSONField(null=True, blank=True)

    scope_fields = ("first__household_region", "first__residence_region")
    objects = DuplicateQuerySet.as_manager()

    class Meta:
        ordering = ["status", "-created"]
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="duplicate_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")), name="duplicate_pair_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_id} ~ {self.second_id} ({self.reason})"


class CorrectionQuerySet(ScopedQuerySet):
    pass


class CorrectionRequest(TrackedModel):
    """She asks for a field of her file to be corrected (PIPL art. 46; issue 19): the office
    holding her file accepts it (the change goes through the person services) or refuses it
    with a reason she reads. Here, below the residents' pages, because the office's
    to-do list and the statistics of its work (stats, a domain app) count it.

    ``holding_region`` is the township whose work list it lands in: her residence's
    township while she lives in a place this node serves (the office that registered her
    stay keeps her file day to day and she can walk in), else her household registration's
    (the outflow office keeps her file when she lives elsewhere or left for a place not
    known). Both see her file (``Person.scope_fields``); one of them must answer."""

    class Status(models.TextChoices):
        OPEN = "open", _("waiting for the office")
        ACCEPTED = "accepted", _("corrected")
        REFUSED = "refused", _("not corrected")

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="+"
    )
    field = models.CharField(_("field"), max_length=30)
    # What her page showed her when she asked (so the office sees what she saw).
    current_value = models.CharField(_("value recorded"), max_length=200, blank=True)
    requested_value = models.CharField(_("correct value"), max_length=200)
    note = models.CharField(_("note"), max_length=500)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)  # why refused
    deadline = models.DateField(_("deadline"))
    answered_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    # Its local day: the statistic compares it with the deadline, a date on both databases.
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    holding_region = models.ForeignKey(
        Region,
        verbose_name=_("office"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # Meta.indexes
    )

    scope_fields = ("holding_region",)
    # She reads her own requests (ScopedQuerySet.of_resident).
    resident_path = "person"
    objects = CorrectionQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        indexes = [
            # The office's open requests (its to-do list) and the statistic by deadline.
            models.Index(fields=["holding_region", "status"], name="correction_region_idx"),
            models.Index(fields=["person"], name="correction_person_idx"),
        ]

    def __str__(self) -> str:
        # No name or ID number: this text goes into the audit log.
        return f"correction {self.pk} ({self.field})"

    @property
    def answered_on_time(self) -> bool:
        return self.answered_on is not None and self.answered_on <= self.deadline
