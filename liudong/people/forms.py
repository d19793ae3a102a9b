"""Forms for person files: arrival, departure, move within the jurisdiction, return home,
editing a file, and adding a child. The API validates with the same forms, so a rule is
written once; the changes themselves are the services' (``people.services``).

The ID number rules come from ``idnumbers``; region codes are looked up with
``regions.services.resolve_region``. A form never reads a person outside the user's scope,
except to refuse an ID number that is on file elsewhere without saying whose it is.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong.regions.models import Region
from liudong.regions.services import resolve_region_noting
from liudong.regions.widgets import RegionPicker, restrict

from . import idnumbers, services
from .models import EDUCATION_CHOICES, Child, Person, ResidenceEpisode
from .rows import ADDRESS_MAX, CHILDREN_MAX, HOUSEHOLD_LENGTHS, NAME_MAX, Problem, parse_phone
from .template import ETHNICITY_CHOICES, MARITAL_CHOICES, REASON_CHOICES, SEX_CHOICES

if TYPE_CHECKING:
    from liudong.actors import Actor


BLANK = (("", "—"),)
RESIDENCE_LENGTHS = (6, 9, 12, 15)
DESTINATION_LENGTHS = (6, 9, 12)
PERSONAL_FIELDS = services.ARRIVAL_PERSONAL_FIELDS
EDIT_FIELDS = services.EDITABLE_FIELDS


def today() -> datetime.date:
    return timezone.localdate()


class DateInput(forms.DateInput):
    """The browser's date picker (ISO value), big enough to tap on a phone."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class WholeNumberInput(forms.TextInput):
    """A small whole number typed on a phone's digit keyboard.

    Not ``type=number``: when the page was scrolled while a number input had the focus
    (seen at 375 px after a full-page screenshot in Chromium), tapping the submit button
    below it moved the focus out of the number input, Chromium scrolled that input back to
    where it had been between the press and the release, the release landed on another
    field and the tap submitted nothing. A text input with ``inputmode=numeric`` shows the
    same digit keyboard without that jump (and without a number input's spinner and
    mouse-wheel changes); the field still cleans to an integer."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"inputmode": "numeric", "pattern": "[0-9]*", **(attrs or {})})


class RegionCodeField(forms.CharField):
    """A region code, picked by name or typed (zero-padded forms accepted), cleaned to a
    known Region of one of ``lengths`` digits.

    Its widget is the region picker, searching at ``lengths``; a form narrows the search
    to the user's region with ``regions.widgets.restrict``. An old code is taken as its
    successor and any other unknown code as its nearest known parent, whatever its level
    (an ID card's county of 1990 may now be known only as a city): the region then carries
    ``resolution_warning``, which the view shows (``region_warnings``).
    """

    def __init__(self, *, lengths: tuple[int, ...] = RESIDENCE_LENGTHS, **kwargs: Any) -> None:
        self.lengths = lengths
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("widget", RegionPicker(lengths=lengths))
        super().__init__(**kwargs)

    def prepare_value(self, value: object) -> object:
        return value.code if isinstance(value, Region) else value

    def clean(self, value: object) -> Region | None:
        value = super().clean(value)
        if value in self.empty_values:
            return None
        region = resolve_region_noting(value)
        if len(region.code) not in self.lengths and not region.resolution_warning:
            raise ValidationError(
                _("Give a region code of %(lengths)s digits (county, township or village).")
                % {"lengths": ", ".join(str(n) for n in self.lengths)},
                code="level",
            )
        return region


def region_warnings(form: forms.BaseForm) -> list[str]:
    """What the form's region fields took an old or unknown code for, to show the user."""
    data = getattr(form, "cleaned_data", None) or {}
    return [
        value.resolution_warning
        for value in data.values()
        if isinstance(value, Region) and value.resolution_warning
    ]


def parse_id_number(raw: object) -> idnumbers.IdNumber:
    try:
        return idnumbers.parse(raw, today=today())
    except idnumbers.IdNumberError as exc:
        raise ValidationError(str(exc), code=exc.code) from exc


def sex_label(code: str) -> str:
    return dict(SEX_CHOICES).get(code, code)


def identity_problems(
    identity: idnumbers.IdNumber, sex: str, birth_date: datetime.date | None
) -> dict[str, str]:
    """Sex and birth date must agree with the ID number (empty ones are taken from it)."""
    problems = {}
    if sex and sex != identity.sex:
        problems["sex"] = _(
            "The sex does not agree with the ID number (its 17th digit says %(sex)s)."
        ) % {"sex": sex_label(identity.sex)}
    if birth_date and birth_date != identity.birth_date:
        problems["birth_date"] = _(
            "The birth date does not agree with the ID number (%(day)s)."
        ) % {"day": identity.birth_date.isoformat()}
    return problems


def check_day(day: datetime.date | None, birth_date: datetime.date | None) -> str | None:
    """Why a date of an event in a person's life cannot be right, or None."""
    if day is None:
        return None
    if day > today():
        return _("The date %(day)s is in the future.") % {"day": day}
    if birth_date and day < birth_date:
        return _("The date %(day)s is before the birth date.") % {"day": day}
    return None


def clean_phone(raw: str) -> str:
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        return parse_phone(raw)
    except Problem as problem:
        raise ValidationError(problem.message, code="phone") from problem


def person_initial(person: Person) -> dict:
    """A file's own fields as form values."""
    return {
        "id_number": person.id_number,
        "name": person.name,
        "sex": person.sex,
        "birth_date": person.birth_date,
        "ethnicity": person.ethnicity,
        "marital_status": person.marital_status,
        "phone": person.phone,
        "education": person.education,
        "household_region": person.household_region_id,
        "household_address": person.household_address,
        "spouse_id_number": person.spouse_id_number,
        "children_count": person.children_count,
        "version": person.version,
        "person_version": person.version,
    }


class ArrivalForm(forms.Form):
    """A person arrived to live in the user's region: a new file, or a new stay on a file
    already in scope (whose own fields are updated where the form says otherwise)."""

    id_number = forms.CharField(
        label=gettext_lazy("ID number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )
    name = forms.CharField(label=gettext_lazy("Full name"), max_length=NAME_MAX)
    sex = forms.ChoiceField(
        label=gettext_lazy("Sex"),
        choices=BLANK + SEX_CHOICES,
        required=False,
        help_text=gettext_lazy("Taken from the ID number when left empty."),
    )
    birth_date = forms.DateField(
        label=gettext_lazy("Birth date"),
        required=False,
        widget=DateInput,
        help_text=gettext_lazy("Taken from the ID number when left empty."),
    )
    ethnicity = forms.ChoiceField(
        label=gettext_lazy("Ethnicity"), choices=BLANK + ETHNICITY_CHOICES, required=False
    )
    marital_status = forms.ChoiceField(
        label=gettext_lazy("Marital status"), choices=BLANK + MARITAL_CHOICES
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    household_region = RegionCodeField(
        label=gettext_lazy("Household region"), lengths=HOUSEHOLD_LENGTHS
    )
    household_address = forms.CharField(
        label=gettext_lazy("Household address"), max_length=ADDRESS_MAX, required=False
    )
    residence_region = RegionCodeField(label=gettext_lazy("Residence region"))
    residence_address = forms.CharField(
        label=gettext_lazy("Residence address"), max_length=ADDRESS_MAX, required=False
    )
    arrival_date = forms.DateField(label=gettext_lazy("Arrival date"), widget=DateInput)
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason for moving"), choices=BLANK + REASON_CHOICES, required=False
    )
    employer = forms.CharField(
        label=gettext_lazy("Employer"), max_length=ADDRESS_MAX, required=False
    )
    # Set when the form was filled in from the file: its own fields then replace the file's.
    person_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.identity: idnumbers.IdNumber | None = None
        self.person: Person | None = None
        restrict(self.fields["residence_region"], under=user.region_id or "")

    def clean_id_number(self) -> str:
        self.identity = parse_id_number(self.cleaned_data["id_number"])
        self.person = services.find_for_arrival(self.user, self.identity.value)
        return self.identity.value

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean_residence_region(self) -> Region | None:
        region = self.cleaned_data["residence_region"]
        if region is not None and not region.code.startswith(self.user.region_id):
            raise ValidationError(
                _("The residence must lie in your region %(region)s.")
                % {"region": self.user.region_id},
                code="scope",
            )
        return region

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        identity = self.identity
        if identity is None:
            return data
        for field, message in identity_problems(
            identity, data.get("sex", ""), data.get("birth_date")
        ).items():
            self.add_error(field, message)
        if "sex" in data and not data["sex"]:
            data["sex"] = identity.sex
        if "birth_date" in data and not data["birth_date"]:
            data["birth_date"] = identity.birth_date
        problem = check_day(data.get("arrival_date"), identity.birth_date)
        if problem:
            self.add_error("arrival_date", problem)
        data["id_check_failed"] = not identity.check_ok
        return data

    @property
    def warnings(self) -> list[str]:
        """What is saved but wants a second look (a wrong check digit, a converted number)."""
        identity = self.identity
        if identity is None:
            return []
        found = region_warnings(self)
        if not identity.check_ok:
            found.append(
                _(
                    "The check digit of %(value)s is wrong; the file is kept "
                    "with a warning for staff to correct."
                )
                % {"value": identity.value}
            )
        if identity.converted_from_15:
            found.append(
                _("A 15-digit number was converted to %(value)s.") % {"value": identity.value}
            )
        return found

    def save(self) -> ResidenceEpisode:
        return services.save_arrival(
            acting_user=self.user, data=self.cleaned_data, person=self.person
        )


class OutflowForm(ArrivalForm):
    """The registration township opens the file of a person registered in its region who
    lives elsewhere (anywhere in China, or where is not known): an outflow file. A file
    already on record is changed through its own page, never opened twice."""

    residence_region = RegionCodeField(
        label=gettext_lazy("Where she lives now"),
        required=False,
        help_text=gettext_lazy("Anywhere in China; leave empty when it is not known."),
    )
    arrival_date = forms.DateField(
        label=gettext_lazy("Living there since"),
        widget=DateInput,
        required=False,
        help_text=gettext_lazy("Needed with the place: the day she began to live there."),
    )
    person_version = None  # type: ignore[assignment]  # never filled in from a file: only new files are opened here

    def __init__(self, *args: Any, user: Actor, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        # The pickers offer what this form accepts: a household in the user's region, a
        # residence anywhere (the arrival form's residence is the user's own region).
        restrict(self.fields["household_region"], under=user.region_id or "")
        restrict(self.fields["residence_region"], under="")

    def clean_id_number(self) -> str:
        value = super().clean_id_number()
        if self.person is not None:
            raise ValidationError(
                _("This person is already on file in your region: open her file instead."),
                code="known",
            )
        return value

    def clean_household_region(self) -> Region:
        region = self.cleaned_data["household_region"]
        if region is not None and not region.code.startswith(self.user.region_id):
            raise ValidationError(
                _("The household registration must lie in your region %(region)s.")
                % {"region": self.user.region_id},
                code="scope",
            )
        return region

    def clean_residence_region(self) -> Region | None:
        return self.cleaned_data["residence_region"]  # anywhere: that is the point

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("residence_region") is not None and not data.get("arrival_date"):
            self.add_error(
                "arrival_date", _("Give the day she began to live there, as far as known.")
            )
        return data

    def save(self) -> Person:  # type: ignore[override]
        return services.open_outflow_file(acting_user=self.user, data=self.cleaned_data)


class VersionedForm(forms.Form):
    """A change to a file based on the version the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("version", person.version)
        super().__init__(*args, **kwargs)
        self.person = person

    def check_version(self) -> bool:
        """False (with the form error) when the file changed since the form was shown."""
        seen = self.cleaned_data["version"]
        if seen != self.person.version:
            self.add_error(
                None,
                _("This record was changed by someone else (version %(theirs)s, yours %(yours)s).")
                % {"theirs": self.person.version, "yours": seen}
                + " "
                + _("Reload the file and try again."),
            )
            return False
        return True


class DepartureForm(VersionedForm):
    departure_date = forms.DateField(label=gettext_lazy("Departure date"), widget=DateInput)
    # Where she went, when known: any division from a county down, and/or a place in words.
    destination_region = RegionCodeField(
        label=gettext_lazy("Destination region"),
        lengths=DESTINATION_LENGTHS,
        required=False,
        help_text=gettext_lazy("Where she went, when known: a county, township or village."),
    )
    destination_place = forms.CharField(
        label=gettext_lazy("Destination in words"),
        max_length=ADDRESS_MAX,
        required=False,
        help_text=gettext_lazy("For example a city and district, or an address, as told."),
    )

    def clean_departure_date(self) -> datetime.date:
        day = self.cleaned_data["departure_date"]
        problem = check_day(day, self.person.birth_date)
        if problem:
            raise ValidationError(problem)
        return day


class MoveForm(VersionedForm):
    region = RegionCodeField(label=gettext_lazy("New residence region"))
    moved_on = forms.DateField(label=gettext_lazy("Moved on"), widget=DateInput)
    address = forms.CharField(
        label=gettext_lazy("New residence address"), max_length=ADDRESS_MAX, required=False
    )

    def __init__(self, *args: Any, user: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        restrict(self.fields["region"], under=user.region_id or "")

    def clean_region(self) -> Region:
        region = self.cleaned_data["region"]
        if not region.code.startswith(self.user.region_id):
            raise ValidationError(
                _("The residence must lie in your region %(region)s.")
                % {"region": self.user.region_id}
            )
        return region

    def clean_moved_on(self) -> datetime.date:
        day = self.cleaned_data["moved_on"]
        problem = check_day(day, self.person.birth_date)
        if problem:
            raise ValidationError(problem)
        return day


class ReturnForm(VersionedForm):
    returned_on = forms.DateField(label=gettext_lazy("Returned on"), widget=DateInput)

    def clean_returned_on(self) -> datetime.date:
        day = self.cleaned_data["returned_on"]
        problem = check_day(day, self.person.birth_date)
        if problem:
            raise ValidationError(problem)
        return day


class PersonEditForm(VersionedForm):
    """A file's own fields (the ID number and the residence have their own procedures)."""

    name = forms.CharField(label=gettext_lazy("Full name"), max_length=NAME_MAX)
    sex = forms.ChoiceField(label=gettext_lazy("Sex"), choices=SEX_CHOICES)
    birth_date = forms.DateField(label=gettext_lazy("Birth date"), widget=DateInput)
    ethnicity = forms.ChoiceField(
        label=gettext_lazy("Ethnicity"), choices=BLANK + ETHNICITY_CHOICES, required=False
    )
    marital_status = forms.ChoiceField(
        label=gettext_lazy("Marital status"), choices=MARITAL_CHOICES
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    education = forms.ChoiceField(
        label=gettext_lazy("Education"), choices=BLANK + EDUCATION_CHOICES, required=False
    )
    household_region = RegionCodeField(
        label=gettext_lazy("Household region"), lengths=HOUSEHOLD_LENGTHS
    )
    household_address = forms.CharField(
        label=gettext_lazy("Household address"), max_length=ADDRESS_MAX, required=False
    )
    spouse_id_number = forms.CharField(
        label=gettext_lazy("Spouse ID number"), max_length=40, required=False
    )
    children_count = forms.IntegerField(
        label=gettext_lazy("Number of children"),
        min_value=0,
        max_value=CHILDREN_MAX,
        required=False,
        widget=WholeNumberInput,
    )

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean_spouse_id_number(self) -> str:
        raw = self.cleaned_data["spouse_id_number"]
        if not raw.strip():
            return ""
        spouse = parse_id_number(raw)
        if spouse.value == self.person.id_number:
            raise ValidationError(_("The spouse's ID number is the person's own."))
        return spouse.value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        try:
            identity = idnumbers.parse(self.person.id_number)
        except idnumbers.IdNumberError:
            return data  # an old malformed number: nothing to agree with
        for field, message in identity_problems(
            identity, data.get("sex", ""), data.get("birth_date")
        ).items():
            self.add_error(field, message)
        return data

    def changes(self) -> dict:
        """The fields whose value differs from the file as loaded."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in EDIT_FIELDS and current_value(self.person, name) != value
        }


def current_value(person: Person, name: str) -> object:
    value = getattr(person, name)
    return "" if value is None and name not in ("birth_date", "children_count") else value


def shown(form: forms.Form, name: str, value: object) -> str:
    """A value as the form's field would name it (choice labels, region names)."""
    if value in (None, ""):
        return "—"
    if isinstance(value, Region):
        return f"{value.name} {value.code}"
    field = form.fields[name]
    if isinstance(field, forms.ChoiceField):
        labels: dict = dict(field.choices)  # type: ignore[arg-type]
        return str(labels.get(value, value))
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def stale_differences(form: PersonEditForm, current: Person) -> list[tuple[str, str]]:
    """(label, value now on file) for each field where the file, as someone else saved it,
    differs from what the user submitted."""
    found = []
    for name in EDIT_FIELDS:
        if name not in form.cleaned_data:
            continue
        submitted = form.cleaned_data[name]
        now = (
            current.household_region if name == "household_region" else current_value(current, name)
        )
        if now != submitted:
            found.append((str(form.fields[name].label), shown(form, name, now)))
    return found


class ChildForm(forms.Form):
    """A child of a person on file (a birth is vital statistics and a trigger for maternal
    and child services, nothing more)."""

    name = forms.CharField(label=gettext_lazy("Full name"), max_length=NAME_MAX, required=False)
    sex = forms.ChoiceField(label=gettext_lazy("Sex"), choices=SEX_CHOICES)
    birth_date = forms.DateField(label=gettext_lazy("Birth date"), widget=DateInput)
    birth_order = forms.IntegerField(
        label=gettext_lazy("Birth order"),
        min_value=1,
        max_value=CHILDREN_MAX,
        required=False,
        widget=WholeNumberInput,
    )
    birth_place = forms.CharField(
        label=gettext_lazy("Where born"), max_length=ADDRESS_MAX, required=False
    )
    id_number = forms.CharField(label=gettext_lazy("ID number"), max_length=40, required=False)

    def __init__(self, *args: Any, parent: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parent = parent

    def clean_birth_date(self) -> datetime.date:
        day = self.cleaned_data["birth_date"]
        problem = check_day(day, self.parent.birth_date)
        if problem:
            raise ValidationError(problem)
        return day

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        raw = data.get("id_number", "")
        if raw and raw.strip():
            try:
                identity = parse_id_number(raw)
            except ValidationError as exc:
                self.add_error("id_number", exc)
                return data
            data["id_number"] = identity.value
            for field, message in identity_problems(
                identity, data.get("sex", ""), data.get("birth_date")
            ).items():
                self.add_error(field, message)
        else:
            data["id_number"] = ""
        return data

    def save(self, *, acting_user: Actor) -> Child:
        return services.add_child(acting_user=acting_user, parent=self.parent, **self.cleaned_data)
