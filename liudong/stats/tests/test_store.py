"""The pre-counted statistics store (liudong/stats/store): the triggers' marks, the
refresher, the read path, and the bad input of issue 15. The rest of the suite runs in
``check`` mode (every read held against the live engine); these tests run the store as
production does (``on``) and compare with the engine themselves."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, connections
from django.utils import timezone

from liudong.actors import OPERATOR
from liudong.people.models import Person, ResidenceEpisode
from liudong.stats import services, store
from liudong.stats.engine import Period, evaluate_counts
from liudong.stats.models import (
    Indicator,
    StoreCell,
    StoredCount,
    StoredMonth,
    StoreMark,
)
from liudong.stats.store import counting, refresher

from .conftest import FROM_HENAN, VILLAGE_A, certificate, child, resident, service


def patch_compute(monkeypatch, function) -> None:
    """Stand ``function`` in for the engine call of the refresher (and of the month and
    count builders, which call it through the counting module)."""
    for module in (counting, refresher):
        monkeypatch.setattr(module, "compute", function)


D = datetime.date
OCTOBER = Period(2026, 10)
MONTHS = [Period(2026, 8), Period(2026, 9), OCTOBER, Period(2026, 11)]
REGIONS = ["33", "3301", "330106", "330106002", "330106002001", "41", "411326"]
CHILD_LENGTHS = {2: 4, 4: 6, 6: 9, 9: 12, 12: 15}


@pytest.fixture
def on(settings):
    """The store as production runs it, keeping 2026-08 to the current month."""
    settings.STATS_STORE = "on"
    settings.STATS_FROM = "2026-08"


def all_counts() -> list:
    return refresher.indicator_counts()


def assert_store_equals_live(regions=REGIONS, months=MONTHS) -> None:
    counts = all_counts()
    for period in months:
        for region in regions:
            for child_length in (CHILD_LENGTHS.get(len(region)), None):
                args = {"region": region, "period": period, "child_length": child_length}
                read = store.read_counts(counts, **args)
                live = evaluate_counts(counts, **args)
                for count in counts:
                    assert dict(read[count]) == dict(live[count]), (count, args)


def marks() -> set[tuple[str, datetime.date]]:
    return set(StoreMark.objects.values_list("county", "since"))


def clear_marks() -> None:
    StoreMark.objects.all().delete()


def stored_value(count_code: str, period: Period, region: str) -> float:
    """The store's own figure (from cells only): fails if the count is not ready."""
    count = Indicator.objects.get(code=count_code).parsed
    registry = counting.register([count])
    assert registry[count].ready
    return counting.read(registry, region=region, period=period, child_length=None)[count][""]


# --- marks ------------------------------------------------------------------------------


def test_a_stay_marks_its_county_and_the_household_county_from_arrival(villages):
    resident(arrived=D(2026, 3, 5))
    assert marks() == {("330106", D(2026, 3, 5)), (FROM_HENAN, D(2026, 3, 5))}


def test_a_backdated_departure_marks_from_the_stay_arrival(villages):
    person = resident(arrived=D(2026, 3, 5))
    clear_marks()
    ResidenceEpisode.objects.filter(person=person).update(departure_date=D(2026, 9, 1))
    assert marks() == {("330106", D(2026, 3, 5)), (FROM_HENAN, D(2026, 3, 5))}


def test_a_name_edit_marks_nothing_a_marital_status_edit_marks_every_month(villages):
    person = resident()
    clear_marks()
    Person.objects.filter(pk=person.pk).update(name="改名")
    assert marks() == set()
    Person.objects.filter(pk=person.pk).update(marital_status="10")
    assert marks() == {("330106", D(1, 1, 1)), (FROM_HENAN, D(1, 1, 1))}


def test_a_merge_marks_her_counties(villages):
    person, kept = resident(), resident(household="411302")
    clear_marks()
    Person.objects.filter(pk=person.pk).update(merged_into=kept)
    assert {c for c, _ in marks()} == {"330106", FROM_HENAN}


@pytest.mark.parametrize(
    ("make", "since"),
    [
        (lambda p: certificate(p, issued=D(2026, 2, 1)), D(2026, 2, 1)),
        (lambda p: service(p, D(2026, 10, 3)), D(2026, 10, 3)),
    ],
    ids=["certificate", "service"],
)
def test_her_certificates_and_services_mark_her_counties(villages, make, since):
    person = resident()
    clear_marks()
    make(person)
    assert marks() == {("330106", since), (FROM_HENAN, since)}


