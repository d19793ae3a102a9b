"""The programme pages, mounted at /programmes/: the catalogue, and the payments (their
routes in ``payment_urls``)."""

from django.urls import path

from . import catalogue_views
from .payment_urls import urlpatterns as payment_urlpatterns

app_name = "programmes"
urlpatterns = [
    path("catalogue/", catalogue_views.programme_list, name="catalogue"),
    path("catalogue/new/", catalogue_views.programme_new, name="catalogue_new"),
    path("catalogue/<slug:code>/rules/", catalogue_views.programme_rules, name="catalogue_rules"),
    path("catalogue/<slug:code>/amount/", catalogue_views.amount_new, name="catalogue_amount"),
    *payment_urlpatterns,
]
