"""The one base for API view sets over scoped models: scoped by construction.

``ScopedModelViewSet.get_queryset()`` always starts from ``model.objects.in_scope(actor)``
(the request's account, ``liudong.actors``; a list from ``listed_in_scope(actor)``, the same
rows found one scope field at a time, liudong.base); a subclass names its ``model`` and may only
narrow that queryset in :meth:`ScopedModelViewSet.narrow` (filters, ordering,
``select_related``). Defining ``get_queryset`` in a subclass is refused when the class is
made, so a view set cannot forget the scope or start from ``objects.all()``. NetBox does the
same in ``BaseViewSet.initial()`` (``queryset.restrict(user, action)``).

``tests/test_access.py`` checks that every registered API view set over a scoped model
derives from it. This module owns the base class only; the view sets stay in their apps.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from rest_framework import viewsets


class ScopedModelViewSet(viewsets.GenericViewSet):
    """A GenericViewSet whose queryset is ``model.objects.in_scope(request.user)``,
    narrowed by :meth:`narrow`. Combine with DRF's mixins for list, retrieve, …"""

    model: type[Model]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in vars(cls):
            raise TypeError(
                f"{cls.__name__}: override narrow(queryset), not get_queryset(): the scope "
                "is the base class's (liudong.api.viewsets)"
            )
        if "queryset" in vars(cls):
            raise TypeError(f"{cls.__name__}: name the model, not a queryset")

    def get_queryset(self) -> QuerySet[Any]:
        manager = self.model._default_manager
        scope = manager.in_scope  # type: ignore[attr-defined]
        # A list reads the whole scope, paged: one index at a time (base.py).
        if getattr(self, "action", None) == "list":
            scope = getattr(manager, "listed_in_scope", scope)
        scoped = scope(self.request.user)
        narrowed = self.narrow(scoped)
        # narrow() may filter, order and join, never widen: the result must still be
        # the scoped queryset's model, built on it.
        if narrowed.model is not self.model:
            raise TypeError(f"{type(self).__name__}.narrow() changed the model")
        return narrowed

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Filter, order or join the scoped rows (the default: all of them)."""
        return queryset