def test_a_child_marks_where_the_parent_lived_from_the_birth(villages):
    mother = resident()
    clear_marks()
    child(mother, D(2026, 10, 9))
    assert marks() == {("330106", D(2026, 10, 9))}


def test_an_assistance_request_marks_its_county_from_the_deadline(villages):
    from .test_assistance_rate import asked

    asked(D(2026, 10, 20))
    assert marks() == {("330106", D(2026, 10, 20))}


def test_a_notice_marks_its_county_from_the_deadline(villages):
    from liudong.certificates.models import Notice

    from .test_ontime_rates import notice

    person = resident(arrived=D(2026, 6, 1))
    clear_marks()
    given = notice(person, D(2026, 10, 20))
    assert marks() == {("330106", D(2026, 10, 20))}
    clear_marks()
    Notice.objects.filter(pk=given.pk).update(fulfilled_on=D(2026, 10, 25))
    assert marks() == {("330106", D(2026, 10, 20))}


def test_rewriting_when_a_stay_was_registered_marks_from_its_arrival(villages):
    person = resident(arrived=D(2026, 3, 5))
    clear_marks()
    ResidenceEpisode.objects.filter(person=person).update(created=timezone.now())
    assert marks() == {("330106", D(2026, 3, 5)), (FROM_HENAN, D(2026, 3, 5))}


def test_a_spot_check_result_marks_the_village_county_from_the_visit(inspector):
    from liudong.stats import spotchecks

    from .test_spotchecks import ALL_CORRECT, TODAY, VISIT

    for _ in range(3):
        resident()
    check = spotchecks.draw("330106002", "2026-10", per_village=2, seed=7, acting_user=inspector)
    clear_marks()
    person = check.entries.order_by("position").first().person
    spotchecks.record(check, person, ALL_CORRECT, VISIT, today=TODAY, acting_user=inspector)
    assert marks() == {("330106", VISIT)}


def test_a_bulk_import_marks_each_county_once(villages):
    people = [resident(), resident(household="411302")]
    clear_marks()
    ResidenceEpisode.objects.bulk_create(
        [
            ResidenceEpisode(
                person=people[0],
                region_id="330105",
                arrival_date=D(2025, 4, 1),
                departure_date=D(2025, 9, 1),
            ),
            ResidenceEpisode(
                person=people[1],
                region_id=VILLAGE_A,
                arrival_date=D(2025, 6, 1),
                departure_date=D(2025, 9, 1),
            ),
        ]
    )
    found = marks()
    assert {c for c, _ in found} == {"330105", "330106", FROM_HENAN, "411302"}
    if connection.vendor == "postgresql":  # one statement: one mark per county
        assert StoreMark.objects.filter(county="330106").count() == 1


# --- refresh and read -------------------------------------------------------------------


def registry_of_changes() -> list[Person]:
    people = [
        resident(arrived=D(2026, 7, 20), verified=D(2026, 8, 10)),
        resident(age=40, sex="1", arrived=D(2026, 9, 1)),
        resident(household="330105", lives_in="330106004001", arrived=D(2026, 2, 1)),
        resident(household="330106", lives_in="411326", arrived=D(2025, 12, 1)),
    ]
    certificate(people[0], issued=D(2026, 8, 1))
    service(people[0], D(2026, 9, 12))
    child(people[0], D(2026, 10, 9), sex="2")
    return people


def test_refresh_builds_every_month_and_the_store_equals_the_engine(on, villages):
    registry_of_changes()
    summary = store.refresh()
    assert summary["complete"] and not summary["skipped"]
    assert sorted(StoredMonth.objects.values_list("month", flat=True)) == [
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
        "2026-12",
    ]
    assert not StoredCount.objects.filter(ready=False).exists()
    assert StoreCell.objects.exists()
    assert_store_equals_live()


