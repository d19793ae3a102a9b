"""Her pages under /me/ (namespace ``residents``). Each part of issue 19 keeps its patterns in
its own module so that the helpers building them never edit the same lines."""

from django.urls import include, path

app_name = "residents"

urlpatterns = [
    path("", include("liudong.residents.urls_signin")),
    path("", include("liudong.residents.urls_view")),
    path("", include("liudong.residents.urls_corrections")),
]
