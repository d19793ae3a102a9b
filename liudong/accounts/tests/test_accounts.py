import io
import json

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command

from liudong.accounts.models import ApiToken, User
from liudong.accounts.services import create_user, issue_token, update_user
from liudong.actors import OPERATOR
from liudong.audit.models import AuditEntry
from liudong.regions.models import Region

pytestmark = pytest.mark.django_db


def command(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, out.getvalue(), err.getvalue()


def test_createuser_prints_a_password_hashed_with_argon2(villages):
    status, out, _ = command(
        "createuser", "wang", "--role", "township", "--region", "330106002", "--format", "json"
    )
    assert status == 0
    result = json.loads(out)
    user = User.objects.get(username="wang")
    assert user.password.startswith("argon2$")
    assert user.check_password(result["password"])
    assert (user.role, user.region_id) == ("township", "330106002")
    assert AuditEntry.objects.filter(action="create", object_id=str(user.pk)).exists()


@pytest.mark.parametrize(
    "args, field, fragment",
    [
        (["--role", "township", "--region", "339999999"], "region", "Unknown region code"),
        (["--role", "township", "--region", "33x"], "region", "digits only"),
        (["--role", "township", "--region", "330106"], "region", "belongs to a township"),
        (["--role", "collector", "--region", "330106002"], "region", "village"),
    ],
)
def test_createuser_refuses_bad_regions_naming_the_field(villages, args, field, fragment):
    status, out, err = command("createuser", "li", *args, "--format", "json")
    assert status == 1
    error = json.loads(out)["errors"][0]
    assert error["field"] == field and fragment in error["message"]
    assert err.startswith("liudong: error:")
    assert not User.objects.filter(username="li").exists()


def test_an_account_without_a_region_is_refused(db):
    with pytest.raises(ValidationError) as exc:
        create_user(acting_user=OPERATOR, username="noregion", role="township", region=None)
    assert "region" in exc.value.message_dict
    assert not User.objects.filter(username="noregion").exists()


def test_weak_passwords_are_refused(villages):
    with pytest.raises(ValidationError) as exc:
        create_user(
            acting_user=OPERATOR,
            username="weak",
            role="township",
            region=Region.objects.get(code="330106002"),
            password="12345678",
        )
    assert "password" in exc.value.message_dict


def test_only_county_admins_manage_accounts_and_only_in_their_county(
    county_admin, county_b_admin, township_a
):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        update_user(acting_user=township_a, user=township_a, role="county")
    with pytest.raises(PermissionDenied):
        update_user(acting_user=county_b_admin, user=township_a, full_name="x")
    with pytest.raises(PermissionDenied):
        # moving an account out of one's own county is moving it out of scope
        update_user(
            acting_user=county_admin, user=township_a, region=Region.objects.get(code="330105001")
        )
    update_user(acting_user=county_admin, user=township_a, full_name="王芳")
    assert User.objects.get(pk=township_a.pk).full_name == "王芳"


def test_tokens_are_stored_only_as_hashes(township_a, api_for):
    issued = issue_token(acting_user=township_a, user=township_a)
    stored = ApiToken.objects.get()
    assert issued.key not in (stored.key_hash, stored.prefix)
    assert stored.key_hash == ApiToken.hash_key(issued.key)
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    assert client.get("/api/me/").json()["username"] == "township_a"
    client.credentials(HTTP_AUTHORIZATION="Bearer ld_wrong")
    assert client.get("/api/me/").status_code == 401


def test_session_settings():
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_county_admin_resets_a_password_and_only_in_scope(
    county_admin, county_b_admin, township_a, client_for
):
    url = f"/accounts/users/{township_a.pk}/password/"
    assert client_for(county_b_admin).post(url).status_code == 404
    assert client_for(township_a).post(url).status_code == 403
    old_hash = User.objects.get(pk=township_a.pk).password
    response = client_for(county_admin).post(url, follow=True)
    assert response.status_code == 200
    assert User.objects.get(pk=township_a.pk).password != old_hash
    assert AuditEntry.objects.filter(
        object_id=str(township_a.pk), action="update", detail__password="reset"
    ).exists()


def test_reading_an_account_is_logged_on_the_web_and_the_api(
    township_a, village_a1, client_for, api_for
):
    client_for(township_a).get(f"/accounts/users/{village_a1.pk}/")
    api_for(township_a).get(f"/api/users/{village_a1.pk}/")
    views = AuditEntry.objects.filter(action="view", object_id=str(village_a1.pk))
    assert sorted(v.detail["via"] for v in views) == ["api", "web"]
    assert {v.actor_username for v in views} == {"township_a"}
    assert {v.region for v in views} == {"330106002001"}
