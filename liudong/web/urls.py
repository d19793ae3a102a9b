from django.urls import path

from . import corrections, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("worklist/", views.worklist, name="worklist"),
    # Her correction requests, for the office holding her file (issue 19).
    path("corrections/", corrections.correction_list, name="corrections"),
    path("corrections/<int:pk>/", corrections.correction_detail, name="correction_detail"),
    path("worklist/<int:grid_pk>/", views.worklist, name="grid_worklist"),
    # For the front proxy (README "Behind nginx"): no trailing slash, as proxies ask.
    path("healthz", views.healthz, name="healthz"),
]
