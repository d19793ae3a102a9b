"""Pages of search results whose count stops at a cap.

A search for a common surname across a province matches hundreds of thousands of files;
counting them all (``COUNT(*)`` over every match) took far longer than reading the page
itself (PostgreSQL, a million files: 2.4 s for "王"). Nobody pages through a thousand
files: past the cap the page says "more than 1,000" and asks for a narrower search.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

# How many matches a search counts before it says "more than".
SEARCH_COUNT_CAP = 1000


def is_search(query: str | None) -> bool:
    """Whether the search box holds a term (what ``filters.search_q`` treats as one)."""
    return bool(query and unicodedata.normalize("NFKC", query).strip())


class CappedPaginator(Paginator):
    """A paginator that counts at most ``cap`` + 1 rows: ``count`` is at most ``cap`` and
    ``capped`` tells whether more rows match. Pages past the cap are not offered."""

    def __init__(
        self, object_list: Any, per_page: int, cap: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = SEARCH_COUNT_CAP if cap is None else cap

    @cached_property
    def _found(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet):
            # Any cap + 1 rows will do for counting: without the order and the page's
            # columns (the open stay's subquery) the database stops at the first ones
            # its cheapest plan reaches.
            return rows.order_by().values("pk")[: self.cap + 1].count()
        return min(len(rows), self.cap + 1)

    @cached_property
    def count(self) -> int:
        return min(self._found, self.cap)

    @property
    def capped(self) -> bool:
        return self._found > self.cap
