"""The office's side of her access code: issued from her file's page (mounted under
/people/, namespace ``resident_codes``; these are staff pages, not hers)."""

from django.urls import path

from . import views_signin

app_name = "resident_codes"

urlpatterns = [
    path("<int:pk>/access-code/", views_signin.issue_code, name="issue"),
]
