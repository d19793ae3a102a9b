from django.urls import path

from . import views

app_name = "people"
urlpatterns = [
    path("", views.person_list, name="list"),
    path("arrive/", views.arrive, name="arrive"),
    path("arrive/id/", views.id_check, name="id_check"),
    path("<int:pk>/", views.person_detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/depart/", views.depart, name="depart"),
    path("<int:pk>/move/", views.move, name="move"),
    path("<int:pk>/return/", views.return_home, name="return"),
]
