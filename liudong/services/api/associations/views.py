"""Association branches, memberships and association activities in the API; changes go
through ``associations.services``. Must not touch the other sub-domains.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from liudong.accounts.permissions import capability_for_all
from liudong.accounts.roles import RECORD_SERVICES
from liudong.base import TrackedModel
from liudong.services.api.associations.serializers import (
    AssociationActivityOutSerializer,
    AssociationActivitySerializer,
    BranchOutSerializer,
    BranchSerializer,
    MembershipOutSerializer,
    MembershipSerializer,
)
from liudong.services.api.filters import (
    AssociationActivityFilter,
    BranchFilter,
    MembershipFilter,
)
from liudong.services.api.views import RecordViewSet, with_schema
from liudong.services.associations import services as association_services
from liudong.services.models import (
    AssociationActivity,
    AssociationBranch,
    Membership,
)


@extend_schema(responses=BranchOutSerializer)
class BranchViewSet(RecordViewSet):
    """Floating-population association branches in the caller's region."""

    # Read on the web only with RECORD_SERVICES (services/views.py): the same here.
    permission_classes = [capability_for_all(RECORD_SERVICES)]

    model = AssociationBranch
    serializer_class = BranchOutSerializer
    write_serializer = BranchSerializer
    filterset_class = BranchFilter

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("region")

    @with_schema(BranchSerializer, BranchOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @with_schema(BranchSerializer, BranchOutSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def service_create(self, values: dict[str, Any]) -> TrackedModel:
        return association_services.create_branch(acting_user=self.actor, **values)

    def service_update(self, obj: Any, version: int | None, values: dict[str, Any]) -> None:
        association_services.update_branch(
            acting_user=self.actor, branch=obj, expected_version=version, **values
        )


@extend_schema(responses=MembershipOutSerializer)
class MembershipViewSet(RecordViewSet):
    """Members of the branches in the caller's region (masked ID numbers)."""

    model = Membership
    serializer_class = MembershipOutSerializer
    write_serializer = MembershipSerializer
    filterset_class = MembershipFilter
    fixed = ("branch", "person")

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("person", "branch")

    def scoped(self) -> dict[str, Any]:
        return {"branch": AssociationBranch.objects.in_scope(self.request.user)}

    @with_schema(MembershipSerializer, MembershipOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """She joins a branch: her file must be in the caller's region (403 otherwise);
        one open membership per person and branch."""
        return super().create(request, *args, **kwargs)

    @with_schema(MembershipSerializer, MembershipOutSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change her role, or record that she left (``left_on``)."""
        return super().partial_update(request, *args, **kwargs)

    def service_create(self, values: dict[str, Any]) -> TrackedModel:
        return association_services.create_membership(acting_user=self.actor, **values)

    def service_update(self, obj: Any, version: int | None, values: dict[str, Any]) -> None:
        association_services.update_membership(
            acting_user=self.actor, membership=obj, expected_version=version, **values
        )


@extend_schema(responses=AssociationActivityOutSerializer)
class AssociationActivityViewSet(RecordViewSet):
    """Activities of the association branches in the caller's region."""

    model = AssociationActivity
    serializer_class = AssociationActivityOutSerializer
    write_serializer = AssociationActivitySerializer
    filterset_class = AssociationActivityFilter
    fixed = ("branch",)

    def scoped(self) -> dict[str, Any]:
        return {"branch": AssociationBranch.objects.in_scope(self.request.user)}

    @with_schema(AssociationActivitySerializer, AssociationActivityOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @with_schema(AssociationActivitySerializer, AssociationActivityOutSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def service_create(self, values: dict[str, Any]) -> TrackedModel:
        return association_services.create_association_activity(acting_user=self.actor, **values)

    def service_update(self, obj: Any, version: int | None, values: dict[str, Any]) -> None:
        association_services.update_association_activity(
            acting_user=self.actor, activity=obj, expected_version=version, **values
        )
