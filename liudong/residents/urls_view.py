"""Her own pages (issue 19, VIEW): none takes an id, her session says whose they are."""

from django.urls import path

from . import views_view

urlpatterns = [
    path("", views_view.home, name="home"),
    path("who-read/", views_view.who_read, name="who_read"),
    path("certificate.pdf", views_view.certificate_pdf, name="certificate_pdf"),
    path("copy.json", views_view.copy_json, name="copy_json"),
    path("copy.pdf", views_view.copy_pdf_view, name="copy_pdf"),
]
