"""Staff accounts: creating and changing them within scope, login with throttling,
and API tokens. Every change writes its audit entry in the same transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong.actors import Actor, Caller, is_operator
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.regions.models import Region

from . import throttle as throttle_counts
from .models import ApiToken, LoginThrottle, User
from .roles import ALLOWED_LEVELS, MANAGE_USERS, Role, can

USER_AUDIT_FIELDS = [
    "username",
    "full_name",
    "role",
    "region_id",
    "phone",
    "is_active",
    "must_change_password",
    "version",
]


def generate_password() -> str:
    """A password a person can read off a printed sheet: no 0/O or 1/l confusion."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(14))


def validate_role_region(role: str, region: Region | None) -> Region:
    """The region, if a ``role`` account may hold it; ValidationError naming the rule."""
    if role not in Role.values:
        raise ValidationError(
            {
                "role": _("Unknown role “%(role)s”; roles are: %(roles)s.")
                % {"role": role, "roles": ", ".join(Role.values)}
            }
        )
    if region is None:
        raise ValidationError({"region": _("Every staff account needs a region.")})
    if region.level_enum not in ALLOWED_LEVELS[role]:
        allowed = ", ".join(str(level.label) for level in sorted(ALLOWED_LEVELS[role]))
        raise ValidationError(
            {
                "region": _("A %(role)s account belongs to a %(levels)s, not a %(level)s.")
                % {"role": Role(role).label, "levels": allowed, "level": region.level_enum.label}
            }
        )
    return region


def check_may_manage_account(acting_user: Actor | None, account: User) -> None:
    """May ``acting_user`` change ``account`` (its data, password, tokens)? An administrator
    may not touch an auditor's account: whoever manages staff must not be able to become
    the one who reads their trail. Auditor accounts are the operator's, on the command line."""
    _check_may_manage(acting_user, account.region_id)
    if not is_operator(acting_user) and account.role == Role.AUDITOR:
        raise PermissionDenied(_auditor_is_the_operators())


def _auditor_is_the_operators() -> str:
    return _(
        "Auditor accounts are created and changed only by the server's operator "
        "(liudong createuser), never by a staff administrator."
    )


def _check_may_manage(acting_user: Actor | None, region_code: str | None) -> None:
    """Only an account that manages staff, and only for a region inside its own."""
    authorize(
        acting_user,
        MANAGE_USERS,
        region_code,
        outside=gettext_lazy("Region %(code)s lies outside your region %(region)s."),
    )


def create_user(
    *,
    acting_user: Actor,
    username: str,
    role: str,
    region: Region | None,
    password: str | None = None,
    full_name: str = "",
    phone: str = "",
    must_change_password: bool = True,
) -> tuple[User, str]:
    """Create a staff account; returns it with its password (generated when not given).

    Whoever creates the account knows its first password, typed or generated, so by default
    the holder must change it at first sign-in. Only test fixtures and the demo's shared
    accounts pass ``must_change_password=False``."""
    username = (username or "").strip()
    if not username:
        raise ValidationError({"username": _("A user name is required.")})
    region = validate_role_region(role, region)
    _check_may_manage(acting_user, region.code)
    if not is_operator(acting_user) and role == Role.AUDITOR:
        raise PermissionDenied(_auditor_is_the_operators())
    password = password or generate_password()
    candidate = User(username=username, role=role, region=region, full_name=full_name)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(
                {"username": _("User name “%(name)s” is taken.") % {"name": username}}
            )
        user = User.objects.create_user(
            username=username,
            password=password,
            role=role,
            region=region,
            full_name=full_name.strip(),
            phone=phone.strip(),
            must_change_password=must_change_password,
        )
        audit.record(
            Action.CREATE,
            acting_user=acting_user,
            obj=user,
            region=region.code,
            after=audit.snapshot(user, USER_AUDIT_FIELDS),
        )
    return user, password


