"""The REST API under /api/: one router for every app's viewsets."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from liudong.accounts.api.views import ApiTokenViewSet, UserViewSet, me, obtain_token
from liudong.api.records import register as register_records
from liudong.audit.api.views import AuditEntryViewSet
from liudong.certificates.api.views import (
    CertificateViewSet,
    NoticeViewSet,
    VerificationViewSet,
)
from liudong.exchange.assistance.api import AssistanceRequestViewSet
from liudong.exchange.intake.api import IntakeBatchViewSet, IntakeRowViewSet
from liudong.exchange.matching.api import MatchReportViewSet
from liudong.exchange.messaging.api import InboxMessageViewSet, OutboxMessageViewSet
from liudong.people.api.views import ChildViewSet, EpisodeViewSet, PersonViewSet
from liudong.places.api.views import VIEWSETS as PLACE_VIEWSETS
from liudong.regions.api.views import GridViewSet, RegionViewSet
from liudong.services.api.associations.views import (
    AssociationActivityViewSet,
    BranchViewSet,
    MembershipViewSet,
)
from liudong.services.api.campaigns.views import ActivityViewSet, CampaignViewSet
from liudong.services.api.help_requests.views import HelpRequestViewSet
from liudong.services.api.programmes.views import ApplicationViewSet as ProgrammeApplicationViewSet
from liudong.services.api.programmes.views import BenefitViewSet as ProgrammeBenefitViewSet
from liudong.services.api.programmes.views import FamilyViewSet as ProgrammeFamilyViewSet
from liudong.services.api.programmes.views import NoticeViewSet as ProgrammeNoticeViewSet
from liudong.services.api.records.views import FollowUpViewSet, ServiceRecordViewSet
from liudong.services.api.requalification.views import RequalificationViewSet, RoundViewSet
from liudong.services.programmes.payment_api import PaymentLineViewSet, PaymentListViewSet
from liudong.stats.api.views import (
    AssessmentViewSet,
    IndicatorViewSet,
    MonthlyReportViewSet,
    QualityViewSet,
    SpotCheckViewSet,
    TargetViewSet,
)

router = DefaultRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("grids", GridViewSet, basename="grid")
router.register("users", UserViewSet, basename="user")
router.register("tokens", ApiTokenViewSet, basename="token")
router.register("audit", AuditEntryViewSet, basename="audit")
router.register("persons", PersonViewSet, basename="person")
router.register("episodes", EpisodeViewSet, basename="episode")
router.register("children", ChildViewSet, basename="child")
router.register("certificates", CertificateViewSet, basename="certificate")
router.register("verifications", VerificationViewSet, basename="verification")
router.register("notices", NoticeViewSet, basename="notice")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("activities", ActivityViewSet, basename="activity")
router.register("association-branches", BranchViewSet, basename="association-branch")
router.register("memberships", MembershipViewSet, basename="membership")
router.register(
    "association-activities", AssociationActivityViewSet, basename="association-activity"
)
router.register("help-requests", HelpRequestViewSet, basename="help-request")
router.register("service-records", ServiceRecordViewSet, basename="service-record")
router.register("follow-ups", FollowUpViewSet, basename="follow-up")
router.register("programme-families", ProgrammeFamilyViewSet, basename="programme-family")
router.register(
    "programme-applications", ProgrammeApplicationViewSet, basename="programme-application"
)
router.register("programme-notices", ProgrammeNoticeViewSet, basename="programme-notice")
router.register("programme-benefits", ProgrammeBenefitViewSet, basename="programme-benefit")
router.register("requalification-rounds", RoundViewSet, basename="requalification-round")
router.register("requalifications", RequalificationViewSet, basename="requalification")
register_records(router, PLACE_VIEWSETS)  # employers, rental-houses, sites, agreements, ...
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("monthly-reports", MonthlyReportViewSet, basename="monthly-report")
router.register("targets", TargetViewSet, basename="target")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("quality", QualityViewSet, basename="quality")
router.register("inbox-messages", InboxMessageViewSet, basename="inbox-message")
router.register("outbox-messages", OutboxMessageViewSet, basename="outbox-message")
router.register("spot-checks", SpotCheckViewSet, basename="spot-check")
router.register("assistance-requests", AssistanceRequestViewSet, basename="assistance-request")
router.register("intake-batches", IntakeBatchViewSet, basename="intake-batch")
router.register("intake-rows", IntakeRowViewSet, basename="intake-row")
router.register("match-reports", MatchReportViewSet, basename="match-report")
router.register("payment-lists", PaymentListViewSet, basename="payment-list")
router.register("payment-lines", PaymentLineViewSet, basename="payment-line")

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("me/", me, name="me"),
    path("auth/token/", obtain_token, name="token"),
    path("field/", include("liudong.field.api_urls")),
    path("", include(router.urls)),
]
