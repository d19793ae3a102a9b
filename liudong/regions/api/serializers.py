from typing import Any

from rest_framework import serializers

from liudong.accounts.models import User
from liudong.regions.models import Grid, Region

from .fields import RegionCodeField


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent", "is_district", "source", "version"]
        read_only_fields = ["level", "parent", "is_district", "source", "version"]


class RegionCreateSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=30)
    name = serializers.CharField(max_length=100)


class RegionRenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    version = serializers.IntegerField(required=False)


class GridSerializer(serializers.ModelSerializer):
    region = RegionCodeField()
    areas = RegionCodeField(many=True, required=False)
    responsible = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), allow_null=True, required=False
    )
    collectors = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), many=True, required=False
    )
    version = serializers.IntegerField(required=False)

    class Meta:
        model = Grid
        fields = ["id", "name", "region", "areas", "responsible", "collectors", "version"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # Staff can only be chosen from the caller's own scope.
            staff = User.objects.in_scope(request.user)
            responsible = self.fields["responsible"]
            collectors = self.fields["collectors"]
            assert isinstance(responsible, serializers.PrimaryKeyRelatedField)
            assert isinstance(collectors, serializers.ManyRelatedField)
            responsible.queryset = staff  # type: ignore[arg-type]
            collectors.child_relation.queryset = staff  # type: ignore[arg-type]
