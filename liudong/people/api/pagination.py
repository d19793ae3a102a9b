"""The person list's pages: a search counts its matches only up to a cap (people.paging)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from liudong.api.pagination import Pagination
from liudong.people import paging
from liudong.people.paging import CappedPaginator, is_search


class PersonPagination(Pagination):
    """With a search term (``q``), ``count`` stops at the cap and ``count_capped`` says
    whether more files match; without one, pages count every file as before."""

    searching = False

    def paginate_queryset(
        self,
        queryset: QuerySet[Any, Any] | Sequence[Any],
        request: Request,
        view: APIView | None = None,
    ) -> list[Any] | None:
        self.searching = is_search(request.query_params.get("q"))
        # The base class builds its paginator from this attribute, per request.
        self.django_paginator_class = (
            CappedPaginator if self.searching else Pagination.django_paginator_class
        )
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        if self.searching and self.page is not None:
            paginator = cast(CappedPaginator, self.page.paginator)
            response.data["count_capped"] = paginator.capped
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count_capped"] = {
            "type": "boolean",
            "description": (
                "Only with a search term (q): true when more than "
                f"{paging.SEARCH_COUNT_CAP} files match; count then stops at "
                f"{paging.SEARCH_COUNT_CAP}. Narrow the search to see the rest."
            ),
        }
        return described
