"""The mailbox pages, under /exchange/ in the ``exchange`` namespace (included by
liudong/exchange/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("inbox/", views.inbox, name="inbox"),
    path("messages/", views.mailbox, name="mailbox"),
    path("messages/<uuid:pk>/apply/", views.apply_again, name="apply_again"),
]
