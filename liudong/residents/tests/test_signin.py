"""She signs in as herself with the office's code: every bad input gets the same answer."""

from __future__ import annotations

import pytest
from django.urls import reverse

from liudong.audit.models import Action, AuditEntry
from liudong.residents import session

from .conftest import sign_in_data

pytestmark = pytest.mark.django_db


def _her_session(client) -> dict | None:
    return client.session.get(session.SESSION_KEY)


def test_she_signs_in_with_the_code_from_her_office(client, her, her_code):
    response = client.post(reverse("residents:sign_in"), sign_in_data(her, her_code))
    assert response.status_code == 302
    assert _her_session(client)["person"] == her.pk
    entry = AuditEntry.objects.filter(action=Action.LOGIN).first()
    assert entry.actor_username == f"resident:{her.pk}"
    assert entry.actor_role == "resident"
    assert entry.region == her.residence_region_id
    assert her.id_number not in str(entry.__dict__) and her.name not in str(entry.__dict__)


def _refused(client, data) -> str:
    response = client.post(reverse("residents:sign_in"), data)
    assert response.status_code == 200, response.status_code
    assert _her_session(client) is None
    errors = response.context["form"].non_field_errors()
    assert len(errors) == 1
    return errors[0]


def test_a_wrong_code_birth_date_or_id_number_gets_one_message(client, her, her_code):
    from liudong.residents.signin import refused_message
    from tests.scoped_models import fresh_id_number

    other_day = her.birth_date.replace(day=1 if her.birth_date.day != 1 else 2)
    wrong_code = "ACDEFHJKMN" if her_code != "ACDEFHJKMN" else "ACDEFHJKMP"
    messages = {
        _refused(client, sign_in_data(her, wrong_code)),
        _refused(client, sign_in_data(her, her_code, birth_date=other_day.isoformat())),
        _refused(client, sign_in_data(her, her_code, id_number=fresh_id_number())),
    }
    assert messages == {refused_message()}
    # Each refusal is on record, her ID number masked, never the code.
    failures = list(AuditEntry.objects.filter(action=Action.FAILED_LOGIN))
    assert len(failures) == 3
    assert {f.detail["reason"] for f in failures} == {
        "wrong code",
        "wrong birth date",
        "unknown ID number",
    }
    for entry in failures:
        text = str(entry.__dict__)
        assert her_code not in text and wrong_code not in text
        assert her.id_number not in text


def test_the_code_is_read_as_printed_whatever_the_case_and_dashes(client, her, her_code):
    from liudong.residents.codes import grouped

    typed = grouped(her_code).lower().replace("-", " - ")
    response = client.post(reverse("residents:sign_in"), sign_in_data(her, typed))
    assert response.status_code == 302