def test_the_registration_and_notice_counts_in_the_store_equal_the_engine(on, villages):
    from .test_ontime_rates import REGISTRATION, beijing, notice

    registered = resident(arrived=D(2026, 10, 5), registered=beijing(10, 5))
    late = resident(lives_in="330106004001", arrived=D(2026, 10, 1), registered=beijing(11, 9))
    notice(registered, D(2026, 10, 20), D(2026, 10, 19))
    notice(late, D(2026, 9, 20))
    store.refresh()
    registration = Indicator.objects.get(code=REGISTRATION).parsed
    on_time = registration.numerator
    assert stored_value_of(on_time, OCTOBER, "330106") == 1
    assert stored_value_of(registration.denominator, OCTOBER, "330106") == 2
    answered = Indicator.objects.get(code="notices_answered_on_time_rate").parsed.numerator
    assert stored_value_of(answered, OCTOBER, "330106") == 1
    assert_store_equals_live()
    # Registering a stay of October late is counted in October after the next refresh.
    ResidenceEpisode.objects.filter(person=registered).update(created=beijing(11, 30))
    assert stored_value_of(on_time, OCTOBER, "330106") == 1
    store.refresh()
    assert stored_value_of(on_time, OCTOBER, "330106") == 0
    assert_store_equals_live()


def stored_value_of(count, period: Period, region: str) -> float:
    registry = counting.register([count])
    assert registry[count].ready
    return counting.read(registry, region=region, period=period, child_length=None)[count][""]


def test_changes_are_counted_after_the_next_refresh_only(on, villages):
    store.refresh()
    assert stored_value("inflow_total", OCTOBER, "330106") == 0
    resident(arrived=D(2026, 9, 14))  # backdated: September on
    assert store.as_of() is not None  # figures as of the last refresh
    assert stored_value("inflow_total", OCTOBER, "330106") == 0  # stale until refreshed
    summary = store.refresh()
    assert summary["counties"] == 2
    assert stored_value("inflow_total", OCTOBER, "330106") == 1
    assert stored_value("inflow_total", Period(2026, 8), "330106") == 0
    assert store.as_of() is None
    assert_store_equals_live()


def test_a_month_not_stored_is_counted_live(on, villages):
    resident(arrived=D(2025, 5, 1))
    store.refresh()
    assert not StoredMonth.objects.filter(month="2025-06").exists()
    report = services.monthly_report("330106", Period(2025, 6), acting_user=OPERATOR)
    assert report["indicators"]["inflow_total"] == 1


def test_a_wrong_cell_fails_the_check_mode(villages, settings):
    resident()
    services.monthly_report("330106", OCTOBER, acting_user=OPERATOR)  # check: stored and equal
    StoreCell.objects.filter(month="2026-10", key=VILLAGE_A).update(value=5)
    with pytest.raises(AssertionError, match="store differs from the live engine"):
        services.monthly_report("330106", OCTOBER, acting_user=OPERATOR)


# --- bad input (issue 15) ---------------------------------------------------------------


def test_a_backdated_change_leaves_the_approved_month_frozen_and_moves_the_next(
    on, villages, township_a, county_admin
):
    resident()
    store.refresh()
    submitted = services.submit_report(
        acting_user=township_a, period=OCTOBER, today=D(2026, 11, 22)
    )
    services.approve_report(acting_user=county_admin, report=submitted)
    resident(arrived=D(2026, 9, 1))  # backdated into the approved month
    store.refresh()
    shown = services.report_to_show("330106002", OCTOBER, acting_user=township_a)
    assert shown.frozen and shown.figures["indicators"]["inflow_total"] == 1
    assert stored_value("inflow_total", Period(2026, 11), "330106002") == 2
    trend = services.trend(
        Indicator.objects.get(code="inflow_total"), "330106002", Period(2026, 11)
    )
    assert trend[-2] == {"period": "2026-10", "value": 1, "frozen": True}
    assert trend[-1] == {"period": "2026-11", "value": 2, "frozen": False}


def test_a_change_during_a_refresh_is_kept_for_the_next_one(on, villages, monkeypatch):
    resident()
    store.refresh()
    resident(household="411302", arrived=D(2026, 10, 1))
    compute, made = counting.compute, []

    def compute_and_change(*args, **kwargs):
        if not made:  # a clerk saves a file while the refresher counts
            made.append(resident(household="411303", arrived=D(2026, 10, 2)))
        return compute(*args, **kwargs)

    patch_compute(monkeypatch, compute_and_change)
    store.refresh()
    assert {c for c, _ in marks()} == {"330106", "411303"}  # the new change's marks stay
    patch_compute(monkeypatch, compute)
    store.refresh()
    assert not StoreMark.objects.exists()
    assert stored_value("inflow_total", OCTOBER, "330106") == 3  # each counted once
    assert_store_equals_live()


