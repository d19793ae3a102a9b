from django.urls import path

from liudong.jobs import views as jobs_views

from . import views

app_name = "people"
urlpatterns = [
    path("", views.person_list, name="list"),
    path("arrive/", views.arrive, name="arrive"),
    path("outflow/", views.open_outflow, name="outflow"),
    # The import pages run through the jobs app, which runs long imports in the background.
    path("import/", jobs_views.person_import, name="import"),
    path("arrive/id/", views.id_check, name="id_check"),
    path("duplicates/", views.duplicate_list, name="duplicates"),
    path("duplicates/scan/", views.duplicate_scan, name="duplicate_scan"),
    path("duplicates/<int:pk>/", views.duplicate_detail, name="duplicate"),
    path("duplicates/<int:pk>/merge/", views.duplicate_merge, name="duplicate_merge"),
    path("duplicates/<int:pk>/undo/", views.duplicate_undo, name="duplicate_undo"),
    path("duplicates/<int:pk>/dismiss/", views.duplicate_dismiss, name="duplicate_dismiss"),
    path("<int:pk>/", views.person_detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/depart/", views.depart, name="depart"),
    path("<int:pk>/move/", views.move, name="move"),
    path("<int:pk>/return/", views.return_home, name="return"),
    path("<int:pk>/child/", views.add_child, name="add_child"),
]
