"""Forms of the services pages: campaigns and activities, association branches, members
and their activities, help requests, service records and follow-ups, and the upload of
an import file.

Forms only shape input; the rules and the changes are the sub-domains' ``services`` (views call
them through ``liudong.web.forms.apply_service``). Region and handler choices come from
the user's own region, so a form never offers what the service would refuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from liudong.places.models import Site

    from .models import Campaign

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liudong.accounts.models import User
from liudong.accounts.roles import RECORD_SERVICES, can
from liudong.people.forms import DateInput
from liudong.regions.models import Region
from liudong.regions.widgets import RegionPicker
from liudong.services.common import child_length
from liudong.services.spreadsheets import RowProblem, find_person, region_choices

from .models import (
    CampaignKind,
    ContraceptiveMethod,
    HelpCategory,
    HelpRequest,
    HelpStatus,
    MemberRole,
    ServiceType,
    ancestor_codes,
)

BLANK = [("", "—")]


def _region_label(region: Region) -> str:
    return f"{region.name} {region.code}"


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return _region_label(obj)


class RegionsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return _region_label(obj)


def _choices(form: forms.Form, name: str) -> forms.ModelChoiceField:
    """A model choice field of ``form`` (typed, so its queryset can be set)."""
    return cast(forms.ModelChoiceField, form.fields[name])


def _regions(regions: list[Region]) -> QuerySet[Region]:
    return Region.objects.filter(code__in=[r.code for r in regions]).order_by("code")


# A list longer than this (a county's townships and villages) is searched, not scrolled.
PICKER_AFTER = 15


def _offer_regions(form: forms.Form, name: str, regions: list[Region], user: User) -> None:
    """The field's choices; a long list is offered through the region picker (the field
    still accepts only these codes)."""
    field = _choices(form, name)
    field.queryset = _regions(regions)
    if len(regions) > PICKER_AFTER:
        lengths = sorted({len(r.code) for r in regions})
        field.widget = RegionPicker(under=user.region_id or "", lengths=lengths)


class VersionedForm(forms.Form):
    """Carries the version the user saw; the service refuses a save based on an old one."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class CampaignForm(VersionedForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=BLANK + list(CampaignKind.choices))
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput)
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput)
    regions = RegionsField(
        label=_("Regions covered"),
        queryset=Region.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Each region with everything below it."),
    )
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, user: User, current: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The user's own region and its direct children, plus what the campaign covers.
        own = [r for r in region_choices(user) if len(r.code) <= child_length(user.region_id or "")]
        codes = {r.code for r in own} | set(current)
        _choices(self, "regions").queryset = Region.objects.filter(code__in=codes).order_by("code")

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"].strip(),
            "kind": data["kind"],
            "starts_on": data["starts_on"],
            "ends_on": data["ends_on"],
            "regions": list(data["regions"]),
            "description": data["description"],
        }


