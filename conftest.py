"""Fixtures shared by every app's tests: the national divisions, a small county with
villages, and named staff accounts so a test reads like a sentence (STYLE.md §6).

County 330106 (西湖区) holds township A (330106002, 北山街道) and township B (330106004,
西溪街道); county 330105 (拱墅区) is another county altogether.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Property tests judge correctness, not speed: on a loaded two-core CI machine a slow
# example is not a failure (timings live in bench/).
hypothesis_settings.register_profile(
    "liudong", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("liudong")

PASSWORD = "Correct-Horse-42"  # noqa: S105 (test accounts only)

# How hard the schemathesis tests press every API operation (liudong/api/tests/
# schemathesis_harness.py): "ci" by default, "deep" for a nightly or manual run.
SCHEMATHESIS_DEPTH = os.environ.get("LIUDONG_SCHEMATHESIS", "ci")
if SCHEMATHESIS_DEPTH not in ("ci", "deep"):
    raise pytest.UsageError(f"LIUDONG_SCHEMATHESIS is ci or deep, not {SCHEMATHESIS_DEPTH!r}")


# --- running in parallel (pytest-xdist) and on two databases ---------------------------------


def pytest_configure(config):
    """Under pytest-xdist each worker (gw0, gw1, ...) keeps its var/ files apart: the run's
    audit key and node keys are created on first use, and two workers creating the same
    file at once would chain their test databases with different keys. pytest-django
    already gives each worker its own test database (``test_liudong_gw0``). The markers
    ``one_database`` and ``every_database`` are declared in pyproject.toml."""
    from django.conf import settings

    # Requests under test run inline what the server hands to `liudong worker` (imports): a
    # loaded CI machine must not turn them into 503s. The limit's own tests set theirs.
    settings.REQUEST_SECONDS = 300
    # Every figure a test reads goes through the statistics store and is held against the
    # live engine (liudong.stats.store, "check"); LIUDONG_STATS_STORE=on|off overrides.
    settings.STATS_STORE = os.environ.setdefault("LIUDONG_STATS_STORE", "check")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        folder = Path(settings.VAR_DIR) / worker
        folder.mkdir(parents=True, exist_ok=True)
        settings.VAR_DIR = folder
        os.environ["LIUDONG_VAR_DIR"] = str(folder)


# A test depends on the database when it asks for one of these (directly or through another
# fixture: item.fixturenames is the whole closure) or carries pytest-django's django_db mark.
DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "live_server",
        "admin_user",
        "admin_client",
        "django_user_model",
    }
)


def depends_on_the_database(item) -> bool:
    if item.get_closest_marker("one_database"):
        return False
    if item.get_closest_marker("every_database") or item.get_closest_marker("django_db"):
        return True
    return not DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


def running_on_postgresql() -> bool:
    from django.db import connections

    return connections["default"].vendor == "postgresql"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` first. On PostgreSQL run only what depends on the database:
    the SQLite pass (CI runs it first, scripts/test-all) already ran the rest.
    ``LIUDONG_TEST_EVERYTHING=1`` keeps every test, e.g. to run the whole suite on
    PostgreSQL alone."""
    # The longest tests first (a stable sort keeps each module's own order): xdist hands
    # tests out in this order, so a two-minute test started last no longer leaves one
    # worker running alone while the other idles.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    if not running_on_postgresql() or os.environ.get("LIUDONG_TEST_EVERYTHING") == "1":
        return
    kept, deselected = [], []
    for item in items:
        (kept if depends_on_the_database(item) else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the shipped divisions once per test database (about 45,000 rows)."""
    from liudong.regions.services import load_divisions

    with django_db_blocker.unblock():
        load_divisions()


@pytest.fixture
def villages(db):
    """Villages and groups of the test county, imported through the service."""
    from liudong.actors import OPERATOR
    from liudong.regions.services import import_regions

    rows = [
        (2, {"code": "330106002001", "name": "北山社区"}),
        (3, {"code": "330106002002", "name": "曙光社区"}),
        (4, {"code": "330106002001001", "name": "第一村民小组"}),
        (5, {"code": "330106004001", "name": "西溪社区"}),
        (6, {"code": "330106004002", "name": "桃源社区"}),
        (7, {"code": "330105001001", "name": "拱宸桥社区"}),
    ]
    summary = import_regions(rows, acting_user=OPERATOR)
    assert not summary.rejected, summary.rejected
    return summary


def make_user(username: str, role: str, region: str, full_name: str = ""):
    from liudong.accounts.services import create_user
    from liudong.actors import OPERATOR
    from liudong.regions.models import Region

    user, _password = create_user(
        acting_user=OPERATOR,
        username=username,
        role=role,
        region=Region.objects.get(code=region),
        password=PASSWORD,
        full_name=full_name or username,
        # Test accounts sign in with the known PASSWORD; the forced change at first sign-in
        # has its own tests (liudong/accounts/tests/test_sign_in_steps.py).
        must_change_password=False,
    )
    return user


@pytest.fixture
def county_admin(villages):
    return make_user("county_admin", "county", "330106")


@pytest.fixture
def county_b_admin(villages):
    return make_user("county_b_admin", "county", "330105")


@pytest.fixture
def township_a(villages):
    return make_user("township_a", "township", "330106002")


@pytest.fixture
def township_b(villages):
    return make_user("township_b", "township", "330106004")


@pytest.fixture
def village_a1(villages):
    return make_user("village_a1", "village", "330106002001")


@pytest.fixture
def collector_a1(villages):
    return make_user("collector_a1", "collector", "330106002001001")


@pytest.fixture
def provider_a(villages):
    return make_user("provider_a", "provider", "330106002")


@pytest.fixture
def inspector(villages):
    return make_user("inspector", "inspector", "330106")


@pytest.fixture
def auditor(villages):
    """The audit administrator (审计管理员) of county 330106: reads its audit log, nothing else."""
    return make_user("auditor", "auditor", "330106")


@pytest.fixture
def auditor_b(villages):
    return make_user("auditor_b", "auditor", "330105")


@pytest.fixture
def node_account(villages):
    return make_user("node_peer", "node", "330106")


@pytest.fixture
def grid_a(township_a, village_a1, collector_a1):
    from liudong.regions.models import Region
    from liudong.regions.services import save_grid

    return save_grid(
        acting_user=township_a,
        name="北山一网格",
        region=Region.objects.get(code="330106002"),
        areas=Region.objects.filter(code__in=["330106002001", "330106002002"]),
        responsible=village_a1,
        collectors=[collector_a1],
    )


@pytest.fixture
def grid_b(township_b):
    from liudong.regions.models import Region
    from liudong.regions.services import save_grid

    return save_grid(
        acting_user=township_b,
        name="西溪一网格",
        region=Region.objects.get(code="330106004"),
        areas=Region.objects.filter(code__in=["330106004001"]),
        responsible=township_b,
    )


def pass_second_factor(client, user) -> None:
    """Mark a signed-in test client's session as past the second factor, as a right code
    does (a confirmed authenticator is created for the user if it has none)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture
def client_for(client):
    """client_for(user): a test client signed in as that user, past the second factor where
    the role requires one (the sign-in steps themselves: accounts/tests/test_sign_in_steps.py)."""
    from django.test import Client

    from liudong.accounts.roles import second_factor_required

    def make(user):
        c = Client()
        c.force_login(user)
        if second_factor_required(user):
            pass_second_factor(c, user)
        return c

    return make


@pytest.fixture
def api_for():
    """api_for(user): a DRF API client authenticated as that user (None: anonymous)."""
    from rest_framework.test import APIClient

    def make(user=None):
        c = APIClient()
        if user is not None:
            c.force_authenticate(user)
        return c

    return make


@pytest.fixture(autouse=True)
def english_messages():
    """Service-level messages in English so assertions read plainly; pages and API calls
    still get Chinese by default (LocaleMiddleware activates per request)."""
    from django.utils import translation

    with translation.override("en"):
        yield


from django.contrib.auth.hashers import Argon2PasswordHasher  # noqa: E402


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 with test-sized cost: the same algorithm and prefix, a fraction of the time."""

    time_cost = 1
    memory_cost = 256
    parallelism = 1


@pytest.fixture(autouse=True)
def cheap_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["conftest.CheapArgon2PasswordHasher"]


@pytest.fixture
def node_keys(tmp_path, monkeypatch):
    """Signing keys of this test's own, in a folder of its own (never var/)."""
    from liudong.certificates import keys

    folder = tmp_path / "node-keys"
    monkeypatch.setenv("LIUDONG_NODE_KEY", str(folder))
    keys.forget_cache()
    yield folder
    keys.forget_cache()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: rate-limit counts (public checks, refused
    exchange messages) of one test never hold off another."""
    from django.core.cache import cache

    cache.clear()


_RUN_AUDIT_KEY: list = []


@pytest.fixture(autouse=True)
def _audit_key_of_the_run(monkeypatch):
    """The test database's log is keyed from its first entry (the divisions load) with the
    run's key, ``LIUDONG_VAR_DIR/audit-key``: a test that points VAR_DIR elsewhere (its own
    upload or photo folder) still extends that log with that key. ``audit_keys`` gives a
    test a key of its own."""
    from django.conf import settings

    from liudong.audit import keys

    if not _RUN_AUDIT_KEY:
        _RUN_AUDIT_KEY.append(
            os.environ.get("LIUDONG_AUDIT_KEY") or str(Path(settings.VAR_DIR) / "audit-key")
        )
    monkeypatch.setenv("LIUDONG_AUDIT_KEY", _RUN_AUDIT_KEY[0])
    keys.forget_cache()


@pytest.fixture(autouse=True)
def _own_audit_anchors(tmp_path_factory, monkeypatch):
    """Each test holds the audit log against anchors of its own: an anchor written for one
    test's database would report another test's shorter log as cut. (The file is created
    only if the test writes one.)"""
    import uuid

    from liudong.audit import anchors

    folder = tmp_path_factory.getbasetemp() / "audit-anchors"
    monkeypatch.setenv("LIUDONG_AUDIT_ANCHORS", str(folder / f"{uuid.uuid4().hex}.jsonl"))
    anchors.forget_cache()
    yield
    anchors.forget_cache()


@pytest.fixture
def audit_keys(tmp_path, monkeypatch, node_keys):
    """The audit chain key and anchor file of this test's own (never var/), anchors signed
    by this test's own node key. The key starts as a copy of the run's key, which chained
    the test database's first entry (the divisions load) before any test began."""
    import shutil

    from liudong.audit import anchors, keys

    folder = tmp_path / "audit"
    folder.mkdir()
    run_key = keys.key_path()
    if run_key.is_file():
        shutil.copyfile(run_key, folder / "audit-key")
        (folder / "audit-key").chmod(0o600)
    monkeypatch.setenv("LIUDONG_AUDIT_KEY", str(folder / "audit-key"))
    monkeypatch.setenv("LIUDONG_AUDIT_ANCHORS", str(folder / "audit-anchors.jsonl"))
    keys.forget_cache()
    anchors.forget_cache()
    yield folder
    keys.forget_cache()
    anchors.forget_cache()


@pytest.fixture(scope="session", autouse=True)
def _flush_lifts_the_audit_truncate_guard():
    """Transactional tests (live_server) end with Django's flush: one TRUNCATE of every
    table, which PostgreSQL refuses for the audit tables (audit migration 0004). A test
    database may be emptied, so the flush lifts the guard the way an operator would have
    to (DISABLE TRIGGER as the tables' owner), inside its own transaction."""
    try:
        from django.db.backends.postgresql.operations import DatabaseOperations
    except ImportError:  # no psycopg: no PostgreSQL run
        yield
        return
    guards = {
        "audit_auditentry": "audit_entry_no_truncate",
        "audit_audithead": "audit_head_no_truncate",
    }
    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        if not any("audit_auditentry" in sql for sql in sql_list):
            return original(self, sql_list)
        lift = [f"ALTER TABLE {table} DISABLE TRIGGER {name}" for table, name in guards.items()]
        keep = [f"ALTER TABLE {table} ENABLE TRIGGER {name}" for table, name in guards.items()]
        return original(self, [*lift, *sql_list, *keep])

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original
