"""The append-only, hash-chained audit log.

Each entry stores the MAC (keyed, see ``audit.keys``) or, for entries written before keyed
chaining, the plain SHA-256 of itself bound to the entry before it; ``audit.services.
verify_chain`` recomputes the chain and names the first entry that no longer fits. Entries
are never updated or deleted by the application: the model, its queryset and (on
PostgreSQL) database triggers refusing UPDATE, DELETE and TRUNCATE all refuse it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NoReturn

from django.db import models
from django.utils.translation import gettext_lazy as _

from liudong.base import ScopedQuerySet

from . import keys

GENESIS_HASH = "0" * 64


class AuditImmutable(Exception):
    pass


class Action(models.TextChoices):
    CREATE = "create", _("create")
    UPDATE = "update", _("update")
    DELETE = "delete", _("delete")
    VIEW = "view", _("view")
    EXPORT = "export", _("export")
    IMPORT = "import", _("import")
    LOGIN = "login", _("login")
    LOGOUT = "logout", _("logout")
    FAILED_LOGIN = "failed-login", _("failed login")


class AuditQuerySet(ScopedQuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditImmutable("audit entries cannot be changed")

    def delete(self) -> NoReturn:
        raise AuditImmutable("audit entries cannot be deleted")


class AuditEntry(models.Model):
    seq = models.PositiveBigIntegerField(_("sequence"), unique=True)
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        "accounts.User",
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,  # the log outlives the accounts it names
        related_name="+",
    )
    actor_username = models.CharField(_("user name"), max_length=150, blank=True)
    actor_role = models.CharField(_("role"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=45, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    # Region the entry concerns (the object's, or the actor's): it scopes who may read it.
    region = models.CharField(_("region"), max_length=15, blank=True, db_index=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    detail = models.JSONField(_("detail"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # How `hash` was made: keys.PLAIN for entries from before keyed chaining (they keep
    # verifying as they were written), else the MAC algorithm (covered by the MAC itself).
    algorithm = models.CharField(_("chain algorithm"), max_length=16)

    scope_fields = ("region",)
    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditImmutable("audit entries cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditImmutable("audit entries cannot be deleted")

    def _fields(self) -> dict:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor_id,
            "actor_username": self.actor_username,
            "actor_role": self.actor_role,
            "address": self.address,
            "request_id": self.request_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_repr": self.object_repr,
            "region": self.region,
            "before": self.before,
            "after": self.after,
            "detail": self.detail,
        }

    def canonical(self) -> str:
        """What a plain (keys.PLAIN) hash covers: every field but the hash itself and the
        algorithm, in a fixed form (unchanged since the first release, so old entries verify)."""
        data = {**self._fields(), "prev_hash": self.prev_hash}
        return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def keyed_body(self) -> bytes:
        """What a MAC covers besides the previous entry's MAC: every field and the algorithm,
        so an entry cannot be relabelled as plain SHA-256 without the key noticing."""
        data = {**self._fields(), "algorithm": self.algorithm}
        return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()

    def compute_hash(self, key: bytes | None = None) -> str:
        """This entry's hash by its own algorithm (the key file is read when ``key`` is None)."""
        if self.algorithm == keys.PLAIN:
            return hashlib.sha256(self.canonical().encode()).hexdigest()
        if key is None:
            key = keys.chain_key(create=False)
        return keys.chain_mac(key, self.prev_hash, self.keyed_body(), algorithm=self.algorithm)


class AuditHead(models.Model):
    """The end of the chain: one row, locked by every writer so the chain never forks."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"
