"""The assistance pages (协查), mounted at /assistance/."""

from django.urls import path

from . import views

app_name = "assistance"
urlpatterns = [
    path("", views.worklist, name="list"),
    path("<int:pk>/", views.detail, name="detail"),
    path("ask/<int:person_pk>/", views.ask, name="ask"),
]
