"""The programmes pages, mounted at /programmes/ (issue 17). Each part keeps its routes in
a module of its own; this one joins them under the ``programmes`` namespace."""

from .payment_urls import urlpatterns as payment_urlpatterns

app_name = "programmes"
urlpatterns = [*payment_urlpatterns]