def update_user(
    *,
    acting_user: Actor,
    user: User,
    expected_version: int | None = None,
    **changes: Any,
) -> User:
    """Change role, region, name, phone or active flag of an account within scope."""
    check_may_manage_account(acting_user, user)
    allowed = {"full_name", "role", "region", "phone", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    new_role = changes.get("role", user.role)
    new_region = changes.get("region", user.region)
    new_region = validate_role_region(new_role, new_region)
    _check_may_manage(acting_user, new_region.code)
    if not is_operator(acting_user) and new_role == Role.AUDITOR:
        raise PermissionDenied(_auditor_is_the_operators())
    with transaction.atomic():
        before = audit.snapshot(user, USER_AUDIT_FIELDS)
        for name, value in changes.items():
            setattr(user, name, value)
        user.save_versioned(expected_version=expected_version)
        audit.record(
            Action.UPDATE,
            acting_user=acting_user,
            obj=user,
            region=user.region_id,
            before=before,
            after=audit.snapshot(user, USER_AUDIT_FIELDS),
        )
    return user


def set_password(
    *, acting_user: Actor, user: User, password: str | None = None, must_change: bool = True
) -> str:
    """An administrator's (or the operator's) reset: they know the new password, so the
    holder must change it after signing in (``must_change=False`` only for the demo)."""
    check_may_manage_account(acting_user, user)
    password = password or generate_password()
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = must_change
        user.save(update_fields=["password", "must_change_password"])
        audit.record(
            Action.UPDATE,
            acting_user=acting_user,
            obj=user,
            region=user.region_id or "",
            detail={"password": "reset", "must_change_password": must_change},
        )
    return password


def change_own_password(*, acting_user: User, old_password: str, new_password: str) -> User:
    """The holder's own change: the only way ``must_change_password`` is cleared."""
    if not acting_user.check_password(old_password):
        raise ValidationError({"old_password": _("The current password is wrong.")})
    if new_password == old_password:
        raise ValidationError(
            {"new_password": _("The new password must differ from the current one.")}
        )
    try:
        validate_password(new_password, acting_user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.error_list}) from exc
    with transaction.atomic():
        acting_user.set_password(new_password)
        acting_user.must_change_password = False
        acting_user.save(update_fields=["password", "must_change_password"])
        audit.record(
            Action.UPDATE,
            acting_user=acting_user,
            obj=acting_user,
            region=acting_user.region_id or "",
            detail={"password": "changed by holder"},
        )
    return acting_user


# --- login ------------------------------------------------------------------------------


class LoginRefused(Exception):
    def __init__(self, message: str, *, locked_until: datetime | None = None):
        super().__init__(message)
        self.locked_until = locked_until


def _normal_username(username: str) -> str:
    return (username or "").strip().lower()[:150]


def locked_until(username: str, address: str) -> datetime | None:
    """When the lock on this account from this address ends, or that on the address or on
    every login (accounts.throttle), whichever ends last; None when none holds."""
    now = timezone.now()
    throttle = LoginThrottle.objects.filter(
        username=_normal_username(username), address=address
    ).first()
    ends = [throttle.locked_until] if throttle and throttle.locked_until else []
    if wider := throttle_counts.locked_until(address, now=now):
        ends.append(wider)
    until = max(ends, default=None)
    return until if until and until > now else None


def _lock_message(until: datetime) -> str:
    local = timezone.localtime(until)
    return _("Too many failed logins: try again after %(time)s.") % {
        "time": local.strftime("%H:%M")
    }


def login_with_password(
    request: HttpRequest, username: str, password: str, *, address: str
) -> User:
    """Check a login; after LOGIN_MAX_FAILURES consecutive failures for one account from
    one address that pair is locked for LOGIN_LOCK_MINUTES, and accounts.throttle locks an
    address or every login on failures across account names. Successes and failures for
    known accounts are audited one by one; failures naming no account and attempts refused
    under a lock are counted and summed up (accounts.throttle), so they cannot flood the log."""
    name = _normal_username(username)
    throttle_counts.flush()
    until = locked_until(name, address)
    if until:
        throttle_counts.count_refused(address)
        raise LoginRefused(_lock_message(until), locked_until=until)
    user = authenticate(request, username=username.strip(), password=password)
    if user is not None and not user.region_id:
        audit.record(
            Action.FAILED_LOGIN,
            actor_username=name,
            obj=user,
            detail={"reason": "no region"},
        )
        raise LoginRefused(
            _("This account has no region yet; ask your county administrator to assign one.")
        )
    if user is None:
        with transaction.atomic():
            throttle, _created = LoginThrottle.objects.select_for_update().get_or_create(
                username=name, address=address
            )
            throttle.failures += 1
            detail = {"reason": "bad credentials", "failures": throttle.failures}
            if throttle.failures >= settings.LOGIN_MAX_FAILURES:
                throttle.locked_until = timezone.now() + timedelta(
                    minutes=settings.LOGIN_LOCK_MINUTES
                )
                throttle.failures = 0
                detail["locked_until"] = throttle.locked_until.isoformat()
            throttle.save()
            known = User.objects.filter(username__iexact=name).only("pk", "region_id").first()
            counted = throttle_counts.count_failure(address, known=known is not None)
            if known is not None:
                audit.record(
                    Action.FAILED_LOGIN,
                    actor_username=name,
                    object_type="accounts.user",
                    object_id=str(known.pk),
                    object_repr=name,
                    region=known.region_id or "",
                    detail=detail,
                )
        ends = [until for _scope, until in counted.locks]
        if throttle.locked_until and throttle.locked_until > timezone.now():
            ends.append(throttle.locked_until)
        if ends:
            raise LoginRefused(_lock_message(max(ends)), locked_until=max(ends))
        raise LoginRefused(_("Wrong user name or password."))
    with transaction.atomic():
        LoginThrottle.objects.filter(username=name, address=address).delete()
        audit.record(Action.LOGIN, acting_user=user, obj=user, region=user.region_id)
    return user