class ActivityForm(VersionedForm):
    date = forms.DateField(label=_("Date"), widget=DateInput)
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    region = RegionChoiceField(label=_("Region"), queryset=Region.objects.none())
    participants_count = forms.IntegerField(label=_("Participants"), min_value=0, initial=0)
    materials_count = forms.IntegerField(
        label=_("Information materials handed out"), min_value=0, initial=0
    )
    free_contraceptives_count = forms.IntegerField(
        label=_("Free contraceptives handed out on request"),
        min_value=0,
        initial=0,
        help_text=_("Only what people asked for: a count of supplies, never a target."),
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, user: User, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer_regions(self, "region", region_choices(user, within=campaign.region_codes()), user)

    def values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class BranchForm(VersionedForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    region = RegionChoiceField(label=_("Region"), queryset=Region.objects.none())
    place = forms.CharField(label=_("Place (employer, market …)"), max_length=200, required=False)
    founded_on = forms.DateField(label=_("Founded on"), widget=DateInput, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer_regions(self, "region", region_choices(user), user)

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"].strip(),
            "region": data["region"],
            "place": data["place"].strip(),
            "founded_on": data["founded_on"],
        }


class PersonByIdForm(forms.Form):
    """A person chosen by her ID number, among the files in the user's region."""

    id_number = forms.CharField(
        label=_("ID number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        # Set by clean_id_number: the file in the user's scope (Any: None until cleaned).
        self.person: Any = None

    def clean_id_number(self) -> str:
        try:
            self.person = find_person(self.user, self.cleaned_data["id_number"])
        except RowProblem as problem:
            raise ValidationError(problem.message) from problem
        return self.person.id_number


class MemberForm(PersonByIdForm):
    role = forms.ChoiceField(label=_("Role"), choices=MemberRole.choices)
    joined_on = forms.DateField(label=_("Joined on"), widget=DateInput)


class MembershipEditForm(VersionedForm):
    role = forms.ChoiceField(label=_("Role"), choices=MemberRole.choices)
    joined_on = forms.DateField(label=_("Joined on"), widget=DateInput)
    left_on = forms.DateField(
        label=_("Left on"),
        widget=DateInput,
        required=False,
        help_text=_("Fill in when the member has left the branch."),
    )

    def values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class AssociationActivityForm(VersionedForm):
    date = forms.DateField(label=_("Date"), widget=DateInput)
    title = forms.CharField(label=_("Title"), max_length=200)
    participants_count = forms.IntegerField(label=_("Participants"), min_value=0, initial=0)
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class HelpCreateForm(PersonByIdForm):
    category = forms.ChoiceField(label=_("Category"), choices=BLANK + list(HelpCategory.choices))
    description = forms.CharField(
        label=_("What she asks for"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    received_on = forms.DateField(label=_("Received on"), widget=DateInput)
    deadline = forms.DateField(
        label=_("Deadline"),
        widget=DateInput,
        required=False,
        help_text=_("Empty: 15 days after the request was received."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()


def handler_choices(help_request_region: str, user: User) -> list[int]:
    """Active staff who record services and serve the request's region, within the
    user's own region."""
    users = get_user_model().objects.filter(
        is_active=True,
        region_id__in=[
            code
            for code in ancestor_codes(help_request_region)
            if user.region_id is not None and code.startswith(user.region_id)
        ],
    )
    return [u.pk for u in users.order_by("username") if can(u, RECORD_SERVICES)]


class HandlerField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.username})" if name and name != obj.username else obj.username


class HelpEditForm(VersionedForm):
    handler = HandlerField(
        label=_("Handled by"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="—",
    )
    status = forms.ChoiceField(label=_("Status"), choices=HelpStatus.choices)
    category = forms.ChoiceField(label=_("Category"), choices=HelpCategory.choices)
    description = forms.CharField(
        label=_("What she asks for"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    deadline = forms.DateField(label=_("Deadline"), widget=DateInput)
    outcome = forms.CharField(
        label=_("Outcome"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Required when the request is resolved or referred: say what was done."),
    )
    resolved_on = forms.DateField(
        label=_("Resolved on"),
        widget=DateInput,
        required=False,
        help_text=_("Empty: today, when the request is finished."),
    )

    def __init__(self, *args: Any, user: User, help_request: HelpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pks = handler_choices(help_request.region_id, user)
        if help_request.handler_id:
            pks.append(help_request.handler_id)
        _choices(self, "handler").queryset = get_user_model().objects.filter(pk__in=pks)

    def values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class HelpFilterForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Category"),
        choices=[("", _("All categories")), *HelpCategory.choices],
        required=False,
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Open and in progress")), *HelpStatus.choices],
        required=False,
    )


class CountsForm(forms.Form):
    region = RegionChoiceField(
        label=_("Region"), queryset=Region.objects.none(), required=False, empty_label=None
    )
    received_from = forms.DateField(label=_("Received from"), widget=DateInput, required=False)
    received_to = forms.DateField(label=_("Received until"), widget=DateInput, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "region").queryset = _regions(region_choices(user))


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File (.csv or .xlsx)"),
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx"}),
    )


class ActivityPhotoForm(forms.Form):
    # What the file really is is told by opening it (services.add_activity_photo): the
    # accept list only narrows the phone's picker.
    photo = forms.FileField(
        label=_("Photo (JPEG, PNG or WebP, at most 5 MB)"),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )


# --- service records -----------------------------------------------------------------------


class StationField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Site) -> str:
        return f"{obj.name} ({obj.region.name})"


class CampaignField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Campaign) -> str:
        return f"{obj.name} ({obj.starts_on:%Y-%m-%d} – {obj.ends_on:%Y-%m-%d})"


def service_stations(user: User) -> QuerySet[Site]:
    """Registered service stations in the user's region."""
    from liudong.places.models import Site

    return (
        Site.objects.in_scope(user)
        .filter(kind=Site.Kind.SERVICE_STATION)
        .select_related("region")
        .order_by("region_id", "name")
    )


def campaigns_for(user: User) -> QuerySet[Campaign]:
    from .models import Campaign

    return Campaign.objects.in_scope(user).order_by("-starts_on", "name")


class ServiceRecordForm(VersionedForm):
    """A service she asked for or accepted. The field names are the service's, so its
    refusals land on the field they name. ``with_person`` adds the ID-number look-up
    (new records); ``with_result`` the result, for those who may keep it."""

    id_number = forms.CharField(
        label=_("ID number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    service_type = forms.ChoiceField(
        label=_("Type of service"), choices=BLANK + list(ServiceType.choices)
    )
    date = forms.DateField(label=_("Date"), widget=DateInput)
    provider = StationField(
        label=_("Service station"),
        queryset=Region.objects.none(),
        required=False,
        empty_label="—",
        help_text=_("A registered service station in your region, or name another provider."),
    )
    provider_name = forms.CharField(
        label=_("Other provider (not registered)"), max_length=200, required=False
    )
    region = RegionChoiceField(
        label=_("Where the service was given"),
        queryset=Region.objects.none(),
        required=False,
        empty_label="—",
        help_text=_("Empty: where she lives."),
    )
    free_of_charge = forms.BooleanField(label=_("Free of charge"), required=False, initial=True)
    consent_recorded = forms.BooleanField(
        label=_("She asked for or accepted this service (informed choice)"),
        required=False,
        help_text=_("Required: a service is recorded only when she asked for or accepted it."),
    )
    contraceptive_method = forms.ChoiceField(
        label=_("Contraceptive method she chose"),
        choices=BLANK + list(ContraceptiveMethod.choices),
        required=False,
        help_text=_("Only for a contraceptive supply: the method she chose herself."),
    )
    contraceptive_method_other = forms.CharField(
        label=_("Other method (described)"), max_length=100, required=False
    )
    campaign = CampaignField(
        label=_("Campaign"), queryset=Region.objects.none(), required=False, empty_label="—"
    )
    result = forms.CharField(
        label=_("Result"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_(
            "Sensitive health data: only what the service needs; seen only by the station "
            "and her township specialist."
        ),
    )
    follow_up_on = forms.DateField(
        label=_("Follow-up due on"),
        widget=DateInput,
        required=False,
        help_text=_("Optional: schedules a follow-up of this service."),
    )

    def __init__(
        self, *args: Any, user: User, with_person: bool, with_result: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.person: Any = None
        if not with_person:
            del self.fields["id_number"]
            del self.fields["follow_up_on"]
        else:
            self.fields["date"].initial = timezone.localdate()
        if not with_result:
            # Never the field, never its value (PIPL; services.may_see_result).
            del self.fields["result"]
        _choices(self, "provider").queryset = service_stations(user)
        _choices(self, "region").queryset = _regions(region_choices(user))
        _choices(self, "campaign").queryset = campaigns_for(user)

    def clean_id_number(self) -> str:
        try:
            self.person = find_person(self.user, self.cleaned_data["id_number"])
        except RowProblem as problem:
            raise ValidationError(problem.message) from problem
        return self.person.id_number

    def values(self) -> dict:
        """The service's keyword arguments (region None: her residence)."""
        data = self.cleaned_data
        values = {
            name: data[name]
            for name in (
                "service_type",
                "date",
                "provider",
                "free_of_charge",
                "consent_recorded",
                "contraceptive_method",
                "campaign",
            )
        }
        values["provider_name"] = data["provider_name"].strip()
        values["contraceptive_method_other"] = data["contraceptive_method_other"].strip()
        if data.get("region") is not None:
            values["region"] = data["region"]
        if "result" in self.fields:
            values["result"] = data["result"]
        return values


class ServiceFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or ID number"), max_length=40, required=False)
    service_type = forms.ChoiceField(
        label=_("Type of service"),
        choices=[("", _("All types")), *ServiceType.choices],
        required=False,
    )
    date_from = forms.DateField(label=_("From"), widget=DateInput, required=False)
    date_to = forms.DateField(label=_("Until"), widget=DateInput, required=False)
    region = RegionChoiceField(
        label=_("Region"),
        queryset=Region.objects.none(),
        required=False,
        empty_label=_("All regions"),
    )
    free = forms.ChoiceField(
        label=_("Free of charge"),
        choices=[("", _("Free or not")), ("yes", _("Free")), ("no", _("Not free"))],
        required=False,
    )
    campaign = CampaignField(
        label=_("Campaign"),
        queryset=Region.objects.none(),
        required=False,
        empty_label=_("Any campaign"),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "region").queryset = _regions(region_choices(user))
        _choices(self, "campaign").queryset = campaigns_for(user)


class FollowUpForm(VersionedForm):
    due_on = forms.DateField(label=_("Follow-up due on"), widget=DateInput)
    notes = forms.CharField(label=_("Notes"), max_length=500, required=False)
