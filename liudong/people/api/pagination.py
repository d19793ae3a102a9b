"""Pages of the people lists whose count stops at a cap (people.paging): the person list
when searching, and the lists of stays and children always."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.core.paginator import Paginator
from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from liudong.api.pagination import Pagination
from liudong.people import paging
from liudong.people.paging import CappedPaginator, is_search


class CappedPagination(Pagination):
    """``count`` stops at the cap and ``count_capped`` says whether more rows match.
    For a list as long as the registry (every stay of a county): counting them all cost
    more than reading the page (PostgreSQL, a million files)."""

    django_paginator_class: type[Paginator] = CappedPaginator
    what = "rows"

    def capping(self, request: Request) -> bool:
        return True

    def paginate_queryset(
        self,
        queryset: QuerySet[Any, Any] | Sequence[Any],
        request: Request,
        view: APIView | None = None,
    ) -> list[Any] | None:
        self.capped = self.capping(request)
        # The base class builds its paginator from this attribute, per request.
        self.django_paginator_class = (
            CappedPaginator if self.capped else Pagination.django_paginator_class
        )
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        if self.capped and self.page is not None:
            paginator = cast(CappedPaginator, self.page.paginator)
            response.data["count_capped"] = paginator.capped
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count_capped"] = {
            "type": "boolean",
            "description": (
                f"True when more than {paging.SEARCH_COUNT_CAP} {self.what} match; count "
                f"then stops at {paging.SEARCH_COUNT_CAP}. Narrow the list with its filters "
                "to see the rest."
            ),
        }
        return described


class PersonPagination(CappedPagination):
    """With a search term (``q``), ``count`` stops at the cap and ``count_capped`` says
    whether more files match; without one, pages count every file as before."""

    what = "files"

    def capping(self, request: Request) -> bool:
        return is_search(request.query_params.get("q"))

    def get_paginated_response_schema(self, schema: dict) -> dict:
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count_capped"]["description"] = (
            "Only with a search term (q): true when more than "
            f"{paging.SEARCH_COUNT_CAP} files match; count then stops at "
            f"{paging.SEARCH_COUNT_CAP}. Narrow the search to see the rest."
        )
        return described
