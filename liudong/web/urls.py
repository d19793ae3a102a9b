from django.urls import path

from . import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("worklist/", views.worklist, name="worklist"),
    path("worklist/<int:grid_pk>/", views.worklist, name="grid_worklist"),
    # For the front proxy (README "Behind nginx"): no trailing slash, as proxies ask.
    path("healthz", views.healthz, name="healthz"),
]
