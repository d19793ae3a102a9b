"""Building blocks shared by every app: tracked models and region-scoped querysets.

Every model that holds personal data subclasses :class:`TrackedModel` and gets its
manager from :class:`ScopedQuerySet`; views, API, exports and reports read such data only
through ``Model.objects.in_scope(actor)`` (DESIGN.md §4) — pages through
:func:`scoped_object_or_404`, API view sets through ``liudong.api.viewsets`` — where the
actor is a staff account, the operator or a peer node (:mod:`liudong.actors`).
``tests/test_access.py`` finds every model whose manager is a ScopedQuerySet and fails on
a read that skips ``in_scope()``.
"""

from __future__ import annotations

from typing import Any, Self

from django.db import models
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liudong.actors import Caller, Resident, reach
from liudong.regions.codes import subtree_q


class StaleWrite(Exception):
    """A save based on an old version of a record (optimistic locking)."""

    def __init__(self, instance: Any, current: Any) -> None:
        self.instance = instance
        self.current = current
        super().__init__(
            _("This record was changed by someone else (version %(theirs)s, yours %(yours)s).")
            % {"theirs": current.version, "yours": instance.version}
        )


class TrackedModel(models.Model):
    """Created/updated timestamps and a version number for optimistic locking."""

    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True

    def save_versioned(self, *, expected_version: int | None = None, **kwargs: Any) -> None:
        """Save only if the row still has ``expected_version``; bump the version.

        The check and the write are one UPDATE ... WHERE version = N, so two editors
        who loaded the same version cannot both win.
        """
        if self._state.adding:
            self.save(**kwargs)
            return
        expected = self.version if expected_version is None else expected_version
        model = type(self)
        self.version = expected + 1
        values = {
            f.attname: getattr(self, f.attname)
            for f in self._meta.concrete_fields
            if not f.primary_key and f.attname != "created"
        }
        values["updated"] = self.updated = timezone.now()
        changed = model._base_manager.filter(pk=self.pk, version=expected).update(**values)
        if not changed:
            self.version = expected
            raise StaleWrite(self, model._base_manager.get(pk=self.pk))


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows which region fields place a row in the region tree.

    Subclasses (or models via ``scope_fields``) list the region-code fields; a row is in
    a user's scope when any of them lies in the user's region subtree.
    """

    def scope_fields(self) -> tuple[str, ...]:
        return tuple(getattr(self.model, "scope_fields", ("region",)))

    def in_region(self, prefix: str) -> Self:
        condition = Q()
        for field in self.scope_fields():
            condition |= subtree_q(prefix, field=_code_lookup(self.model, field))
        return self.filter(condition)

    def in_scope(self, actor: Caller) -> Self:
        """The rows ``actor`` may see. ``None`` (nobody) sees nothing: the operator is an
        explicit :class:`liudong.actors.Operator`, whose region "" is the whole tree. The
        resident herself sees the rows about her (:meth:`of_resident`)."""
        if isinstance(actor, Resident):
            return self.of_resident(actor)
        region = reach(actor)
        if region is None:
            return self.none()
        if not region:
            return self.all()
        return self.in_region(region)

    def of_resident(self, resident: Resident) -> Self:
        """The rows about ``resident``: the model names the path from a row to her file in
        ``resident_path`` ("pk" for the file itself, "person" for a row about her); a model
        that names none holds nothing of hers to show her, and she sees none of it."""
        path = getattr(self.model, "resident_path", None)
        if not path:
            return self.none()
        return self.filter(**{path: resident.person_id})

    def listed_in_scope(self, actor: Caller) -> Self:
        """The rows of :meth:`in_scope`, found for listing them all (an API list).

        An OR across a join cannot use an index on either side: PostgreSQL read every
        stay and its file to count a township's stays (3.5 s at a million files). Where a
        scope field crosses a relation, each field is read on its own, a range scan of
        its own index (a joined field: the related rows' index, then the foreign key's),
        and the rows are their union. Not for a lookup narrowed by something else (one
        file's stays, one key): the OR then follows that narrower index and checks the
        few rows, where the union would still gather the whole region first."""
        region = reach(actor)
        own = type(self)
        if (
            not region
            or own.in_scope is not ScopedQuerySet.in_scope
            or own.in_region is not ScopedQuerySet.in_region
        ):
            return self.in_scope(actor)  # nobody, everybody, or a scope of its own
        lookups = [_code_lookup(self.model, field) for field in self.scope_fields()]
        if len(lookups) < 2 or not any("__" in lookup for lookup in lookups):
            return self.in_scope(actor)
        branches = [
            self.model._base_manager.filter(subtree_q(region, field=lookup)).order_by().values("pk")
            for lookup in lookups
        ]
        return self.filter(pk__in=branches[0].union(*branches[1:]))


def scoped_object_or_404(
    model_or_queryset: type[models.Model] | models.QuerySet[Any],
    actor: Caller,
    **lookup: Any,
) -> Any:
    """The one object ``lookup`` finds among those ``actor`` may see, else 404.

    Pages answer 404, not 403, for a record outside the actor's scope: a township must not
    learn that another township's file exists. A queryset passed in (joins, filters) is
    scoped here too, so a page cannot hand over an unscoped one.
    """
    if isinstance(model_or_queryset, models.QuerySet):
        queryset = model_or_queryset
    else:
        queryset = model_or_queryset._default_manager.all()
    if not hasattr(queryset, "in_scope"):
        raise TypeError(f"{queryset.model.__name__} has no in_scope(): not a scoped model")
    return get_object_or_404(queryset.in_scope(actor), **lookup)


def _code_lookup(model: type[models.Model], field: str) -> str:
    """`region` (a foreign key to Region, whose key is the code) is compared as `region_id`;
    a path through a relation (`person__household_region`) compares the key it ends in."""
    if "__" in field:
        return field
    f = model._meta.get_field(field)
    return str(getattr(f, "attname", field)) if f.is_relation else field
