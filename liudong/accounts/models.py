"""Staff accounts (one role, one region each), login throttling and API tokens."""

from __future__ import annotations

import datetime
import hashlib

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin

from liudong.base import ScopedQuerySet, TrackedModel
from liudong.regions.models import Region

from .roles import Role


class UserQuerySet(ScopedQuerySet):
    pass


class StaffManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    def get_by_natural_key(self, username: str) -> User:
        # Names are unique regardless of case (accounts.services), so "Township_A" signs
        # in as township_a instead of failing and counting towards its lock.
        return self.get(username__iexact=username)


# django-stubs cannot name the reverse manager of the user key that django-otp's abstract
# Device declares (recoverycodedevice_set); nothing here uses it.
class User(AbstractUser, TrackedModel):  # type: ignore[django-manager-missing]
    """A staff account. Its region bounds every record it may see or change."""

    # first_name/last_name do not fit Chinese names; one field holds the name as written.
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="staff",
        null=True,  # the database allows it; accounts.services refuses it (clear message)
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # Set whenever someone other than the holder chose the password (a new account, a reset):
    # after signing in, the account reaches only the change-password page until it is cleared.
    must_change_password = models.BooleanField(_("must change password"), default=False)

    scope_fields = ("region",)
    objects = StaffManager()  # type: ignore[misc]

    class Meta:
        ordering = ["region_id", "username"]
        verbose_name = _("staff account")
        verbose_name_plural = _("staff accounts")

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def get_short_name(self) -> str:
        return self.full_name or self.username


class LoginThrottle(models.Model):
    """Consecutive failed logins for one account name from one address."""

    username = models.CharField(max_length=150)
    address = models.CharField(max_length=45)
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["username", "address"], name="throttle_unique_pair")
        ]

    def __str__(self) -> str:
        return f"{self.username}@{self.address}"


class LoginCounter(models.Model):
    """Failed logins in the current window from one address whatever the account name
    (``address``), or from everywhere (``global``, key ""); see accounts.throttle."""

    ADDRESS, GLOBAL = "address", "global"

    scope = models.CharField(max_length=10, choices=[(ADDRESS, ADDRESS), (GLOBAL, GLOBAL)])
    key = models.CharField(max_length=45, blank=True)  # an address or IPv6 /64; "" for global
    window_start = models.DateTimeField(db_index=True)
    failures = models.PositiveIntegerField(default=0)
    # Failures naming no account: counted, never audited one row each.
    unknown_names = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)  # attempts refused while locked
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="login_counter_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class ApiTokenQuerySet(ScopedQuerySet):
    def usable(self, now: datetime.datetime) -> ApiTokenQuerySet:
        return self.filter(revoked__isnull=True, expires__gt=now)


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once.
    Every token expires; a revoked one is kept (listed as revoked) but never accepted."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)
    expires = models.DateTimeField(_("expires"))
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)

    # A token is in scope where its account is: an administrator sees staff tokens of the
    # region, nobody else's.
    scope_fields = ("user__region",)
    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    def is_usable(self, now: datetime.datetime) -> bool:
        return self.revoked is None and self.expires > now

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """An account's set of one-time recovery codes, as a django-otp device, so a session that
    signed in with one is "verified" the same way as with the authenticator app and loses
    that state when an administrator resets the account's second factor.

    Codes carry 80 random bits, so their SHA-256 is as safe at rest as a slow hash would be
    (the same reasoning as ApiToken) and a code is found by one indexed lookup."""

    class Meta(Device.Meta):
        verbose_name = _("recovery codes")

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token: str) -> bool:
        allowed, _detail = self.verify_is_allowed()
        if not allowed:
            return False
        # One UPDATE marks the code used: two requests racing with one code cannot both win.
        used = RecoveryCode.objects.filter(
            device=self, code_hash=RecoveryCode.hash_code(str(token)), used_at__isnull=True
        ).update(used_at=timezone.now())
        if used:
            self.throttle_reset()
        else:
            self.throttle_increment()
        return bool(used)


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recovery code of {self.device.user_id}"

    @staticmethod
    def normalise(code: str) -> str:
        """As typed: any case, with or without the dashes and spaces of the printed form; a
        0 or 1 read off paper is the O or I of base32 (which has no 0 or 1)."""
        text = "".join(ch for ch in code.upper() if ch.isalnum())
        return text.replace("0", "O").replace("1", "I")

    @classmethod
    def hash_code(cls, code: str) -> str:
        return hashlib.sha256(cls.normalise(code).encode()).hexdigest()
