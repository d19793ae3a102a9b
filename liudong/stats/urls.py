"""The statistics pages, mounted at /stats/."""

from django.urls import path

from . import views

app_name = "stats"
urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.report, name="report"),
    path("report.xlsx", views.report_xlsx, name="report_xlsx"),
    path("report/submit/", views.submit, name="submit"),
    path("reports/", views.report_list, name="reports"),
    path("reports/<int:pk>/<str:decision>/", views.decide, name="decide"),
    path("indicators/", views.indicator_list, name="indicators"),
    path("indicators/new/", views.indicator_new, name="indicator_new"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard.xlsx", views.dashboard_xlsx, name="dashboard_xlsx"),
    path("targets/", views.targets, name="targets"),
    path("assessments/", views.assessments, name="assessments"),
    path("assessments/<int:pk>/", views.assessment, name="assessment"),
    path("assessments/<int:pk>.xlsx", views.assessment_xlsx, name="assessment_xlsx"),
    path("quality/", views.quality, name="quality"),
    path("spot-checks/", views.spot_checks, name="spot_checks"),
    path("spot-checks/<int:pk>/", views.spot_check, name="spot_check"),
    path("spot-checks/<int:pk>/sheets/", views.spot_check_sheets, name="spot_check_sheets"),
]
