from django.urls import path

from . import views_corrections as views

# Included by liudong/residents/urls.py (namespace "residents", under /me/).
urlpatterns = [
    path("corrections/", views.correction_list, name="corrections"),
    path("corrections/new/", views.correction_new, name="correction_new"),
    path("corrections/<int:pk>/", views.correction_detail, name="correction_detail"),
]
