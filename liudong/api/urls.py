"""The REST API under /api/: one router for every app's viewsets."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from liudong.accounts.api.views import UserViewSet, me, obtain_token
from liudong.audit.api.views import AuditEntryViewSet
from liudong.certificates.api.views import (
    CertificateViewSet,
    NoticeViewSet,
    VerificationViewSet,
)
from liudong.people.api.views import ChildViewSet, EpisodeViewSet, PersonViewSet
from liudong.regions.api.views import GridViewSet, RegionViewSet

router = DefaultRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("grids", GridViewSet, basename="grid")
router.register("users", UserViewSet, basename="user")
router.register("audit", AuditEntryViewSet, basename="audit")
router.register("persons", PersonViewSet, basename="person")
router.register("episodes", EpisodeViewSet, basename="episode")
router.register("children", ChildViewSet, basename="child")
router.register("certificates", CertificateViewSet, basename="certificate")
router.register("verifications", VerificationViewSet, basename="verification")
router.register("notices", NoticeViewSet, basename="notice")

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("me/", me, name="me"),
    path("auth/token/", obtain_token, name="token"),
    path("", include(router.urls)),
]
