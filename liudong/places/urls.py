from django.urls import path

from liudong.web import records as web_records

from . import records, views

app_name = "places"
urlpatterns = [
    path("", views.hub, name="hub"),
    path("worklists/expiring-agreements/", views.expiring_agreements, name="expiring"),
    path("worklists/open-hazards/", views.open_hazards, name="hazards"),
    path("employers/<int:pk>/", views.employer_detail, name="employers_detail"),
    path("houses/<int:pk>/", views.house_detail, name="houses_detail"),
    path("sites/<int:pk>/", views.site_detail, name="sites_detail"),
    path("safety/<int:pk>/rectify/", views.rectify, name="rectify"),
    *web_records.urlpatterns(
        records.TYPES,
        list_view=views.record_list,
        new_view=views.record_new,
        edit_view=views.record_edit,
        detail_view=views.record_detail,
        own_detail=views.OWN_DETAIL,
    ),
]
for slug in views.TRANSFERS:
    urlpatterns += [
        path(f"{slug}/import/", views.import_file, {"slug": slug}, name=f"{slug}_import"),
        path(f"{slug}/export/", views.export_file, {"slug": slug}, name=f"{slug}_export"),
        path(f"{slug}/<int:pk>/link/", views.link_resident, {"slug": slug}, name=f"{slug}_link"),
    ]
