"""Second factor for staff sign-in: an authenticator app (TOTP, RFC 6238, through django-otp)
and one-time recovery codes.

Who must have one is declared in ``roles.SECOND_FACTOR_ROLES``; anyone else may enrol. What a
session may do before it has passed the second factor is decided in ``accounts.middleware``;
this module holds the rules: enrolling (the code from the new device proves it was set up),
verifying a code, spending a recovery code, new recovery codes, and an administrator's reset
of a lost device. Every change and every refused code is audited in the same transaction.

API tokens are not this module's concern: a token request is not a session.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from liudong.actors import Actor
from liudong.audit import services as audit
from liudong.audit.models import Action

from .models import RecoveryCode, RecoveryCodeDevice, User
from .roles import second_factor_required
from .services import check_may_manage_account

RECOVERY_CODE_COUNT = 10
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"


def _wrong_code() -> str:
    return _("Wrong code. Enter the 6 digits your authenticator shows now.")


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(
        device__user=user, device__confirmed=True, used_at__isnull=True
    ).count()


def is_required(user: User) -> bool:
    return second_factor_required(user)


# --- enrolment --------------------------------------------------------------------------


def begin_enrolment(user: User) -> TOTPDevice:
    """The unconfirmed device this account is setting up (the same one until confirmed, so
    reloading the page does not change the QR code the person has already scanned)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def secret_for_typing(device: TOTPDevice) -> str:
    """The key as an authenticator app asks for it when typed by hand: base32 in groups."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the account's recovery codes; the plain codes exist only in the return value."""
    RecoveryCodeDevice.objects.filter(user=user).delete()
    holder = RecoveryCodeDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = []
    for _n in range(RECOVERY_CODE_COUNT):
        raw = base64.b32encode(secrets.token_bytes(10)).decode()  # 80 bits, 16 characters
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=holder, code_hash=RecoveryCode.hash_code(code)) for code in codes
    )
    return codes


@dataclass
class Enrolled:
    device: TOTPDevice
    recovery_codes: list[str]


def confirm_enrolment(*, acting_user: User, device: TOTPDevice, code: str) -> Enrolled:
    """Confirm a device with a code it shows; it replaces any earlier device of the account,
    and the account gets fresh recovery codes (shown once)."""
    if acting_user is None or device.user_id != acting_user.pk or device.confirmed:
        raise PermissionDenied(_("Only the account holder can set up their own device."))
    if held := _held_off(device):
        raise ValidationError({"code": held})
    with transaction.atomic():
        accepted = device.verify_token(_digits(code))
        if not accepted:
            _audit_refused(acting_user, "wrong code at enrolment")
    if not accepted:
        # Raised outside the transaction: the back-off count and the audit row stay.
        raise ValidationError({"code": _wrong_code()})
    with transaction.atomic():
        replaced = TOTPDevice.objects.filter(user=acting_user).exclude(pk=device.pk)
        had_one = replaced.filter(confirmed=True).exists()
        replaced.delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(acting_user)
        audit.record(
            Action.UPDATE,
            acting_user=acting_user,
            obj=acting_user,
            region=acting_user.region_id or "",
            detail={"second_factor": "replaced" if had_one else "enrolled"},
        )
    return Enrolled(device, codes)


def new_recovery_codes(*, acting_user: User) -> list[str]:
    """Fresh recovery codes for one's own account (the old ones stop working)."""
    if not has_second_factor(acting_user):
        raise ValidationError(_("Set up an authenticator first."))
    with transaction.atomic():
        codes = _new_recovery_codes(acting_user)
        audit.record(
            Action.UPDATE,
            acting_user=acting_user,
            obj=acting_user,
            region=acting_user.region_id or "",
            detail={"second_factor": "new recovery codes"},
        )
    return codes


# --- signing in -------------------------------------------------------------------------


def _digits(code: str) -> str:
    return "".join(ch for ch in (code or "") if not ch.isspace())


def _held_off(device: Device) -> str | None:
    """After wrong codes django-otp refuses even a right one for a doubling wait: say so
    (checked before trying, so a first wrong code reads as wrong, not as a wait)."""
    allowed, detail = device.verify_is_allowed()
    if allowed or not detail or not detail.get("locked_until"):
        return None
    wait = max(1, int((detail["locked_until"] - timezone.now()).total_seconds()) + 1)
    return ngettext(
        "Too many wrong codes: try again in %(seconds)d second.",
        "Too many wrong codes: try again in %(seconds)d seconds.",
        wait,
    ) % {"seconds": wait}


def _audit_refused(user: User, reason: str) -> None:
    audit.record(
        Action.FAILED_LOGIN,
        acting_user=user,
        obj=user,
        region=user.region_id or "",
        detail={"reason": reason},
    )


def verify_code(*, user: User, code: str) -> TOTPDevice:
    """The device that accepts ``code``; ValidationError (audited) otherwise. django-otp
    refuses a code already used (replay) and backs off after wrong ones."""
    device = confirmed_device(user)
    if device is None:
        raise ValidationError({"code": _("This account has no authenticator set up.")})
    if held := _held_off(device):
        raise ValidationError({"code": held})
    with transaction.atomic():
        if device.verify_token(_digits(code)):
            audit.record(
                Action.LOGIN,
                acting_user=user,
                obj=user,
                region=user.region_id or "",
                detail={"second_factor": "authenticator"},
            )
            return device
        _audit_refused(user, "wrong second-factor code")
    raise ValidationError({"code": _wrong_code()})


def use_recovery_code(*, user: User, code: str) -> RecoveryCodeDevice:
    """Sign in with a recovery code instead of the device: each code works once."""
    holder = RecoveryCodeDevice.objects.filter(user=user, confirmed=True).first()
    if holder is None:
        raise ValidationError({"recovery_code": _("This account has no recovery codes.")})
    if held := _held_off(holder):
        raise ValidationError({"recovery_code": held})
    with transaction.atomic():
        if holder.verify_token(code):
            audit.record(
                Action.LOGIN,
                acting_user=user,
                obj=user,
                region=user.region_id or "",
                detail={"second_factor": "recovery code", "codes_left": recovery_codes_left(user)},
            )
            return holder
        _audit_refused(user, "wrong recovery code")
    raise ValidationError({"recovery_code": _("This recovery code is wrong or has been used.")})


# --- an administrator's reset -----------------------------------------------------------


def reset_second_factor(*, acting_user: Actor, user: User) -> None:
    """Remove an account's device and recovery codes (a lost phone). Sessions that passed
    the second factor with them lose that at their next request (django-otp checks that the
    device still exists), and the account must enrol again before doing anything else."""
    check_may_manage_account(acting_user, user)
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        RecoveryCodeDevice.objects.filter(user=user).delete()
        audit.record(
            Action.UPDATE,
            acting_user=acting_user,
            obj=user,
            region=user.region_id or "",
            detail={"second_factor": "reset", "devices_removed": removed},
        )