def test_a_refresher_killed_half_way_is_finished_by_the_next(on, villages, monkeypatch):
    store.refresh()
    registry_of_changes()
    compute, calls = counting.compute, []

    def dies(*args, **kwargs):
        calls.append(args[1])
        if len(calls) > 2:  # some regions done, then the worker is killed
            raise KeyboardInterrupt
        return compute(*args, **kwargs)

    patch_compute(monkeypatch, dies)
    with pytest.raises(KeyboardInterrupt):
        store.refresh()
    assert StoreMark.objects.exists()  # the unfinished regions' marks
    patch_compute(monkeypatch, compute)
    store.refresh()
    assert not StoreMark.objects.exists()
    assert_store_equals_live()


def test_a_second_refresher_stands_aside(on, villages):
    if connection.vendor == "postgresql":  # the lock of another process's connection
        other = connections.create_connection("default")
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [refresher.LOCK_KEY])
        try:
            assert store.refresh()["skipped"]
        finally:
            # Unlocked explicitly: the server frees a closed session's locks a moment later.
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [refresher.LOCK_KEY])
            other.close()
    else:
        with refresher.exclusive() as got:
            assert got
            assert store.refresh()["skipped"]
    assert not store.refresh()["skipped"]


def test_an_indicator_added_during_a_refresh_counts_live_until_the_next(
    on, villages, county_admin, monkeypatch
):
    resident(sex="1")
    resident(sex="2")
    store.refresh()
    resident(sex="1", arrived=D(2026, 10, 2))
    compute, added = counting.compute, []

    def compute_and_add(*args, **kwargs):
        if not added:
            added.append(
                services.add_indicator(
                    acting_user=county_admin,
                    code="inflow_men",
                    name_zh="流入男性",
                    name_en="inflow men",
                    unit="count",
                    definition={"count": "inflow", "where": {"sex": "1"}},
                )
            )
        return compute(*args, **kwargs)

    patch_compute(monkeypatch, compute_and_add)
    store.refresh()
    patch_compute(monkeypatch, compute)
    men = Indicator.objects.get(code="inflow_men")
    assert not StoredCount.objects.get(key=counting.count_key(men.parsed)).ready
    report = services.monthly_report("330106", OCTOBER, acting_user=OPERATOR, indicators=[men])
    assert report["indicators"]["inflow_men"] == 2  # counted live meanwhile
    summary = store.refresh()
    assert summary["counts"] == 1
    assert stored_value("inflow_men", OCTOBER, "330106") == 2
    assert_store_equals_live(regions=["330106"])


def test_a_new_indicator_is_filled_a_few_months_a_round_within_the_budget(
    on, villages, county_admin
):
    resident(sex="1", arrived=D(2026, 7, 1))
    store.refresh()  # 2026-08 to 2026-12 stored
    men = services.add_indicator(
        acting_user=county_admin,
        code="inflow_men",
        name_zh="流入男性",
        name_en="inflow men",
        unit="count",
        definition={"count": "inflow", "where": {"sex": "1"}},
    )
    kept = StoredCount.objects.get(key=counting.count_key(men.parsed))
    first = store.refresh(budget_seconds=0)  # spent at once: one step, then stop
    assert not first["complete"] and first["counts"] == 0
    assert first["filling"] == {"counts": 1, "months": 5, "filled": refresher.FILL_MONTHS}
    kept.refresh_from_db()
    assert not kept.ready and kept.filled_from == "2026-10"  # the newest months first
    assert set(StoreCell.objects.filter(count=kept).values_list("month", flat=True)) == {
        "2026-10",
        "2026-11",
        "2026-12",
    }
    report = services.monthly_report("330106", OCTOBER, acting_user=OPERATOR, indicators=[men])
    assert report["indicators"]["inflow_men"] == 1  # counted live until ready
    second = store.refresh(budget_seconds=0)
    assert second["counts"] == 1 and second["filling"]["filled"] == 5
    kept.refresh_from_db()
    assert kept.ready
    assert stored_value("inflow_men", Period(2026, 8), "330106") == 1
    assert_store_equals_live(regions=["330106"])


def test_a_dashboard_outside_the_callers_region_is_still_refused(on, villages, township_a):
    from django.core.exceptions import PermissionDenied

    resident(lives_in="330106004001")
    store.refresh()
    with pytest.raises(PermissionDenied):
        services.dashboard("330106004", OCTOBER, acting_user=township_a, indicator_code="")


