"""API tokens expire (default 90 days), are listed to their account and to a staff
administrator in scope, and are revocable; an expired or revoked token gets the same 401."""

import importlib
import io
import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from liudong.accounts.models import ApiToken, User
from liudong.accounts.services import issue_token, revoke_token
from liudong.actors import OPERATOR

pytestmark = pytest.mark.django_db


def bearer(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def assert_refused_with_the_one_error_shape(response):
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    (error,) = response.json()["errors"]
    assert set(error) == {"field", "code", "message"} and error["code"] == "authentication_failed"


def test_a_token_lasts_ninety_days_unless_chosen_otherwise(township_a):
    issued = issue_token(acting_user=township_a, user=township_a)
    assert abs(issued.token.expires - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    week = issue_token(acting_user=township_a, user=township_a, days=7)
    assert abs(week.token.expires - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    for days in (0, -1, 367):
        with pytest.raises(ValidationError):
            issue_token(acting_user=township_a, user=township_a, days=days)
    assert ApiToken.objects.count() == 2


def test_an_expired_token_is_refused(township_a):
    issued = issue_token(acting_user=township_a, user=township_a, days=1)
    assert bearer(issued.key).get("/api/me/").status_code == 200
    ApiToken.objects.filter(pk=issued.token.pk).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    assert_refused_with_the_one_error_shape(bearer(issued.key).get("/api/me/"))
    # The same answer as a token that never existed: nothing tells the two apart.
    assert_refused_with_the_one_error_shape(bearer("ld_" + "x" * 43).get("/api/me/"))


def test_a_revoked_token_is_refused_at_once(township_a, api_for):
    issued = issue_token(acting_user=township_a, user=township_a)
    client = bearer(issued.key)
    assert client.get("/api/persons/").status_code == 200
    response = api_for(township_a).post(f"/api/tokens/{issued.token.pk}/revoke/")
    assert response.status_code == 200 and response.json()["state"] == "revoked"
    assert_refused_with_the_one_error_shape(client.get("/api/persons/"))
    # Revoking with itself: a token may be revoked by its own call, and stays revoked.
    other = issue_token(acting_user=township_a, user=township_a)
    response = bearer(other.key).post(f"/api/tokens/{other.token.pk}/revoke/")
    assert response.status_code == 200
    assert_refused_with_the_one_error_shape(bearer(other.key).get("/api/me/"))
    assert ApiToken.objects.filter(revoked__isnull=False).count() == 2


@pytest.fixture
def tokens(township_a, township_b, village_a1, county_admin, county_b_admin, auditor):
    made = {}
    for user in (township_a, township_b, village_a1, county_admin, county_b_admin, auditor):
        made[user.username] = issue_token(
            acting_user=OPERATOR, user=user, name=f"{user.username} tool"
        )
    return made


def listed(client, url="/api/tokens/"):
    return {row["username"] for row in client.get(url).json()["results"]}


def test_each_account_lists_only_its_own_tokens(tokens, township_a, village_a1, auditor, api_for):
    assert listed(api_for(township_a)) == {"township_a"}
    assert listed(api_for(village_a1)) == {"village_a1"}
    assert listed(api_for(auditor)) == {"auditor"}
    # Never the key: only its first characters.
    row = api_for(township_a).get("/api/tokens/").json()["results"][0]
    assert "token" not in row and row["prefix"] == tokens["township_a"].key[:8]
    other = tokens["village_a1"].token.pk
    assert api_for(township_a).get(f"/api/tokens/{other}/").status_code == 404
    assert api_for(township_a).post(f"/api/tokens/{other}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=other).revoked is None


def test_a_staff_administrator_lists_and_revokes_tokens_of_staff_in_scope(
    tokens, county_admin, county_b_admin, api_for, client_for
):
    # County 330106's staff, not county 330105's, and not its auditor's.
    assert listed(api_for(county_admin)) == {
        "township_a",
        "township_b",
        "village_a1",
        "county_admin",
    }
    assert listed(api_for(county_b_admin)) == {"county_b_admin"}
    page = client_for(county_admin).get("/accounts/tokens/").content.decode()
    assert tokens["village_a1"].token.prefix in page
    assert tokens["auditor"].token.prefix not in page
    assert tokens["county_b_admin"].token.prefix not in page
    village = tokens["village_a1"].token
    response = client_for(county_admin).post(f"/accounts/tokens/{village.pk}/revoke/")
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=village.pk).revoked is not None
    # Out of scope: 404, nothing revoked.
    auditor_token = tokens["auditor"].token
    assert (
        client_for(county_admin).post(f"/accounts/tokens/{auditor_token.pk}/revoke/").status_code
        == 404
    )
    assert api_for(county_b_admin).post(f"/api/tokens/{village.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=auditor_token.pk).revoked is None


def test_the_tokens_page_issues_one_with_the_chosen_expiry(
    township_a, county_admin, village_a1, client_for
):
    response = client_for(township_a).post("/accounts/tokens/", {"name": "报表脚本", "days": "30"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=township_a)
    assert abs(token.expires - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert response.context["issued"].key.startswith(token.prefix)
    # A township may not issue one for another account; an administrator may, in scope.
    refused = client_for(township_a).post(
        "/accounts/tokens/", {"days": "30", "username": "village_a1"}
    )
    assert refused.context["form"].non_field_errors()
    assert not ApiToken.objects.filter(user=village_a1).exists()
    assert ApiToken.objects.filter(user=township_a).count() == 1
    client_for(county_admin).post("/accounts/tokens/", {"days": "5", "username": "village_a1"})
    assert ApiToken.objects.get(user=village_a1).name == ""
    refused = client_for(township_a).post("/accounts/tokens/", {"days": "400"})
    assert refused.context["form"].errors and ApiToken.objects.filter(user=township_a).count() == 1


def test_revoking_is_audited_once(township_a):
    issued = issue_token(acting_user=township_a, user=township_a)
    revoke_token(acting_user=township_a, token=issued.token)
    revoke_token(acting_user=township_a, token=issued.token)
    from liudong.audit.models import AuditEntry

    assert AuditEntry.objects.filter(object_type="accounts.apitoken", action="update").count() == 1


def test_createuser_token_days(villages):
    out = io.StringIO()
    call_command(
        "createuser", "script_a", "--role", "township", "--region", "330106002",
        "--token", "--token-days", "7", "--format", "json", stdout=out,
    )  # fmt: skip
    result = json.loads(out.getvalue())
    token = ApiToken.objects.get(user__username="script_a")
    assert abs(token.expires - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    assert result["token"].startswith(token.prefix) and result["token_expires"]
    with pytest.raises((SystemExit, ValidationError)):
        call_command(
            "createuser", "script_b", "--role", "township", "--region", "330106002",
            "--token", "--token-days", "0", stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    # The refused token left no account behind.
    assert not User.objects.filter(username="script_b").exists()


def test_the_upgrade_gives_every_token_an_expiry_of_at_most_ninety_days(township_a):
    migration = importlib.import_module(
        "liudong.accounts.migrations.0003_token_expiry_auditor_login_counters"
    )
    year = issue_token(acting_user=OPERATOR, user=township_a, days=365).token
    week = issue_token(acting_user=OPERATOR, user=township_a, days=7).token
    migration.give_every_token_an_expiry(apps, None)
    year.refresh_from_db()
    week.refresh_from_db()
    assert abs(year.expires - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    assert abs(week.expires - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
