"""`liudong worker` in this process, one step at a time: queued tasks, periodic jobs under
their leases, a job that raises, the statistics refresher's dotted path, delivery, and the
resumption of an import whose worker died. The worker killed in the middle of an import
is tests/test_worker_processes.py."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from liudong.worker import services
from liudong.worker.models import Lease, WorkerProcess
from liudong.worker.periodic import Periodic, jobs, refresh_statistics
from liudong.worker.runner import Worker

from .fakes import note, traced

pytestmark = pytest.mark.django_db


@pytest.fixture
def trace(tmp_path, monkeypatch):
    path = tmp_path / "trace.jsonl"
    monkeypatch.setenv("WORKER_TEST_TRACE", str(path))
    return path


def test_a_queued_task_runs_once_whichever_workers_look(trace):
    note.enqueue("hello")
    first, second = Worker(periodic=False), Worker(periodic=False)

    first.run_queued()
    second.run_queued()
    first.run_queued()

    assert traced(trace) == [{"task": "hello"}]


def counting(calls: list[str], name: str = "count") -> Periodic:
    return Periodic(name, 10, lambda: calls.append(name))


def test_two_workers_one_runs_the_periodic_job_each_round():
    calls: list[str] = []
    job = counting(calls)
    first, second = (Worker(periodic_jobs=[job]) for _ in range(2))

    for _round in range(3):
        ran = [first.run_periodic(job), second.run_periodic(job)]
        assert ran == [True, False]
    assert calls == ["count"] * 3
    assert services.holder("count") == first.id

    # The first worker dies: once its lease has passed, the second takes the job over.
    Lease.objects.filter(name="count").update(expires=timezone.now() - datetime.timedelta(1))
    assert second.run_periodic(job) and not first.run_periodic(job)
    assert calls == ["count"] * 4 and services.holder("count") == second.id


def test_a_worker_that_stops_hands_its_jobs_over_at_once():
    calls: list[str] = []
    job = counting(calls)
    first, second = Worker(periodic_jobs=[job]), Worker(periodic_jobs=[job])
    services.report(first.id)
    assert first.run_periodic(job) and not second.run_periodic(job)

    services.leave(first.id)

    assert second.run_periodic(job)
    assert not WorkerProcess.objects.filter(worker_id=first.id).exists()


def test_renewal_keeps_a_lease_past_its_first_term(settings):
    job = counting([])
    first, second = Worker(periodic_jobs=[job]), Worker(periodic_jobs=[job])
    assert first.run_periodic(job)
    before = Lease.objects.get(name="count").expires

    assert services.renew(first.id) == 1 and services.renew(second.id) == 0

    assert Lease.objects.get(name="count").expires >= before
    assert not second.run_periodic(job)


def test_a_periodic_job_that_raises_is_logged_and_runs_again_next_round():
    rounds: list[int] = []
    messages: list[str] = []

    def flaky() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("database away")

    job = Periodic("flaky", 10, flaky)
    worker = Worker(periodic_jobs=[job], log=messages.append)

    assert worker.run_periodic(job)  # raised inside, not out of the worker
    assert worker.run_periodic(job)

    assert rounds == [0, 1]
    assert messages == ["worker: flaky failed: database away"]


def test_the_statistics_refresher_is_the_function_at_the_dotted_path(settings, trace):
    settings.STATS_REFRESHER = "liudong.worker.tests.fakes.refresh"
    settings.STATS_REFRESH_BUDGET = 7.5
    job = next(j for j in jobs() if j.name == "stats-refresh")

    assert Worker(periodic_jobs=[job]).run_periodic(job)

    assert traced(trace) == [{"refresh": 7.5}]


def test_a_refresher_that_cannot_be_imported_is_skipped_with_one_warning(settings, caplog):
    settings.STATS_REFRESHER = "liudong.worker.tests.no_such_module.refresh"

    assert refresh_statistics() is None
    assert refresh_statistics() is None

    warnings = [r for r in caplog.records if "cannot be imported" in r.getMessage()]
    assert len(warnings) == 1


def test_interval_zero_leaves_a_job_out(settings):
    settings.STATS_REFRESH_INTERVAL = 0
    settings.AUDIT_ANCHOR_INTERVAL = 0
    names = [job.name for job in Worker().periodic_jobs]
    assert names == ["exchange-delivery", "import-resume", "task-prune", "requalification-close"]
    assert Worker(periodic=False).periodic_jobs == []


def test_delivery_runs_in_the_worker_once_this_is_a_node(node_keys, villages, monkeypatch):
    from liudong.exchange.messaging import services as messaging

    rounds: list[int] = []
    monkeypatch.setattr(
        messaging, "flush", lambda: rounds.append(1) or {"delivered": 2, "failed": 0}
    )
    messages: list[str] = []
    job = next(j for j in jobs() if j.name == "exchange-delivery")
    worker = Worker(periodic_jobs=[job], log=messages.append)

    worker.run_periodic(job)
    assert rounds == []  # not a node yet: nothing to deliver

    messaging.init_node(region_code="330106", url="https://xihu.example/")
    worker.run_periodic(job)
    assert rounds == [1] and messages == ["exchange: delivered 2, not yet 0"]


def test_audit_anchors_are_written_when_the_log_grew(villages, monkeypatch, tmp_path, node_keys):
    from liudong.actors import OPERATOR
    from liudong.audit import anchors
    from liudong.audit import services as audit
    from liudong.audit.anchors import read_anchors
    from liudong.audit.models import Action

    monkeypatch.setenv("LIUDONG_AUDIT_ANCHORS", str(tmp_path / "anchors.jsonl"))
    monkeypatch.setattr(anchors, "_last_anchored", [])
    job = next(j for j in jobs() if j.name == "audit-anchor")
    worker = Worker(periodic_jobs=[job])
    before = len(read_anchors())

    worker.run_periodic(job)
    worker.run_periodic(job)  # the log did not grow: no second anchor

    assert len(read_anchors()) == before + 1
    audit.record(Action.VIEW, acting_user=OPERATOR, object_repr="a file", region="330106")
    worker.run_periodic(job)
    assert len(read_anchors()) == before + 2


def test_finished_task_results_are_pruned_after_the_days_kept(trace, settings):
    from django_tasks_db.models import DBTaskResult

    settings.WORKER_KEEP_RESULTS_DAYS = 14
    note.enqueue("old")
    note.enqueue("recent")
    Worker(periodic=False).run_queued()
    note.enqueue("waiting")
    finished = DBTaskResult.objects.finished()
    assert finished.count() == 2
    old = finished.order_by("enqueued_at").first()
    assert old is not None
    DBTaskResult.objects.filter(pk=old.pk).update(
        finished_at=timezone.now() - datetime.timedelta(days=15)
    )
    messages: list[str] = []
    job = next(j for j in jobs() if j.name == "task-prune")
    Worker(periodic_jobs=[job], log=messages.append).run_periodic(job)

    # The old result went; the recent one and the task still waiting stay.
    assert not DBTaskResult.objects.filter(pk=old.pk).exists()
    assert DBTaskResult.objects.finished().count() == 1
    assert DBTaskResult.objects.ready().count() == 1
    assert messages == ["queue: 1 finished task results pruned"]


def test_the_worker_closes_a_requalification_round_past_its_deadline(county_admin):
    from liudong.regions.models import Region
    from liudong.services.programmes import requalification
    from liudong.services.programmes.tests import factories

    benefit = factories.benefit()
    requalification.open_round(
        acting_user=county_admin,
        county=Region.objects.get(code="330106"),
        year=2026,
        deadline=timezone.localdate() - datetime.timedelta(days=1),
        today=timezone.localdate() - datetime.timedelta(days=40),
    )
    messages: list[str] = []
    job = next(j for j in jobs() if j.name == "requalification-close")
    Worker(periodic_jobs=[job], log=messages.append).run_periodic(job)

    benefit.refresh_from_db()
    assert benefit.status == "suspended"  # not ended: a confirmation resumes it
    assert messages == ["programmes: 1 benefits suspended at the deadline"]
