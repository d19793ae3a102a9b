"""The field API's URLs, mounted at /api/field/ (liudong/api/urls.py)."""

from django.urls import path

from .api import BundleView, SyncView

urlpatterns = [
    path("bundle/", BundleView.as_view(), name="field-bundle"),
    path("sync/", SyncView.as_view(), name="field-sync"),
]