# --- stats rebuild ----------------------------------------------------------------------


def test_stats_rebuild_recounts_everything_from_the_month_given(on, villages):
    import io

    from django.core.management import call_command

    registry_of_changes()
    out = io.StringIO()
    call_command("stats_rebuild", "--from", "2026-09", stdout=out)
    assert "rebuilt all: 4 months" in out.getvalue()
    assert sorted(StoredMonth.objects.values_list("month", flat=True)) == [
        "2026-09",
        "2026-10",
        "2026-11",
        "2026-12",
    ]
    assert not StoreMark.objects.exists()
    assert_store_equals_live(months=MONTHS[1:])


def test_after_a_rebuild_a_waiting_change_names_the_time_of_the_figures(on, villages):
    from liudong.stats.store.rebuild import rebuild

    before = timezone.now()
    rebuild()
    assert store.as_of() is None  # nothing waits
    resident(arrived=D(2026, 9, 14))
    shown = store.as_of()
    assert shown is not None and before <= shown <= timezone.now()


def test_a_rebuild_takes_every_mark_waiting_not_only_the_first_batch(on, villages, monkeypatch):
    from liudong.stats.store.rebuild import rebuild

    monkeypatch.setattr(refresher, "MARK_BATCH", 1)  # PostgreSQL reads marks a batch at a time
    resident(arrived=D(2026, 9, 14))
    resident(arrived=D(2026, 10, 2))
    assert StoreMark.objects.count() >= 2
    rebuild()
    # Counted by the rebuild: nothing is left for the refresher to count again.
    assert not StoreMark.objects.exists()
    assert_store_equals_live()


def test_stats_rebuild_of_a_region_puts_its_cells_right(on, villages):
    import io

    from django.core.management import call_command

    resident()
    store.refresh()
    StoreCell.objects.filter(key=VILLAGE_A).update(value=9)  # a region change, say
    call_command("stats_rebuild", "--region", "330106", stdout=io.StringIO())
    assert stored_value("inflow_total", OCTOBER, "330106") == 1
    assert_store_equals_live(regions=["330106"])


def test_a_recount_writes_only_the_cells_that_differ(on, villages):
    import io

    from django.core.management import call_command

    resident()
    store.refresh()
    before = dict(StoreCell.objects.values_list("id", "value"))
    StoreCell.objects.filter(month="2026-10", key=VILLAGE_A).update(value=9)  # wrong figures
    stray = StoreCell.objects.create(
        count=StoredCount.objects.first(), month="2026-10", key="330106002999", value=1
    )
    call_command("stats_rebuild", "--region", "330106", stdout=io.StringIO())
    after = dict(StoreCell.objects.values_list("id", "value"))
    assert stray.pk not in after  # a cell the engine no longer gives goes
    assert after == before  # the same rows (none deleted and written again), put right
    assert_store_equals_live(regions=["330106"])


def test_stats_rebuild_waits_for_no_one(on, villages):
    import io

    from django.core.management import call_command

    if connection.vendor == "postgresql":
        pytest.skip("the lock is re-entrant within one connection (see the refresher test)")
    err = io.StringIO()
    with refresher.exclusive(), pytest.raises(SystemExit):
        call_command("stats_rebuild", stderr=err)
    assert "another refresher" in err.getvalue()
    assert not StoredMonth.objects.exists()


# --- a property: any sequence of changes, then a refresh --------------------------------

from hypothesis import HealthCheck, given  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

DAYS = st.dates(min_value=D(2026, 6, 1), max_value=D(2026, 11, 30))
PLACES = st.sampled_from([VILLAGE_A, "330106004001", "330105", "411326"])
HOMES = st.sampled_from([FROM_HENAN, "411302", "330105", "330106"])
CHANGES = st.lists(
    st.one_of(
        st.tuples(st.just("arrive"), HOMES, PLACES, DAYS, st.sampled_from(["1", "2"])),
        st.tuples(st.just("leave"), st.integers(0, 20), DAYS),
        st.tuples(st.just("backdate"), st.integers(0, 20), DAYS),
        st.tuples(st.just("certificate"), st.integers(0, 20), DAYS),
        st.tuples(st.just("service"), st.integers(0, 20), DAYS, st.booleans()),
        st.tuples(st.just("child"), st.integers(0, 20), DAYS),
        st.tuples(st.just("marital"), st.integers(0, 20), st.sampled_from(["10", "20", "40"])),
        st.tuples(st.just("merge"), st.integers(0, 20), st.integers(0, 20)),
        st.tuples(st.just("verify"), st.integers(0, 20), DAYS),
        st.tuples(st.just("register"), st.integers(0, 20), DAYS),
        st.tuples(st.just("notice"), st.integers(0, 20), DAYS, st.one_of(st.none(), DAYS)),
    ),
    min_size=1,
    max_size=10,
)


