"""Families, applications and village notices of the programmes in the API (issue 17):

- ``/api/programme-families/``: list (ID numbers masked; ``?q=`` name, ``?region=``
  subtree), one family with its children nested (full ID numbers; the read is logged),
  create (children may be given with it), PATCH, and POST ``.../children/`` and
  ``.../certify/``;
- ``/api/programme-applications/``: list and one (ID numbers and bank cards masked;
  ``?status=``), create, and POST ``.../review/``, ``approve``, ``refuse``, ``appeal``,
  ``decide-appeal``, ``withdraw``;
- ``/api/programme-notices/``: list, one (its applications, masked), create;
- ``/api/programme-benefits/``: the beneficiaries (``?programme=``, ``?status=``,
  ``?family=``), ID numbers and bank cards masked; one benefit's read is logged.

Every change goes through ``programmes.services``: every client is refused the same things
with the same messages, in the one error shape. Reading needs BENEFITS (as the pages do).
"""

from __future__ import annotations

from typing import Any, cast

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from liudong.accounts.models import User
from liudong.accounts.permissions import capability_for_all
from liudong.accounts.roles import BENEFITS
from liudong.api.viewsets import ScopedModelViewSet
from liudong.people.api.views import KEY_REGEX
from liudong.services.api.programmes.serializers import (
    ProgrammeAppealDecisionSerializer,
    ProgrammeAppealSerializer,
    ProgrammeApplicationFilter,
    ProgrammeApplicationSerializer,
    ProgrammeApplySerializer,
    ProgrammeBenefitFilter,
    ProgrammeBenefitSerializer,
    ProgrammeCertifySerializer,
    ProgrammeChildAddSerializer,
    ProgrammeFamilyDetailSerializer,
    ProgrammeFamilyFilter,
    ProgrammeFamilySerializer,
    ProgrammeFamilyWriteSerializer,
    ProgrammeNoticeDetailSerializer,
    ProgrammeNoticeSerializer,
    ProgrammeNoticeWriteSerializer,
    ProgrammeReviewSerializer,
    ProgrammeStepSerializer,
    ProgrammeVersionSerializer,
)
from liudong.services.programmes import services
from liudong.services.programmes.models import (
    Application,
    Benefit,
    Family,
    PublicNotice,
)

Status = Application.Status


def _actor(request: Request) -> User:
    """The account behind an API request: the permission classes let no anonymous caller
    this far."""
    return cast(User, request.user)


class FamilyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """Families of the programmes kept by the caller's region."""

    model = Family
    serializer_class = ProgrammeFamilySerializer
    filterset_class = ProgrammeFamilyFilter
    permission_classes = [capability_for_all(BENEFITS)]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = KEY_REGEX

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("household_region", "births_certified_by").order_by(
            "household_region", "applicant_name", "pk"
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return (
            ProgrammeFamilyDetailSerializer if self.action != "list" else ProgrammeFamilySerializer
        )

    def _fresh(self, pk: int) -> dict:
        family = self.get_queryset().prefetch_related("children").get(pk=pk)
        return ProgrammeFamilyDetailSerializer(family).data

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        family = self.get_object()
        services.view_family(acting_user=_actor(request), family=family, via="api")
        return Response(ProgrammeFamilyDetailSerializer(family).data)

    @extend_schema(
        request=ProgrammeFamilyWriteSerializer, responses={201: ProgrammeFamilyDetailSerializer}
    )
    def create(self, request: Request) -> Response:
        """Record a family, with its children if given (all or nothing)."""
        data = ProgrammeFamilyWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        children = values.pop("children", [])
        values.pop("version", None)
        with transaction.atomic():
            family = services.create_family(
                acting_user=_actor(request),
                applicant_name=values.get("applicant_name", ""),
                applicant_id_number=values.get("applicant_id_number", ""),
                household_type=values.get("household_type", ""),
                household_region=values.get("household_region") or _missing_region(),
                spouse_name=values.get("spouse_name", ""),
                spouse_id_number=values.get("spouse_id_number", ""),
                household_address=values.get("household_address", ""),
                person_id_number=values.get("person_id_number"),
            )
            for child in children:
                services.add_child(acting_user=_actor(request), family=family, **child)
        return Response(self._fresh(family.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ProgrammeFamilyWriteSerializer, responses={200: ProgrammeFamilyDetailSerializer}
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Correct the couple, household type, region or address (children: ``children/``)."""
        family = self.get_object()
        data = ProgrammeFamilyWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "children" in values:
            raise serializers.ValidationError(
                {"children": [_("Add a child with POST .../children/.")]}
            )
        version = values.pop("version", None)
        services.update_family(
            acting_user=_actor(request), family=family, expected_version=version, **values
        )
        return Response(self._fresh(family.pk))

    @extend_schema(
        request=ProgrammeChildAddSerializer, responses={201: ProgrammeFamilyDetailSerializer}
    )
    @action(detail=True, methods=["post"])
    def children(self, request: Request, pk: str | None = None) -> Response:
        """Add a child to the family."""
        family = self.get_object()
        data = ProgrammeChildAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version", None)
        services.add_child(
            acting_user=_actor(request), family=family, expected_version=version, **values
        )
        return Response(self._fresh(family.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ProgrammeCertifySerializer, responses={200: ProgrammeFamilyDetailSerializer}
    )
    @action(detail=True, methods=["post"])
    def certify(self, request: Request, pk: str | None = None) -> Response:
        """Record that the village and township certified the births (who: the caller)."""
        family = self.get_object()
        data = ProgrammeCertifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.certify_births(
            acting_user=_actor(request),
            family=family,
            certified_on=data.validated_data["certified_on"],
            note=data.validated_data.get("note", ""),
            expected_version=data.validated_data.get("version"),
        )
        return Response(self._fresh(family.pk))


def _missing_region() -> Any:
    raise serializers.ValidationError({"household_region": [_("A household region is required.")]})


# --- applications --------------------------------------------------------------------------


class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """Applications of the families of the caller's region, newest first."""

    model = Application
    serializer_class = ProgrammeApplicationSerializer
    filterset_class = ProgrammeApplicationFilter
    permission_classes = [capability_for_all(BENEFITS)]
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = KEY_REGEX

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related(
            "family", "programme", "reviewed_by", "decided_by", "appeal_decided_by"
        ).order_by("-applied_on", "pk")

    def _fresh(self, pk: int) -> dict:
        return ProgrammeApplicationSerializer(self.get_queryset().get(pk=pk)).data

    @extend_schema(
        request=ProgrammeApplySerializer, responses={201: ProgrammeApplicationSerializer}
    )
    def create(self, request: Request) -> Response:
        """Apply for her: refused with the first rule she fails, when she applied for the
        programme already (open or approved), or holds a benefit of its group."""
        data = ProgrammeApplySerializer(
            data=request.data, families=Family.objects.in_scope(_actor(request))
        )
        data.is_valid(raise_exception=True)
        values = data.validated_data
        family = values["family"]
        who = family.spouse_id_number if values["who"] == "spouse" else family.applicant_id_number
        if not who:
            raise serializers.ValidationError({"who": [_("The family has no spouse on record.")]})
        application = services.apply(
            acting_user=_actor(request),
            family=family,
            programme=values["programme"],
            id_number=who,
            applied_on=values.get("applied_on"),
            bank_card=values.get("bank_card", ""),
        )
        return Response(self._fresh(application.pk), status=status.HTTP_201_CREATED)

    def _step(self, request: Request, serializer: type[serializers.Serializer]) -> tuple:
        application = self.get_object()
        data = serializer(data=request.data)
        data.is_valid(raise_exception=True)
        return application, dict(data.validated_data)

    @extend_schema(
        request=ProgrammeReviewSerializer, responses={200: ProgrammeApplicationSerializer}
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        """The township's review after the village's notice ended: passed, or refused
        with a reason."""
        application, values = self._step(request, ProgrammeReviewSerializer)
        services.review(
            acting_user=_actor(request),
            application=application,
            passed=values["passed"],
            reason=values.get("reason", ""),
            on=values.get("on"),
            expected_version=values.get("version"),
        )
        return Response(self._fresh(application.pk))

    @extend_schema(request=ProgrammeStepSerializer, responses={200: ProgrammeApplicationSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """The county approves (never the one who reviewed it): her benefit begins."""
        application, values = self._step(request, ProgrammeStepSerializer)
        services.approve(
            acting_user=_actor(request),
            application=application,
            on=values.get("on"),
            expected_version=values.get("version"),
        )
        return Response(self._fresh(application.pk))

    @extend_schema(request=ProgrammeStepSerializer, responses={200: ProgrammeApplicationSerializer})
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, pk: str | None = None) -> Response:
        """The county refuses, with a reason she may appeal once."""
        application, values = self._step(request, ProgrammeStepSerializer)
        services.refuse(
            acting_user=_actor(request),
            application=application,
            reason=values.get("reason", ""),
            on=values.get("on"),
            expected_version=values.get("version"),
        )
        return Response(self._fresh(application.pk))

    @extend_schema(
        request=ProgrammeAppealSerializer, responses={200: ProgrammeApplicationSerializer}
    )
    @action(detail=True, methods=["post"])
    def appeal(self, request: Request, pk: str | None = None) -> Response:
        """Her appeal of a refusal to the county (once), with its grounds."""
        application, values = self._step(request, ProgrammeAppealSerializer)
        services.appeal(
            acting_user=_actor(request),
            application=application,
            grounds=values.get("grounds", ""),
            on=values.get("on"),
            expected_version=values.get("version"),
        )
        return Response(self._fresh(application.pk))

    @extend_schema(
        request=ProgrammeAppealDecisionSerializer, responses={200: ProgrammeApplicationSerializer}
    )
    @action(detail=True, methods=["post"], url_path="decide-appeal")
    def decide_appeal(self, request: Request, pk: str | None = None) -> Response:
        """The county's final decision on an appeal."""
        application, values = self._step(request, ProgrammeAppealDecisionSerializer)
        services.decide_appeal(
            acting_user=_actor(request),
            application=application,
            granted=values["granted"],
            reason=values.get("reason", ""),
            on=values.get("on"),
            expected_version=values.get("version"),
        )
        return Response(self._fresh(application.pk))

    @extend_schema(
        request=ProgrammeVersionSerializer, responses={200: ProgrammeApplicationSerializer}
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """She withdraws her application before it is decided."""
        application, values = self._step(request, ProgrammeVersionSerializer)
        services.withdraw(
            acting_user=_actor(request),
            application=application,
            expected_version=values.get("version"),
        )
        return Response(self._fresh(application.pk))


# --- notices -------------------------------------------------------------------------------


class NoticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """Village notices (公示) of the caller's region, newest first."""

    model = PublicNotice
    serializer_class = ProgrammeNoticeSerializer
    permission_classes = [capability_for_all(BENEFITS)]
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = KEY_REGEX

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("region", "posted_by").order_by("-posted_on", "pk")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return (
            ProgrammeNoticeDetailSerializer if self.action != "list" else ProgrammeNoticeSerializer
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        notice = self.get_object()
        return Response(ProgrammeNoticeDetailSerializer(notice).data)

    @extend_schema(
        request=ProgrammeNoticeWriteSerializer, responses={201: ProgrammeNoticeDetailSerializer}
    )
    def create(self, request: Request) -> Response:
        """Post a village's notice, at least 7 days."""
        data = ProgrammeNoticeWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        chosen = None
        if "applications" in values:
            chosen = list(
                Application.objects.in_scope(_actor(request)).filter(pk__in=values["applications"])
            )
            if len(chosen) != len(set(values["applications"])):
                raise serializers.ValidationError(
                    {
                        "applications": [
                            _(
                                "Only applications of this village's families waiting "
                                "for a notice may be posted."
                            )
                        ]
                    }
                )
        notice = services.post_notice(
            acting_user=_actor(request),
            village=values["region"],
            posted_on=values["posted_on"],
            ends_on=values["ends_on"],
            applications=chosen,
        )
        fresh = self.get_queryset().get(pk=notice.pk)
        return Response(ProgrammeNoticeDetailSerializer(fresh).data, status=status.HTTP_201_CREATED)


class BenefitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """Beneficiaries of the caller's region: read only (a benefit begins with an approval
    and ends through the re-qualification's services)."""

    model = Benefit
    serializer_class = ProgrammeBenefitSerializer
    filterset_class = ProgrammeBenefitFilter
    permission_classes = [capability_for_all(BENEFITS)]
    http_method_names = ["get", "head", "options"]
    lookup_value_regex = KEY_REGEX

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("programme", "family").order_by(
            "family__household_region_id", "name", "pk"
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        benefit = self.get_object()
        services.view_benefit(acting_user=_actor(request), benefit=benefit, via="api")
        return Response(ProgrammeBenefitSerializer(benefit).data)
