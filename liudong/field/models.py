"""What the server remembers of the actions a phone sent (``/api/field/sync/``).

One row per (account, client id): the client id is made on the phone when the action is
done offline, so a repeat after a lost answer finds its row and is answered as before instead
of applied again. The row is written in the same transaction as the action's own change, so
either both are saved or neither is. The action's contents are not kept here (they are in
the records it changed and in the audit log); their hash is, so a client id sent again with
other contents is recognised as tampering and refused.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ARRIVAL = "arrival", _("arrival")
    DEPARTURE = "departure", _("departure")
    VERIFICATION = "verification", _("certificate verification")
    SERVICE = "service", _("service given")
    HAZARD = "hazard", _("rental-house hazard found")
    RECTIFICATION = "rectification", _("rental-house hazard rectified")


class Status(models.TextChoices):
    APPLIED = "applied", _("applied")
    REFUSED = "refused", _("refused")
    CONFLICT = "conflict", _("conflict")


class FieldAction(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="field_actions",
    )
    client_id = models.UUIDField(_("client id"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # SHA-256 of the action's canonical JSON (sorted keys): the same id with other contents
    # is refused, never answered with the first one's outcome.
    contents_hash = models.CharField(_("contents hash"), max_length=64)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    # The phone's clock: when the action was done, and when the phone sent it; the server's:
    # when it arrived. A phone whose clock is off is seen in the difference, never trusted
    # alone.
    done_at_device = models.DateTimeField(_("done at (phone clock)"), null=True, blank=True)
    device_clock = models.DateTimeField(_("phone clock when sent"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"))
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    region = models.CharField(_("region"), max_length=15, blank=True)
    # What the phone was answered (the record made or changed, a message): repeated verbatim
    # to a repeat of an applied action.
    result = models.JSONField(_("result"), default=dict, blank=True)

    class Meta:
        verbose_name = _("field action")
        verbose_name_plural = _("field actions")
        constraints = [
            models.UniqueConstraint(fields=["user", "client_id"], name="field_action_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.client_id}"