class Rollback(Exception):
    pass


def apply(change: tuple, people: list[Person]) -> None:
    kind, *args = change
    if kind == "arrive":
        home, place, day, sex = args
        people.append(resident(household=home, lives_in=place, arrived=day, sex=sex))
        return
    if not people:
        return
    person = people[args[0] % len(people)]
    stay = ResidenceEpisode.objects.filter(person=person).order_by("-arrival_date").first()
    if kind == "leave" and stay and args[1] > stay.arrival_date:
        stay.departure_date = args[1]
        stay.save()
    elif kind == "backdate" and stay:
        ResidenceEpisode.objects.filter(pk=stay.pk).update(arrival_date=args[1])
    elif kind == "verify" and stay:
        ResidenceEpisode.objects.filter(pk=stay.pk).update(verified_on=args[1])
    elif kind == "register" and stay:
        when = datetime.datetime.combine(args[1], datetime.time(23, 30), tzinfo=datetime.UTC)
        ResidenceEpisode.objects.filter(pk=stay.pk).update(created=when)
    elif kind == "notice" and stay:
        from liudong.certificates.models import Notice

        if args[2] is None and Notice.objects.filter(episode=stay, fulfilled_on=None).exists():
            return  # one open notice per stay
        Notice.objects.create(
            person=person,
            episode=stay,
            region_id=stay.region_id,
            issued_on=args[1] - datetime.timedelta(days=91),
            deadline=args[1],
            fulfilled_on=args[2],
        )
    elif kind == "certificate":
        certificate(person, issued=args[1])
    elif kind == "service":
        service(person, args[1], free=args[2])
    elif kind == "child":
        child(person, args[1])
    elif kind == "marital":
        Person.objects.filter(pk=person.pk).update(marital_status=args[1])
    elif kind == "merge":
        kept = people[args[1] % len(people)]
        if kept != person:
            Person.objects.filter(pk=person.pk).update(merged_into=kept)


@hypothesis_settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=CHANGES, after=CHANGES)
def test_after_any_changes_a_refresh_makes_the_store_equal_the_engine(on, villages, before, after):
    from django.db import transaction

    try:
        with transaction.atomic():
            people: list[Person] = []
            for change in before:
                apply(change, people)
            store.refresh()
            for change in after:
                apply(change, people)
            store.refresh()
            assert not StoreMark.objects.exists()
            assert_store_equals_live(regions=["33", "330106002", "41"], months=MONTHS[1:])
            raise Rollback
    except Rollback:
        pass


# --- pages ------------------------------------------------------------------------------


def test_pages_say_how_fresh_stored_figures_are(on, villages, township_a, client_for):
    from django.utils import timezone

    from liudong.stats.models import StoreState

    resident()
    store.refresh()
    client = client_for(township_a)
    page = client.get(f"/stats/dashboard/?period={OCTOBER}").content.decode()
    assert 'data-testid="figures-as-of"' not in page  # nothing waiting
    resident(arrived=D(2026, 10, 2))
    refreshed = timezone.localtime(StoreState.objects.get(pk=1).refreshed_at)
    for url in (f"/stats/dashboard/?period={OCTOBER}", f"/stats/report/?period={OCTOBER}"):
        page = client.get(url).content.decode()
        assert 'data-testid="figures-as-of"' in page
        assert refreshed.strftime("%H:%M") in page


def test_many_marks_of_one_county_recount_it_once(on, villages):
    store.refresh()
    for day in range(1, 16):
        resident(arrived=D(2026, 9, day))
    # PostgreSQL: a mark per statement; SQLite: a waiting mark covers later-dated rows.
    assert StoreMark.objects.count() == (30 if connection.vendor == "postgresql" else 2)
    summary = store.refresh()
    assert summary["counties"] == 2  # 330106 and 411326, each once
    assert not StoreMark.objects.exists()
    assert stored_value("inflow_total", OCTOBER, "330106") == 15
