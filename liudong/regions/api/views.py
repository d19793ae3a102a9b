from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

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


class RegionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Division codes are public reference data: every staff account may read them;
    only a county administrator adds or renames villages and groups in their county."""

    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    filterset_class = RegionFilter
    permission_classes = [capability_for_writes(MANAGE_REGIONS)]
    lookup_value_regex = r"\d{2,15}"

    @extend_schema(request=RegionCreateSerializer, responses={201: RegionSerializer})
    def create(self, request):
        data = RegionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        region = services.add_region(acting_user=request.user, **data.validated_data)
        return Response(RegionSerializer(region).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RegionRenameSerializer, responses={200: RegionSerializer})
    def partial_update(self, request, pk=None):
        region = self.get_object()
        data = RegionRenameSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        region = services.rename_region(
            acting_user=request.user,
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

    def narrow(self, queryset):
        return queryset.select_related("region", "responsible").prefetch_related(
            "areas", "collectors"
        )

    def perform_create(self, serializer):
        serializer.instance = services.save_grid(
            acting_user=self.request.user, **self._values(serializer)
        )

    def perform_update(self, serializer):
        values = self._values(serializer, serializer.instance)
        serializer.instance = services.save_grid(
            acting_user=self.request.user,
            grid=serializer.instance,
            expected_version=serializer.validated_data.get("version"),
            **values,
        )

    @staticmethod
    def _values(serializer, grid=None):
        data = serializer.validated_data

        def pick(name, current):
            return data.get(name, current)

        return {
            "name": pick("name", grid.name if grid else ""),
            "region": pick("region", grid.region if grid else None),
            "areas": pick("areas", list(grid.areas.all()) if grid else []),
            "responsible": pick("responsible", grid.responsible if grid else None),
            "collectors": pick("collectors", list(grid.collectors.all()) if grid else []),
        }
