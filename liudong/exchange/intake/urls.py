"""The department intake pages, under /exchange/ in the ``exchange`` namespace (included by
liudong/exchange/urls.py, so their names stay ``exchange:intake_*``)."""

from django.urls import path

from .views import (
    batch_confirm_changed,
    batch_detail,
    batch_export,
    batch_list,
    row_confirm,
    row_dismiss,
)

urlpatterns = [
    path("intake/", batch_list, name="intake_list"),
    path("intake/<int:pk>/", batch_detail, name="intake_batch"),
    path("intake/<int:pk>/confirm-changed/", batch_confirm_changed, name="intake_confirm_changed"),
    path("intake/<int:pk>/report.xlsx", batch_export, name="intake_export"),
    path("intake/rows/<int:pk>/confirm/", row_confirm, name="intake_row_confirm"),
    path("intake/rows/<int:pk>/dismiss/", row_dismiss, name="intake_row_dismiss"),
]
