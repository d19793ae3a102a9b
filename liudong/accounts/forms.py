from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from liudong.regions.widgets import RegionPicker, restrict

from .models import User
from .roles import Role


class LoginForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)


class UserForm(forms.Form):
    """Create or change a staff account; the region is typed as a code."""

    username = forms.CharField(label=_("User name"), max_length=150)
    full_name = forms.CharField(label=_("Full name"), max_length=50, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    region = forms.CharField(label=_("Region code"), max_length=30, widget=RegionPicker())
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, *args: Any, editing: User | None = None, under: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if editing is not None:
            self.fields["username"].disabled = True
        restrict(self.fields["region"], under=under)

    def clean_region(self) -> Any:
        from django.core.exceptions import ValidationError

        from liudong.regions.services import resolve_region

        try:
            # Exact codes only: an account's region decides what it may see, so an old
            # or unknown code is refused rather than widened to a parent.
            return resolve_region(self.cleaned_data["region"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


def user_initial(user: User) -> dict:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "region": user.region_id,
        "phone": user.phone,
        "is_active": user.is_active,
        "version": user.version,
    }


class TokenForm(forms.Form):
    """A new API token: a name to recognise it by, its lifetime and, for an administrator,
    the account it is for (default: one's own)."""

    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1)
    username = forms.CharField(label=_("For account"), max_length=150, required=False)

    def __init__(self, *args: Any, may_manage: bool = False, **kwargs: Any) -> None:
        from django.conf import settings

        super().__init__(*args, **kwargs)
        self.fields["days"].initial = settings.API_TOKEN_DAYS
        self.fields["days"].validators.append(MaxValueValidator(settings.API_TOKEN_MAX_DAYS))
        if not may_manage:
            # Kept, not removed: a name posted anyway is refused by the service, never
            # silently dropped (which would issue the token to oneself instead).
            self.fields["username"].widget = forms.HiddenInput()


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator"),
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class RecoveryCodeForm(forms.Form):
    recovery_code = forms.CharField(
        label=_("Recovery code"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two new passwords differ."))
        return data
