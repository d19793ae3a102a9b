from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from liudong.accounts.models import User
from liudong.accounts.permissions import capability_for_writes
from liudong.accounts.roles import MANAGE_GRIDS, MANAGE_REGIONS
from liudong.api.viewsets import ScopedModelViewSet
from liudong.regions import services
from liudong.regions.filters import GridFilter, RegionFilter
from liudong.regions.models import Grid, Region

from .serializers import (
    GridSerializer,
    RegionCreateSerializer,
    RegionRenameSerializer,
    RegionSerializer,
)


def _actor(request: Request) -> User:
    """The account behind an API request: the view sets' permission classes let no
    anonymous caller in."""
    return cast(User, request.user)


class RegionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Division codes are public reference data: every staff account may read them;
    only a county administrator adds or renames villages and groups in their county."""

    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    filterset_class = RegionFilter
    permission_classes = [capability_for_writes(MANAGE_REGIONS)]
    lookup_value_regex = r"\d{2,15}"

    @extend_schema(request=RegionCreateSerializer, responses={201: RegionSerializer})
    def create(self, request: Request) -> Response:
        data = RegionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        region = services.add_region(acting_user=_actor(request), **data.validated_data)
        return Response(RegionSerializer(region).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RegionRenameSerializer, responses={200: RegionSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        region = self.get_object()
        data = RegionRenameSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        region = services.rename_region(
            acting_user=_actor(request),
            region=region,
            name=data.validated_data["name"],
            expected_version=data.validated_data.get("version"),
        )
        return Response(RegionSerializer(region).data)


class GridViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedModelViewSet,
):
    serializer_class = GridSerializer
    filterset_class = GridFilter
    permission_classes = [capability_for_writes(MANAGE_GRIDS)]
    http_method_names = ["get", "post", "patch", "head", "options"]

    model = Grid

    def narrow(self, queryset: QuerySet[Grid]) -> QuerySet[Grid]:
        return queryset.select_related("region", "responsible").prefetch_related(
            "areas", "collectors"
        )

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.save_grid(
            acting_user=_actor(self.request), **self._values(serializer)
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        values = self._values(serializer, serializer.instance)
        serializer.instance = services.save_grid(
            acting_user=_actor(self.request),
            grid=serializer.instance,
            expected_version=serializer.validated_data.get("version"),
            **values,
        )

    @staticmethod
    def _values(serializer: BaseSerializer, grid: Grid | None = None) -> dict[str, Any]:
        data = serializer.validated_data

        def pick(name: str, current: object) -> Any:
            return data.get(name, current)

        return {
            "name": pick("name", grid.name if grid else ""),
            "region": pick("region", grid.region if grid else None),
            "areas": pick("areas", list(grid.areas.all()) if grid else []),
            "responsible": pick("responsible", grid.responsible if grid else None),
            "collectors": pick("collectors", list(grid.collectors.all()) if grid else []),
        }
