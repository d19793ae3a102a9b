"""Forms of the programme pages: a family, a child, the births certification, an
application, a village's notice and the steps of review, decision and appeal.

Forms only shape input; every rule is ``programmes.services``' (views call it through
``liudong.web.forms.apply_service``), so the page, the API and the CLI refuse alike.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liudong.accounts.models import User
from liudong.people.forms import DateInput, RegionCodeField, WholeNumberInput
from liudong.people.template import SEX_CHOICES
from liudong.regions.widgets import restrict

from .models import Application, ChildState, HouseholdType, Programme

BLANK = [("", "—")]
HOUSEHOLD_LENGTHS = (9, 12)  # the township, or better the village (the notice is posted there)


class VersionedForm(forms.Form):
    """Carries the version the user saw; the service refuses a save based on an old one."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class FamilyFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or ID number"), required=False, max_length=50)
    region = RegionCodeField(label=_("Region"), required=False, lengths=(6, 9, 12))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        restrict(self.fields["region"], under=user.region_id or "")


class FamilyForm(VersionedForm):
    applicant_name = forms.CharField(label=_("Applicant"), max_length=50)
    applicant_id_number = forms.CharField(
        label=_("Applicant ID number"), max_length=20, widget=forms.TextInput({"class": "code"})
    )
    spouse_name = forms.CharField(label=_("Spouse"), max_length=50, required=False)
    spouse_id_number = forms.CharField(
        label=_("Spouse ID number"),
        max_length=20,
        required=False,
        widget=forms.TextInput({"class": "code"}),
    )
    household_type = forms.ChoiceField(
        label=_("Household type"), choices=BLANK + list(HouseholdType.choices)
    )
    household_region = RegionCodeField(label=_("Household region"), lengths=HOUSEHOLD_LENGTHS)
    household_address = forms.CharField(
        label=_("Household address"), max_length=200, required=False
    )
    person_id_number = forms.CharField(
        label=_("Link the person file of (ID number)"),
        max_length=20,
        required=False,
        help_text=_("Optional: the applicant's or spouse's file on this system."),
        widget=forms.TextInput({"class": "code"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        restrict(self.fields["household_region"], under=user.region_id or "")

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class ChildForm(VersionedForm):
    name = forms.CharField(label=_("Name"), max_length=50, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=BLANK + list(SEX_CHOICES))
    birth_date = forms.DateField(label=_("Birth date"), widget=DateInput)
    state = forms.ChoiceField(label=_("State"), choices=ChildState.choices)
    death_date = forms.DateField(label=_("Death date"), widget=DateInput, required=False)
    disability_grade = forms.IntegerField(
        label=_("Disability grade (1–4)"), required=False, widget=WholeNumberInput
    )
    adopted = forms.BooleanField(label=_("Adopted"), required=False)

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class CertifyForm(VersionedForm):
    certified_on = forms.DateField(
        label=_("Certified on"), widget=DateInput, initial=timezone.localdate
    )
    note = forms.CharField(
        label=_("Note (who certified, on paper)"), max_length=200, required=False
    )


class ApplyForm(forms.Form):
    # Chosen with the check above the form (the check is for that parent).
    parent = forms.ChoiceField(label=_("Who applies"), widget=forms.HiddenInput)
    programme = forms.ModelChoiceField(label=_("Programme"), queryset=Programme.objects.none())
    applied_on = forms.DateField(
        label=_("Applied on"), widget=DateInput, initial=timezone.localdate
    )
    bank_card = forms.CharField(
        label=_("Bank card (一卡通)"),
        max_length=40,
        required=False,
        widget=forms.TextInput({"inputmode": "numeric", "autocomplete": "off", "class": "code"}),
    )

    def __init__(self, *args: Any, parents: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The parent is chosen by role, never by ID number: an ID number stays out of URLs.
        self.fields["parent"].choices = parents  # type: ignore[attr-defined]
        field = self.fields["programme"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Programme.objects.filter(active=True).order_by("code")


class NoticeVillageForm(forms.Form):
    village = RegionCodeField(label=_("Village"), lengths=(12,))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        restrict(self.fields["village"], under=user.region_id or "", lengths=(12,))


class ApplicationChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Application) -> str:
        return f"{obj.name} · {obj.programme.name} · {obj.applied_on:%Y-%m-%d}"


class NoticeForm(forms.Form):
    posted_on = forms.DateField(label=_("Posted on"), widget=DateInput, initial=timezone.localdate)
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput)
    applications = ApplicationChoices(
        label=_("Applications on the notice"),
        queryset=Application.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, waiting: QuerySet[Application], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["applications"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = waiting
        field.initial = list(waiting.values_list("pk", flat=True))


class ReasonForm(VersionedForm):
    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.Textarea({"rows": 3, "maxlength": 500})
    )


class AppealForm(VersionedForm):
    grounds = forms.CharField(
        label=_("Grounds of appeal"),
        required=False,
        widget=forms.Textarea({"rows": 3, "maxlength": 500}),
    )
