from django.urls import path

from . import views

app_name = "regions"
urlpatterns = [
    path("", views.browse, name="browse"),
    path("grids/", views.grid_list, name="grid_list"),
    path("grids/new/", views.grid_edit, name="grid_create"),
    path("grids/<int:pk>/", views.grid_edit, name="grid_edit"),
    path("import/", views.import_file, name="import"),
    path("search/", views.search, name="search"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/node/", views.tree_node, name="node"),
    path("<str:code>/add/", views.add_child, name="add"),
    path("<str:code>/rename/", views.rename, name="rename"),
    path("<str:code>/export.xlsx", views.export_file, name="export"),
]
