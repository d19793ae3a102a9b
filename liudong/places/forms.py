"""Forms of the place pages: employers, rental houses, sites, agreements, safety issues,
recording a rectification and linking a resident's stay. They only check what a field
can say on its own (a date, a number, a region code, a person in scope); the rules
(credit code check character, duplicates, an agreement ending before it starts, dates of
a hazard) are ``places.services``', whose refusals the views put on these fields.

A form never saves: ``values()`` gives the keyword arguments of the service call.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong.people import idnumbers
from liudong.people.forms import DateInput, RegionCodeField
from liudong.people.models import Person, ResidenceEpisode
from liudong.records import RecordForm

from .models import Agreement, Employer, RentalHouse, Site

PLACE_REGION_LENGTHS = (6, 9, 12, 15)


class PlaceForm(RecordForm):
    """A record's own fields plus the version the user started from (a hidden field:
    a save based on an older version is refused by the service): the generic record
    form (``liudong.records``), so the generic pages take the hand-written place forms."""


def _region_field() -> RegionCodeField:
    return RegionCodeField(
        label=gettext_lazy("Region code"),
        lengths=PLACE_REGION_LENGTHS,
        help_text=gettext_lazy("The village (12 digits) or township (9 digits) it lies in."),
    )


class EmployerForm(PlaceForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    credit_code = forms.CharField(
        label=gettext_lazy("Unified social credit code"),
        max_length=30,
        required=False,
        help_text=gettext_lazy("18 characters; leave empty for a small employer without one."),
    )
    address = forms.CharField(label=gettext_lazy("Address"), max_length=200, required=False)
    region = _region_field()
    contact_name = forms.CharField(label=gettext_lazy("Contact"), max_length=50, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=30, required=False)
    industry = forms.CharField(label=gettext_lazy("Industry"), max_length=100, required=False)


class RentalHouseForm(PlaceForm):
    address = forms.CharField(label=gettext_lazy("Address"), max_length=200)
    region = _region_field()
    landlord_name = forms.CharField(
        label=gettext_lazy("Landlord name"), max_length=50, required=False
    )
    landlord_phone = forms.CharField(
        label=gettext_lazy("Landlord phone"), max_length=30, required=False
    )
    landlord = forms.CharField(
        label=gettext_lazy("Landlord's ID number (if on file)"),
        max_length=30,
        required=False,
        help_text=gettext_lazy(
            "Optional: links the house to the landlord's person file in your region. "
            "Leave empty to keep the landlord as recorded."
        ),
    )
    rooms = forms.IntegerField(
        label=gettext_lazy("Rooms"), min_value=0, max_value=9999, required=False
    )
    capacity = forms.IntegerField(
        label=gettext_lazy("Tenant capacity"), min_value=0, max_value=9999, required=False
    )

    def clean_landlord(self) -> Person | None:
        typed = idnumbers.normalise(self.cleaned_data.get("landlord"))
        if not typed:
            return None
        person = Person.objects.in_scope(self.user).filter(id_number=typed).first()
        if person is None:
            raise ValidationError(
                _("No person with this ID number is on file in your region."), code="unknown"
            )
        return person

    def values(self) -> dict:
        values = super().values()
        if values.get("landlord") is None:
            values.pop("landlord", None)  # empty: the landlord on file stays
        return values


class SiteForm(PlaceForm):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Site.Kind.choices)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    address = forms.CharField(label=gettext_lazy("Address"), max_length=200, required=False)
    region = _region_field()
    contact_name = forms.CharField(label=gettext_lazy("Contact"), max_length=50, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=30, required=False)


def place_key(place: Any) -> str:
    return f"{PLACE_FIELD[type(place)]}:{place.pk}"


PLACE_FIELD: dict[Any, str] = {
    Employer: "employer",
    RentalHouse: "rental_house",
    Site: "site",
}
PLACE_MODEL: dict[str, Any] = {field: model for model, field in PLACE_FIELD.items()}


class _PlaceChoiceForm(PlaceForm):
    """A form about one place: fixed by the page it was opened from, or chosen from the
    places in the user's region (``place`` field)."""

    place_models: tuple[Any, ...] = ()

    def __init__(self, *args: Any, user: Any, place: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.place = place
        if place is None:
            self.fields["place"] = forms.ChoiceField(
                label=gettext_lazy("Place"), choices=self._place_choices()
            )
            self.order_fields(["place"])

    def _place_choices(self) -> list:
        choices: list = [("", "—")]
        for model in self.place_models:
            places = model.objects.in_scope(self.user).order_by("region_id", "pk")
            choices.append(
                (
                    str(model._meta.verbose_name_plural),
                    [(place_key(p), str(p)) for p in places],
                )
            )
        return choices

    def clean_place(self) -> Any:
        field, _sep, pk = self.cleaned_data["place"].partition(":")
        model = PLACE_MODEL.get(field)
        if model is None or model not in self.place_models or not pk.isdigit():
            raise ValidationError(_("Choose a place."), code="invalid")
        place = model.objects.in_scope(self.user).filter(pk=int(pk)).first()
        if place is None:
            raise ValidationError(_("Choose a place."), code="invalid")
        return place

    def values(self) -> dict:
        values = super().values()
        place = values.pop("place", None) or self.place
        if place is not None and self.is_new:
            values[PLACE_FIELD[type(place)]] = place
        return values

    @property
    def is_new(self) -> bool:
        return self.initial.get("version") is None


class AgreementForm(_PlaceChoiceForm):
    place_models = (Employer, RentalHouse, Site)

    kind = forms.ChoiceField(label=gettext_lazy("Type"), choices=Agreement.Kind.choices)
    signed_on = forms.DateField(label=gettext_lazy("Signed on"), widget=DateInput)
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"), widget=DateInput, required=False
    )
    duties = forms.CharField(
        label=gettext_lazy("Duties"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )


class SafetyIssueForm(_PlaceChoiceForm):
    place_models = (RentalHouse,)

    hazard = forms.CharField(label=gettext_lazy("Hazard"), widget=forms.Textarea(attrs={"rows": 3}))
    found_on = forms.DateField(label=gettext_lazy("Found on"), widget=DateInput)
    deadline = forms.DateField(label=gettext_lazy("Rectification deadline"), widget=DateInput)
    rectified_on = forms.DateField(
        label=gettext_lazy("Rectified on"), widget=DateInput, required=False
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class RectifyForm(forms.Form):
    """Record that a hazard was put right (the register's last column)."""

    rectified_on = forms.DateField(label=gettext_lazy("Rectified on"), widget=DateInput)
    version = forms.IntegerField(widget=forms.HiddenInput)


class LinkResidentForm(forms.Form):
    """A resident by ID number: a person in the user's region with an open stay there."""

    id_number = forms.CharField(
        label=gettext_lazy("Resident's ID number"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_id_number(self) -> ResidenceEpisode:
        typed = idnumbers.normalise(self.cleaned_data["id_number"])
        person = Person.objects.in_scope(self.user).filter(id_number=typed).first()
        if person is None:
            raise ValidationError(
                _("No person with this ID number is on file in your region."), code="unknown"
            )
        episode = (
            ResidenceEpisode.objects.in_scope(self.user)
            .open()
            .filter(person=person, region__code__startswith=self.user.region_id)
            .select_related("person")
            .first()
        )
        if episode is None:
            raise ValidationError(
                _("%(name)s has no current stay in your region.") % {"name": person.name},
                code="no_stay",
            )
        return episode


def today_initial() -> dict:
    return {"found_on": timezone.localdate()}


def initial_of(obj: Any, fields: tuple[str, ...]) -> dict:
    """A record's values as the form's initial data (region as its code)."""
    initial = {}
    for name in fields:
        if name == "region":
            initial[name] = obj.region_id
        elif name == "landlord":
            continue  # an ID number is not shown back in a form
        elif name in PLACE_MODEL or name == "rental_house":
            continue
        else:
            initial[name] = getattr(obj, name)
    initial["version"] = obj.version
    return initial
