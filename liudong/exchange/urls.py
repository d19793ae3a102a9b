"""Node-to-node exchange, mounted at /exchange/."""

from django.urls import path

from . import views

app_name = "exchange"
urlpatterns = [path("inbox/", views.inbox, name="inbox")]

from .intake_views import urlpatterns as intake_urlpatterns  # noqa: E402 (department intake)

urlpatterns += intake_urlpatterns
