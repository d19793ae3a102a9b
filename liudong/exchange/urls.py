"""Node-to-node exchange, mounted at /exchange/."""

from django.urls import path

from . import views

app_name = "exchange"
urlpatterns = [
    path("", views.home, name="home"),
    path("inbox/", views.inbox, name="inbox"),
    path("messages/", views.mailbox, name="mailbox"),
    path("messages/<uuid:pk>/apply/", views.apply_again, name="apply_again"),
]

from .intake_views import urlpatterns as intake_urlpatterns  # noqa: E402 (department intake)

urlpatterns += intake_urlpatterns
