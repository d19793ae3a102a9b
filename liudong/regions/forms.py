from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from liudong.accounts.models import User
from liudong.accounts.roles import Role

from .models import Region
from .widgets import RegionMultiPicker, RegionPicker, restrict, split_codes

if TYPE_CHECKING:
    from liudong.actors import Caller


class RegionAddForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=30,
        help_text=_("Village: township code + 3 digits (12). Group: village code + 3 digits (15)."),
    )
    name = forms.CharField(label=_("Name"), max_length=100)


class RegionRenameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    version = forms.IntegerField(widget=forms.HiddenInput)


class RegionCodesField(forms.CharField):
    """Villages and groups as codes separated by spaces, commas or new lines: typed in
    the textarea, or picked by name as chips (RegionMultiPicker fills the same text)."""

    widget = RegionMultiPicker(lengths=(12, 15))

    def clean(self, value: str) -> list[Region]:
        value = super().clean(value)
        codes = split_codes(value)
        found = Region.objects.in_bulk(codes)
        missing = [c for c in codes if c not in found]
        if missing:
            raise ValidationError(
                _("Unknown region codes: %(codes)s") % {"codes": ", ".join(missing)}
            )
        return [found[c] for c in codes]


class StaffLabelMixin:
    """Show staff as 姓名 · user name · role · region, not just a name."""

    def label_from_instance(self, obj: User) -> str:
        name = obj.full_name or obj.username
        return f"{name} · {obj.username} · {obj.get_role_display()} · {obj.region_id}"


class StaffChoiceField(StaffLabelMixin, forms.ModelChoiceField):
    pass


class StaffMultipleChoiceField(StaffLabelMixin, forms.ModelMultipleChoiceField):
    pass


# Who may work a grid: the accounts that work in villages and townships.
GRID_WORKER_ROLES = (Role.COLLECTOR, Role.VILLAGE, Role.TOWNSHIP)


class GridForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    region = forms.CharField(
        label=_("Township or village code"),
        max_length=15,
        widget=RegionPicker(lengths=(9, 12)),
    )
    areas = RegionCodesField(label=_("Villages and groups (codes)"), required=False)
    responsible = StaffChoiceField(
        label=_("Responsible worker"), queryset=User.objects.none(), required=False
    )
    collectors = StaffMultipleChoiceField(
        label=_("Collectors"), queryset=User.objects.none(), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: Caller, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = User.objects.in_scope(user).filter(is_active=True, role__in=GRID_WORKER_ROLES)
        for name in ("responsible", "collectors"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = staff
        own = getattr(user, "region_id", "") or ""
        restrict(self.fields["region"], under=own)
        restrict(self.fields["areas"], under=own)

    def clean_region(self) -> Region:
        region = Region.objects.filter(code=self.cleaned_data["region"].strip()).first()
        if region is None:
            raise ValidationError(_("Unknown region code."))
        return region


class _FilterBox(forms.Form):
    """A form of one field, made by ``region_filter`` (list pages render their own forms)."""


def region_filter(
    name: str, value: str, *, under: str, label: str, attrs: dict[str, Any] | None = None
) -> forms.BoundField:
    """The region box of a web list's filter form: a region of the user's own (``under``)
    picked by name or code, sent as ``name`` with the rest of the filter form. The list
    checks the code as before; ``attrs`` carry what makes the page ask again (htmx, or
    ``data-autosubmit``). API filters stay plain codes."""
    form = _FilterBox(initial={name: value})
    form.fields[name] = forms.CharField(
        label=label,
        required=False,
        widget=RegionPicker(
            attrs={
                "aria-label": label,
                "data-testid": f"filter-{name}",
                "data-clear-submits": "",  # emptied, the filter is dropped (picker.js)
                **(attrs or {}),
            },
            under=under,
        ),
    )
    return form[name]
