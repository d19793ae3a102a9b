"""Her access code: what the office holding her file gives her so she can sign in as herself.

Only a hash of the code is stored (Django's password hashers); the code itself is shown once,
on the slip the office prints or at the command line. Issuing a new code revokes her earlier
ones, so at most one is usable at a time.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from liudong.base import ScopedQuerySet


class AccessCodeQuerySet(ScopedQuerySet):
    def usable(self, now: datetime.datetime) -> AccessCodeQuerySet:
        return self.filter(revoked_at__isnull=True, valid_until__gt=now)


class AccessCode(models.Model):
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="access_codes",
    )
    code_hash = models.CharField(_("code hash"), max_length=200)
    valid_until = models.DateTimeField(_("valid until"))
    # None when the operator issued it at the command line (the audit log names the OS user).
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    # Staff see the codes of the files in their region; she sees her own (their dates only:
    # the hash is never shown to anyone).
    scope_fields = ("person__household_region", "person__residence_region")
    resident_path = "person"
    objects = AccessCodeQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("access code")
        verbose_name_plural = _("access codes")
        indexes = [models.Index(fields=["person", "-issued_at"], name="access_code_person_idx")]

    def __str__(self) -> str:
        return f"access code {self.pk} of person {self.person_id}"
