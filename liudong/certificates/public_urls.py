"""The public check page, mounted at /verify/ (no login): see ``public``."""

from django.urls import path

from .public import public_verify

app_name = "verify"
urlpatterns = [path("", public_verify, name="check")]
