"""The services pages, mounted at /services/."""

from django.urls import path

from . import views

app_name = "services"
urlpatterns = [
    # The hub: its first tab is the campaigns.
    path("", views.campaign_list, name="campaigns"),
    path("records/", views.record_list, name="records"),
    path("records/new/", views.record_create, name="record_create"),
    path("records/export.xlsx", views.record_export, name="record_export"),
    path("records/import/", views.record_import, name="record_import"),
    path("records/<int:pk>/", views.record_detail, name="record"),
    path("records/<int:pk>/follow-ups/new/", views.follow_up_create, name="follow_up_create"),
    path("follow-ups/", views.followup_list, name="followups"),
    path("follow-ups/export.xlsx", views.followup_export, name="followup_export"),
    path("follow-ups/import/", views.list_import, {"what": "follow_ups"}, name="followup_import"),
    path("follow-ups/<int:pk>/done/", views.follow_up_done, name="follow_up_done"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/export.xlsx", views.campaign_export, name="campaign_export"),
    path("campaigns/import/", views.list_import, {"what": "campaigns"}, name="campaign_import"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/summary.xlsx", views.campaign_summary_xlsx, name="campaign_xlsx"),
    path("campaigns/<int:pk>/activities/new/", views.activity_create, name="activity_create"),
    path("campaigns/<int:pk>/activities/import/", views.activity_import, name="activity_import"),
    path("campaigns/<int:pk>/activities.xlsx", views.activity_export, name="activity_export"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/photos/", views.activity_photos, name="activity_photos"),
    path("photos/<int:pk>/", views.activity_photo, name="activity_photo"),
    path("photos/<int:pk>/remove/", views.activity_photo_remove, name="activity_photo_remove"),
    path("help/", views.help_list, name="help_list"),
    path("help/new/", views.help_create, name="help_create"),
    path("help/export.xlsx", views.help_export, name="help_export"),
    path("help/import/", views.list_import, {"what": "help"}, name="help_import"),
    path("help/person/", views.person_lookup, name="person_lookup"),
    path("help/<int:pk>/", views.help_detail, name="help"),
    path("associations/", views.branch_list, name="branches"),
    path("associations/new/", views.branch_create, name="branch_create"),
    path("associations/export.xlsx", views.branch_export, name="branch_export"),
    path("associations/import/", views.list_import, {"what": "branches"}, name="branch_import"),
    path("associations/<int:pk>/", views.branch_detail, name="branch"),
    path("associations/<int:pk>/edit/", views.branch_edit, name="branch_edit"),
    path("associations/<int:pk>/members/new/", views.member_add, name="member_add"),
    path("associations/<int:pk>/members.xlsx", views.member_export, name="member_export"),
    path("associations/<int:pk>/members/import/", views.member_import, name="member_import"),
    path(
        "associations/<int:pk>/activities/new/",
        views.branch_activity_create,
        name="branch_activity_create",
    ),
    path(
        "associations/<int:pk>/activities.xlsx",
        views.branch_activity_export,
        name="branch_activity_export",
    ),
    path(
        "associations/<int:pk>/activities/import/",
        views.branch_activity_import,
        name="branch_activity_import",
    ),
    path("members/<int:pk>/edit/", views.member_edit, name="member_edit"),
    path("members/<int:pk>/leave/", views.member_leave, name="member_leave"),
    path(
        "association-activities/<int:pk>/edit/",
        views.branch_activity_edit,
        name="branch_activity_edit",
    ),
]
