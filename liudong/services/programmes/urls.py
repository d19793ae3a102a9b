"""The programme pages, mounted at /programmes/: families, applications, the village
notices and the county's worklist (issue 17), the catalogue of programmes and amounts, and
the payments (their routes in ``payment_urls``)."""

from django.urls import path

from . import catalogue_views, views
from .payment_urls import urlpatterns as payment_urlpatterns

app_name = "programmes"
urlpatterns = [
    path("", views.family_list, name="families"),
    path("families/new/", views.family_create, name="family_create"),
    path("families/<int:pk>/", views.family_detail, name="family"),
    path("families/<int:pk>/edit/", views.family_edit, name="family_edit"),
    path("families/<int:pk>/certify/", views.family_certify, name="family_certify"),
    path("families/<int:pk>/children/new/", views.child_add, name="child_add"),
    path("families/<int:pk>/apply/", views.apply, name="apply"),
    path("children/<int:pk>/", views.child_edit, name="child_edit"),
    path("applications/", views.application_list, name="applications"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("applications/<int:pk>/<str:step>/", views.application_step, name="application_step"),
    path("worklist/", views.county_worklist, name="worklist"),
    path("benefits/", views.benefit_list, name="benefits"),
    path("benefits/<int:pk>/", views.benefit_detail, name="benefit"),
    path("notices/", views.notice_list, name="notices"),
    path("notices/new/", views.notice_create, name="notice_create"),
    path("notices/<int:pk>/", views.notice_detail, name="notice"),
    path("notices/<int:pk>/notice.pdf", views.notice_pdf, name="notice_pdf"),
    path("catalogue/", catalogue_views.programme_list, name="catalogue"),
    path("catalogue/new/", catalogue_views.programme_new, name="catalogue_new"),
    path("catalogue/<slug:code>/rules/", catalogue_views.programme_rules, name="catalogue_rules"),
    path("catalogue/<slug:code>/amount/", catalogue_views.amount_new, name="catalogue_amount"),
    *payment_urlpatterns,
]
