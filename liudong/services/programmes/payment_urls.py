"""The payment pages' routes (included by ``urls`` under /programmes/payments/). Cards and
ID numbers never appear in them: lines and lists are named by their number."""

from django.urls import path

from . import payment_views as views

urlpatterns = [
    path("payments/", views.payment_lists, name="payment_lists"),
    path("payments/<int:pk>/", views.payment_list, name="payment_list"),
    path("payments/<int:pk>/export/", views.payment_export, name="payment_export"),
    path("payments/<int:pk>/totals.csv", views.payment_totals_csv, name="payment_totals"),
    path("payments/lines/", views.payment_lines, name="payment_lines"),
    path("payments/lines/<int:pk>/", views.payment_line, name="payment_line"),
    path("payments/failures/", views.payment_failures, name="payment_failures"),
]
