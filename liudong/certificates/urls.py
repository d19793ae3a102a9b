from django.urls import path, re_path

from . import views

app_name = "certificates"
NUMBER = r"(?P<number>\d{9}-\d{4}-\d{6,})"
urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("verify/record/", views.record, name="record"),
    path("notices/", views.notice_list, name="notices"),
    path("notices/give/<int:person_pk>/", views.give_notice, name="give_notice"),
    path("notices/<int:pk>/print/", views.notice_print, name="notice_print"),
    path("issue/<int:person_pk>/", views.issue, name="issue"),
    re_path(rf"^{NUMBER}/$", views.detail, name="detail"),
    re_path(rf"^{NUMBER}/pdf/$", views.pdf, name="pdf"),
    re_path(rf"^{NUMBER}/revoke/$", views.revoke, name="revoke"),
]
