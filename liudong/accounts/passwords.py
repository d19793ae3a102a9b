"""Password rules of our own, beside Django's (settings.AUTH_PASSWORD_VALIDATORS): the
password may not hold the account's user name, nor a resident ID number. Each refusal
names its rule in the message and carries its own code."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from liudong.people import idnumbers

# 17 digits and a check character, possibly with lower-case x: any 18 characters of the
# password that look like this and hold a real birth date are taken for an ID number,
# whatever their check character (a near-miss ID number is as guessable as a right one).
_ID_CANDIDATE = re.compile(r"(?=(\d{17}[\dXx]))")


def contains_id_number(password: str) -> bool:
    for match in _ID_CANDIDATE.finditer(password):
        try:
            idnumbers.parse(match.group(1))
        except idnumbers.IdNumberError:
            continue
        return True
    return False


class IdNumberValidator:
    def validate(self, password: str, user: object = None) -> None:
        if contains_id_number(password):
            raise ValidationError(
                _("The password contains a resident ID number; choose one that does not."),
                code="password_contains_id_number",
            )

    def get_help_text(self) -> str:
        return _("Your password cannot contain a resident ID number.")


class UserNameValidator:
    """Django's similarity check passes a long password that holds the user name whole."""

    min_name_length = 3

    def validate(self, password: str, user: object = None) -> None:
        name = (getattr(user, "username", "") or "").strip().lower()
        if len(name) >= self.min_name_length and name in password.lower():
            raise ValidationError(
                _("The password contains the user name; choose one that does not."),
                code="password_contains_username",
            )

    def get_help_text(self) -> str:
        return _("Your password cannot contain your user name.")
