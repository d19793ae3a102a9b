"""Indicators as data (DESIGN.md §4): a county adds one in the web UI without a release.

The standard set DESIGN.md §5 lists ships as data (``standard.py``, installed by a
migration); its definitions are fixed, so every office's report means the same thing.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from liudong.base import TrackedModel

from . import definitions


class Unit(models.TextChoices):
    COUNT = "count", _("count")
    PERCENT = "percent", _("percent (%)")
    PERMILLE = "permille", _("per mille (‰)")
    PER_HUNDRED = "per_hundred", _("per hundred")


class Direction(models.TextChoices):
    HIGHER = "higher", _("higher is better")
    LOWER = "lower", _("lower is better")
    NEUTRAL = "neutral", _("neither")


class Indicator(TrackedModel):
    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        validators=[
            RegexValidator(
                definitions.CODE_PATTERN,
                _("Lower-case letters, digits and underscores, starting with a letter."),
            )
        ],
    )
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    unit = models.CharField(_("unit"), max_length=12, choices=Unit.choices)
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction.choices, default=Direction.HIGHER
    )
    definition = models.JSONField(_("definition"))
    standard = models.BooleanField(_("standard (shipped)"), default=False)
    position = models.PositiveSmallIntegerField(_("position in reports"), default=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"

    @property
    def parsed(self) -> definitions.Definition:
        return definitions.parse(self.definition)

    @property
    def is_count(self) -> bool:
        return isinstance(self.parsed, definitions.Count)

    def clean(self) -> None:
        parsed = definitions.parse(self.definition)
        is_count = isinstance(parsed, definitions.Count)
        if is_count != (self.unit == Unit.COUNT):
            raise ValidationError(
                {"unit": _("A count has the unit “count”; a ratio has a rate's unit.")}
            )
        for code in definitions.referenced_codes(parsed):
            other = Indicator.objects.filter(code=code).first()
            if other is None:
                raise ValidationError(
                    {"definition": _("No indicator has the code “%(code)s”.") % {"code": code}}
                )
            if not other.is_count:
                raise ValidationError(
                    {
                        "definition": _("“%(code)s” is itself a ratio: a ratio divides counts.")
                        % {"code": code}
                    }
                )