# --- API tokens -------------------------------------------------------------------------


@dataclass
class IssuedToken:
    token: ApiToken
    key: str


def _token_days(days: int | None) -> int:
    days = settings.API_TOKEN_DAYS if days is None else days
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise ValidationError(
            {
                "days": _("A token lasts from 1 to %(max)s days.")
                % {"max": settings.API_TOKEN_MAX_DAYS}
            }
        )
    return days


def issue_token(
    *, acting_user: Actor, user: User, name: str = "", days: int | None = None
) -> IssuedToken:
    """A new bearer token for ``user``, valid ``days`` (default API_TOKEN_DAYS); the key is
    returned once and stored only hashed. One's own, or an administrator's for staff in
    scope (None: the operator on the command line)."""
    if not is_operator(acting_user) and acting_user != user:
        check_may_manage_account(acting_user, user)
    days = _token_days(days)
    key = "ld_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name.strip()[:100],
            key_hash=ApiToken.hash_key(key),
            prefix=key[:8],
            expires=timezone.now() + timedelta(days=days),
        )
        audit.record(
            Action.CREATE,
            acting_user=acting_user,
            obj=token,
            object_repr=f"API token {token.prefix}… for {user.username}",
            region=user.region_id or "",
            detail={"expires": token.expires.isoformat()},
        )
    return IssuedToken(token, key)


def tokens_visible_to(user: Caller) -> QuerySet[ApiToken]:
    """One's own tokens; for a staff administrator also those of the staff in scope (an
    auditor's excepted: the administrator has no hand on the auditor's account)."""
    own = Q(user=user)
    if can(user, MANAGE_USERS):
        others = ApiToken.objects.in_scope(user).exclude(user__role=Role.AUDITOR)
        own |= Q(pk__in=others.values("pk"))
    return ApiToken.objects.filter(own).select_related("user")


def token_state(token: ApiToken, now: datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked``, as lists show it."""
    if token.revoked:
        return "revoked"
    return "active" if token.expires > (now or timezone.now()) else "expired"


def revoke_token(*, acting_user: Actor, token: ApiToken) -> ApiToken:
    """Revoke a token at once (its own account or an administrator of it); the row stays so
    the list shows it revoked. Revoking twice changes nothing."""
    if not is_operator(acting_user) and acting_user != token.user:
        check_may_manage_account(acting_user, token.user)
    if token.revoked:
        return token
    with transaction.atomic():
        token.revoked = timezone.now()
        token.save(update_fields=["revoked"])
        audit.record(
            Action.UPDATE,
            acting_user=acting_user,
            obj=token,
            object_repr=f"API token {token.prefix}… for {token.user.username}",
            region=token.user.region_id or "",
            detail={"revoked": token.revoked.isoformat()},
        )
    return token


def user_for_token(key: str) -> User | None:
    """The account of a usable token; None for an unknown, expired or revoked one (the API
    answers all three with the same 401, so a caller learns nothing about which)."""
    now = timezone.now()
    token = (
        ApiToken.objects.usable(now)
        .select_related("user")
        .filter(key_hash=ApiToken.hash_key(key))
        .first()
    )
    if token is None:
        return None
    user = token.user
    if not user.is_active or not user.region_id:
        return None
    # Touch at most once a minute: a busy client must not turn every read into a write.
    if token.last_used is None or now - token.last_used > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return user
