"""Matching report pages, mounted at /exchange/matching/."""

from django.urls import path

from . import views

app_name = "matching"
urlpatterns = [
    path("", views.new_match, name="new"),
    path("<str:report_id>/", views.report, name="report"),
    path("<str:report_id>/report.xlsx", views.report_xlsx, name="xlsx"),
]