def test_an_expired_code_is_refused_like_a_wrong_one(client, her, her_code):
    import datetime

    from django.utils import timezone

    from liudong.residents.models import AccessCode
    from liudong.residents.signin import refused_message

    AccessCode.objects.filter(person=her).update(
        valid_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert _refused(client, sign_in_data(her, her_code)) == refused_message()
    assert AuditEntry.objects.get(action=Action.FAILED_LOGIN).detail["reason"] == "code expired"


def test_a_new_code_revokes_the_old(client, her, her_code, township_a):
    from liudong.residents.models import AccessCode
    from liudong.residents.services import issue_code
    from liudong.residents.signin import refused_message

    new_code, access = issue_code(acting_user=township_a, person=her)
    assert _refused(client, sign_in_data(her, her_code)) == refused_message()
    assert AuditEntry.objects.get(action=Action.FAILED_LOGIN).detail["reason"] == "wrong code"
    assert list(AccessCode.objects.filter(person=her, revoked_at__isnull=True)) == [access]
    assert client.post(reverse("residents:sign_in"), sign_in_data(her, new_code)).status_code == 302


def test_a_revoked_code_is_refused(client, her, her_code, township_a):
    from liudong.residents.services import revoke_codes
    from liudong.residents.signin import refused_message

    assert revoke_codes(acting_user=township_a, person=her) == 1
    assert _refused(client, sign_in_data(her, her_code)) == refused_message()
    assert AuditEntry.objects.get(action=Action.FAILED_LOGIN).detail["reason"] == "code revoked"


def test_only_a_hash_of_the_code_is_stored(her, her_code):
    from liudong.residents.models import AccessCode

    access = AccessCode.objects.get(person=her)
    assert her_code not in access.code_hash
    assert access.code_hash.startswith(("argon2", "pbkdf2"))


def test_the_code_is_ten_characters_without_look_alikes(her_code):
    from liudong.residents.codes import ALPHABET, LENGTH

    assert len(her_code) == LENGTH == 10
    assert set(her_code) <= set(ALPHABET)
    assert not set("0O1IL2Z5S8B6G") & set(ALPHABET)


@pytest.mark.parametrize("days", [None, 7])
def test_the_code_is_valid_for_the_set_days(her, township_a, settings, days):
    import datetime

    from django.utils import timezone

    from liudong.residents.services import issue_code

    settings.RESIDENT_CODE_DAYS = 30
    _code, access = issue_code(acting_user=township_a, person=her, days=days)
    expected = timezone.now() + datetime.timedelta(days=days or 30)
    assert abs((access.valid_until - expected).total_seconds()) < 60


def test_an_office_outside_her_file_cannot_issue_her_a_code(her, township_b, village_a1):
    from django.core.exceptions import PermissionDenied

    from liudong.residents.models import AccessCode
    from liudong.residents.services import issue_code

    for outsider in (township_b,):
        with pytest.raises(PermissionDenied):
            issue_code(acting_user=outsider, person=her)
    assert not AccessCode.objects.filter(person=her).exists()


def test_issuing_is_audited_without_the_code(her, township_a):
    from liudong.residents.services import issue_code

    code, access = issue_code(acting_user=township_a, person=her)
    entry = AuditEntry.objects.get(object_type="residents.accesscode", object_id=str(access.pk))
    assert entry.actor_username == "township_a" and entry.action == Action.CREATE
    assert code not in str(entry.__dict__)


# --- throttling ---------------------------------------------------------------------------


def test_many_attempts_for_one_id_number_lock_it_from_every_address(
    client, her, her_code, settings
):
    from django.test import Client

    settings.RESIDENT_ID_MAX_FAILURES = 3
    for n in range(3):
        Client(REMOTE_ADDR=f"10.0.0.{n + 1}").post(
            reverse("residents:sign_in"), sign_in_data(her, "ACDEFHJKMN")
        )
    # The right code, from yet another address: still locked.
    response = Client(REMOTE_ADDR="10.0.9.9").post(
        reverse("residents:sign_in"), sign_in_data(her, her_code)
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    # Another person's sign-in from a fresh address is not held by her lock.
    assert not AuditEntry.objects.filter(action=Action.LOGIN).exists()


def test_many_attempts_from_one_address_lock_the_address(client, her, her_code, settings):
    from tests.scoped_models import fresh_id_number

    settings.LOGIN_ADDRESS_MAX_FAILURES = 4
    for _n in range(4):  # a different (unknown) ID number each time: the per-ID lock never holds
        client.post(
            reverse("residents:sign_in"),
            sign_in_data(her, her_code, id_number=fresh_id_number()),
        )
    response = client.post(reverse("residents:sign_in"), sign_in_data(her, her_code))
    assert response.status_code == 429
    assert _her_session(client) is None


def test_the_work_is_the_same_whether_the_id_number_is_on_file_or_not(her, her_code, monkeypatch):
    """One hash check either way: the time does not tell whether a file exists."""
    from liudong.residents import signin
    from tests.scoped_models import fresh_id_number

    checks = []
    real = signin.check_password
    monkeypatch.setattr(signin, "check_password", lambda *a: checks.append(1) or real(*a))
    for number in (her.id_number, fresh_id_number()):
        with pytest.raises(signin.SignInRefused):
            signin.identify(number, "ACDEFHJKMN", her.birth_date, "10.1.1.1")
    assert checks == [1, 1]


# --- her session --------------------------------------------------------------------------


def test_her_session_expires(client, her, her_code, settings):
    import time

    settings.RESIDENT_SESSION_SECONDS = 60
    client.post(reverse("residents:sign_in"), sign_in_data(her, her_code))
    held = client.session
    held[session.SESSION_KEY] = {**held[session.SESSION_KEY], "until": time.time() - 1}
    held.save()
    from django.test import RequestFactory

    request = RequestFactory().get("/me/")
    request.session = client.session
    assert session.current(request) is None


def test_her_sign_in_replaces_a_staff_session(client_for, township_a, her, her_code):
    staff = client_for(township_a)
    assert staff.get(reverse("people:list")).status_code == 200
    staff.post(reverse("residents:sign_in"), sign_in_data(her, her_code))
    assert staff.session.get(session.SESSION_KEY)["person"] == her.pk
    assert "_auth_user_id" not in staff.session
    response = staff.get(reverse("people:list"))
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_staff_views_see_no_user_in_her_session(client, her, her_code):
    """She is not request.user: a staff view sees an anonymous caller."""
    from django.contrib.auth.models import AnonymousUser

    client.post(reverse("residents:sign_in"), sign_in_data(her, her_code))
    response = client.get(reverse("accounts:login"))
    assert isinstance(response.wsgi_request.user, AnonymousUser)


def test_her_session_is_read_only_outside_her_pages(client, her, her_code):
    client.post(reverse("residents:sign_in"), sign_in_data(her, her_code))
    assert client.post(reverse("people:list"), {}).status_code == 403
    # Her own pages still take her POSTs: she signs out.
    response = client.post(reverse("residents:sign_out"))
    assert response.status_code == 302
    assert _her_session(client) is None
    assert AuditEntry.objects.filter(action=Action.LOGOUT, actor_role="resident").exists()


def test_a_staff_sign_in_ends_her_session(client, her, her_code, township_a):
    from django.contrib.auth.hashers import make_password

    township_a.password = make_password("Lang-enough-pass-9")
    township_a.save()
    client.post(reverse("residents:sign_in"), sign_in_data(her, her_code))
    client.post(
        reverse("accounts:login"), {"username": "township_a", "password": "Lang-enough-pass-9"}
    )
    assert _her_session(client) is None
    assert "_auth_user_id" in client.session


def test_the_code_opens_one_session_only(client, her, her_code):
    """A one-time code: marked used at the first sign-in; the same code again is refused
    with the one message, and nobody is signed in."""
    from liudong.residents.models import AccessCode

    client.post(reverse("residents:sign_in"), sign_in_data(her, her_code))
    assert AccessCode.objects.get(person=her).last_used_at is not None
    client.post(reverse("residents:sign_out"))
    again = client.post(reverse("residents:sign_in"), sign_in_data(her, her_code))
    assert _her_session(client) is None
    assert again.status_code == 200


def test_her_sign_out_does_not_end_a_staff_session(client_for, township_a):
    staff = client_for(township_a)
    assert staff.post(reverse("residents:sign_out")).status_code == 302
    assert staff.get(reverse("people:list")).status_code == 200
