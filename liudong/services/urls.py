"""The services pages, mounted at /services/."""

from django.urls import path

from liudong.services import list_views, views
from liudong.services.associations import views as association_views
from liudong.services.campaigns import views as campaign_views
from liudong.services.help_requests import views as help_views
from liudong.services.records import views as record_views

app_name = "services"
urlpatterns = [
    # The hub: its first tab is the campaigns.
    path("", campaign_views.campaign_list, name="campaigns"),
    path("records/", record_views.record_list, name="records"),
    path("records/new/", record_views.record_create, name="record_create"),
    path("records/export.xlsx", record_views.record_export, name="record_export"),
    path("records/import/", record_views.record_import, name="record_import"),
    path("records/<int:pk>/", record_views.record_detail, name="record"),
    path(
        "records/<int:pk>/follow-ups/new/", record_views.follow_up_create, name="follow_up_create"
    ),
    path("follow-ups/", record_views.followup_list, name="followups"),
    path("follow-ups/export.xlsx", record_views.followup_export, name="followup_export"),
    path(
        "follow-ups/import/", list_views.list_import, {"what": "follow_ups"}, name="followup_import"
    ),
    path("follow-ups/<int:pk>/done/", record_views.follow_up_done, name="follow_up_done"),
    path("campaigns/new/", campaign_views.campaign_create, name="campaign_create"),
    path("campaigns/export.xlsx", campaign_views.campaign_export, name="campaign_export"),
    path(
        "campaigns/import/", list_views.list_import, {"what": "campaigns"}, name="campaign_import"
    ),
    path("campaigns/<int:pk>/", campaign_views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/edit/", campaign_views.campaign_edit, name="campaign_edit"),
    path(
        "campaigns/<int:pk>/summary.xlsx",
        campaign_views.campaign_summary_xlsx,
        name="campaign_xlsx",
    ),
    path(
        "campaigns/<int:pk>/activities/new/", campaign_views.activity_create, name="activity_create"
    ),
    path(
        "campaigns/<int:pk>/activities/import/",
        campaign_views.activity_import,
        name="activity_import",
    ),
    path(
        "campaigns/<int:pk>/activities.xlsx", campaign_views.activity_export, name="activity_export"
    ),
    path("activities/<int:pk>/edit/", campaign_views.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/photos/", campaign_views.activity_photos, name="activity_photos"),
    path("photos/<int:pk>/", campaign_views.activity_photo, name="activity_photo"),
    path(
        "photos/<int:pk>/remove/",
        campaign_views.activity_photo_remove,
        name="activity_photo_remove",
    ),
    path("help/", help_views.help_list, name="help_list"),
    path("help/new/", help_views.help_create, name="help_create"),
    path("help/export.xlsx", help_views.help_export, name="help_export"),
    path("help/import/", list_views.list_import, {"what": "help"}, name="help_import"),
    path("help/person/", views.person_lookup, name="person_lookup"),
    path("help/<int:pk>/", help_views.help_detail, name="help"),
    path("associations/", association_views.branch_list, name="branches"),
    path("associations/new/", association_views.branch_create, name="branch_create"),
    path("associations/export.xlsx", association_views.branch_export, name="branch_export"),
    path(
        "associations/import/", list_views.list_import, {"what": "branches"}, name="branch_import"
    ),
    path("associations/<int:pk>/", association_views.branch_detail, name="branch"),
    path("associations/<int:pk>/edit/", association_views.branch_edit, name="branch_edit"),
    path("associations/<int:pk>/members/new/", association_views.member_add, name="member_add"),
    path(
        "associations/<int:pk>/members.xlsx", association_views.member_export, name="member_export"
    ),
    path(
        "associations/<int:pk>/members/import/",
        association_views.member_import,
        name="member_import",
    ),
    path(
        "associations/<int:pk>/activities/new/",
        association_views.branch_activity_create,
        name="branch_activity_create",
    ),
    path(
        "associations/<int:pk>/activities.xlsx",
        association_views.branch_activity_export,
        name="branch_activity_export",
    ),
    path(
        "associations/<int:pk>/activities/import/",
        association_views.branch_activity_import,
        name="branch_activity_import",
    ),
    path("members/<int:pk>/edit/", association_views.member_edit, name="member_edit"),
    path("members/<int:pk>/leave/", association_views.member_leave, name="member_leave"),
    path(
        "association-activities/<int:pk>/edit/",
        association_views.branch_activity_edit,
        name="branch_activity_edit",
    ),
]
