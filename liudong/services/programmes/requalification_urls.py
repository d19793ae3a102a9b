"""The re-qualification pages (年审), mounted at /programmes/requalification/."""

from django.urls import path

from . import requalification_views as views

app_name = "requalification"
urlpatterns = [
    path("", views.worklist, name="list"),
    path("rounds/new/", views.round_open, name="round_open"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
    path("rounds/<int:pk>/close/", views.round_close, name="round_close"),
    path("<int:pk>/", views.detail, name="detail"),
    path("benefits/<int:pk>/end/", views.benefit_end, name="benefit_end"),
]
