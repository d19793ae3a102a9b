"""Password policy (each refusal names its rule) and the forced change at first sign-in for a
password someone else chose."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from conftest import PASSWORD
from liudong.accounts import services
from liudong.accounts.models import User
from liudong.accounts.passwords import contains_id_number
from liudong.actors import OPERATOR
from liudong.audit.models import AuditEntry
from liudong.people import idnumbers
from liudong.regions.models import Region

pytestmark = pytest.mark.django_db

ID_NUMBER = idnumbers.make("330106", datetime.date(1988, 5, 17), 12, "1")


def refusal_codes(password: str, **user) -> set[str]:
    candidate = User(
        username=user.get("username", "wangfang"), full_name=user.get("full_name", "王芳")
    )
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        return {error.code for error in exc.error_list}
    return set()


@pytest.mark.parametrize(
    ("password", "rule", "words"),
    [
        ("Xk3-pq9", "password_too_short", "at least 10"),
        ("qwertyuiop", "password_too_common", "too common"),
        ("4839201756384", "password_entirely_numeric", "entirely numeric"),
        ("wangfang-2024-Q!", "password_contains_username", "user name"),
        ("Wangfang12", "password_too_similar", "too similar"),
        (f"my{ID_NUMBER}pw", "password_contains_id_number", "ID number"),
        (f"ab{ID_NUMBER[:17]}x!", "password_contains_id_number", "ID number"),
    ],
)
def test_each_rule_refuses_and_names_itself(password, rule, words):
    with pytest.raises(ValidationError) as refused:
        validate_password(password, User(username="wangfang", full_name="王芳"))
    assert rule in {error.code for error in refused.value.error_list}
    assert any(words in message for message in refused.value.messages), refused.value.messages


@pytest.mark.parametrize("password", ["Ld-7Tq9-vR2m", "beishan-spring-tea-42", "13579-Dawn-Gate"])
def test_good_passwords_pass(password):
    assert refusal_codes(password) == set()


def test_digits_that_are_not_an_id_number_pass():
    # 18 characters of digits but no real birth date inside (month 13).
    assert not contains_id_number("Zz-330106198813170123")


@given(
    prefix=st.text(max_size=12),
    suffix=st.text(max_size=12),
    born=st.dates(datetime.date(1930, 1, 1), datetime.date(2010, 12, 31)),
    sequence=st.integers(0, 999),
    sex=st.sampled_from(["1", "2"]),
)
def test_an_id_number_anywhere_in_a_password_is_found(prefix, suffix, born, sequence, sex):
    number = idnumbers.make("110105", born, sequence, sex)
    assert contains_id_number(prefix + number + suffix)
    assert contains_id_number(prefix + number.lower() + suffix)


def test_create_user_refuses_a_password_breaking_a_rule_with_the_field_named(villages):
    with pytest.raises(ValidationError) as refused:
        services.create_user(
            acting_user=OPERATOR,
            username="zhangsan",
            role="township",
            region=Region.objects.get(code="330106002"),
            password=f"Zs-{ID_NUMBER}",
        )
    assert "password" in refused.value.message_dict
    assert not User.objects.filter(username="zhangsan").exists()


# --- forced change at first sign-in ----------------------------------------------------


def new_account(county_admin, password=None) -> tuple[User, str]:
    return services.create_user(
        acting_user=county_admin,
        username="newcomer",
        role="township",
        region=Region.objects.get(code="330106002"),
        password=password,
    )


def test_an_account_created_by_someone_else_must_change_its_password(county_admin):
    generated, _password = new_account(county_admin)
    assert generated.must_change_password
    generated.delete()
    typed, _password = new_account(county_admin, password="Admin-Typed-Secret-9")
    # The administrator who typed it knows it as well as one who read it off the screen.
    assert typed.must_change_password


def test_forced_change_at_first_sign_in(county_admin):
    user, password = new_account(county_admin)
    client = Client()
    response = client.post("/accounts/login/", {"username": "newcomer", "password": password})
    assert response.status_code == 302 and response.url.startswith("/accounts/password/")
    for path in ["/", "/people/", "/accounts/security/"]:
        held = client.get(path)
        assert held.status_code == 302 and held.url.startswith("/accounts/password/"), path
    api = client.get("/api/persons/")
    assert api.status_code == 403 and api.json()["errors"][0]["code"] == "password_change_required"
    page = client.get("/accounts/password/")
    assert b'data-testid="password-change-required"' in page.content

    weak = client.post(
        "/accounts/password/",
        {
            "old_password": password,
            "new_password": "newcomer-2026!",
            "new_password_again": "newcomer-2026!",
        },
    )
    assert weak.status_code == 200 and b'data-testid="field-error-new_password"' in weak.content
    same = client.post(
        "/accounts/password/",
        {"old_password": password, "new_password": password, "new_password_again": password},
    )
    assert same.status_code == 200
    wrong_old = client.post(
        "/accounts/password/",
        {
            "old_password": "nope",
            "new_password": "Quiet-River-71",
            "new_password_again": "Quiet-River-71",
        },
    )
    assert wrong_old.status_code == 200
    user.refresh_from_db()
    assert user.must_change_password and user.check_password(password)

    done = client.post(
        "/accounts/password/?next=/people/",
        {
            "old_password": password,
            "new_password": "Quiet-River-71",
            "new_password_again": "Quiet-River-71",
            "next": "/people/",
        },
    )
    assert done.status_code == 302 and done.url == "/people/"
    assert client.get("/people/").status_code == 200  # the session survived the change
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password("Quiet-River-71")
    assert AuditEntry.objects.filter(
        actor_username="newcomer", detail__password="changed by holder"
    ).exists()


def test_a_reset_by_the_administrator_forces_a_change_again(county_admin, township_a, client_for):
    admin = client_for(county_admin)
    assert admin.post(f"/accounts/users/{township_a.pk}/password/").status_code == 302
    township_a.refresh_from_db()
    assert township_a.must_change_password
    # A session the holder already had is held too: the administrator knows the password.
    client = client_for(township_a)
    assert client.get("/people/").url.startswith("/accounts/password/")


def test_the_holder_changes_their_own_password_without_being_forced(township_a, client_for):
    client = client_for(township_a)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password": "Quiet-River-71",
            "new_password_again": "Quiet-River-71",
        },
    )
    assert response.status_code == 302
    township_a.refresh_from_db()
    assert township_a.check_password("Quiet-River-71")
