from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/status/", views.job_status, name="status"),
    path("<int:pk>/start/", views.job_start, name="start"),
    path("<int:pk>/cancel/", views.job_cancel, name="cancel"),
    path("<int:pk>/errors.xlsx", views.job_errors, name="errors"),
]
