"""Matching report pages, mounted at /exchange/matching/."""

from django.urls import path

from . import match_views

app_name = "matching"
urlpatterns = [
    path("", match_views.new_match, name="new"),
    path("<str:report_id>/", match_views.report, name="report"),
    path("<str:report_id>/report.xlsx", match_views.report_xlsx, name="xlsx"),
]
