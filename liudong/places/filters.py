"""The search box and region filter of the place lists (web pages and their exports):
which fields a search looks in for each kind of record, and a region narrowed to the
user's own subtree. It never widens a queryset: callers pass one already scoped."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from liudong import records

from .records import BY_MODEL


def search(queryset: QuerySet[Any], text: str) -> QuerySet[Any]:
    """Rows with every word of ``text`` in one of the model's search fields."""
    return records.search(queryset, BY_MODEL[queryset.model].search_fields, text)


def region_prefix(user: Any, code: str) -> str:
    """The region to list: ``code`` when it lies in the user's region, else the user's."""
    code = (code or "").strip()
    if code and code.isdigit() and code.startswith(user.region_id):
        return code
    return user.region_id
