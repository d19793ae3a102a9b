"""Importing a person file on the web: upload, preview of the first problems, confirm, the
progress bar while a worker imports, then the summary; on a desktop and on a phone.
Screenshots of the preview and the finished job go to /tmp/shots/ for review."""

from __future__ import annotations

import csv
import re
from importlib import resources
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.pages import shot, sign_in

BEISHAN = "330106002"
ROWS = 3000


def zhejiang_townships_elsewhere() -> list[str]:
    """Townships of 温州 (3303): household registrations outside the township's county,
    within the divisions the browser fixtures load (Zhejiang only)."""
    source = resources.files("liudong.regions") / "data" / "divisions" / "streets.csv"
    with source.open(encoding="utf-8") as handle:
        return [row["code"] for row in csv.DictReader(handle) if row["code"].startswith("3303")]


@pytest.fixture
def person_csv(tmp_path):
    from liudong.people.generate import FAULTS, generate_rows, write_file

    rows = list(
        generate_rows(
            ROWS,
            seed=21,
            fault_share=0.02,
            residence_codes=[BEISHAN],
            household_codes=zhejiang_townships_elsewhere(),
        )
    )
    path = tmp_path / "北山街道流入人口.csv"
    write_file(path, rows)
    accepted = sum(1 for r in rows if FAULTS.get(r["_fault"]) != "rejected")
    return path, accepted


@pytest.fixture
def var_dir(settings, tmp_path, monkeypatch):
    """The confirmed job is queued, and a worker (in a thread of this process, on the live
    server's database) runs what is queued, as `liudong worker` would."""
    import threading

    from django.db import DEFAULT_DB_ALIAS, connections

    from liudong.jobs import services
    from liudong.worker.runner import Worker

    settings.VAR_DIR = tmp_path / "var"
    settings.JOBS_RUN_INLINE = False
    # The in-memory SQLite test database reaches another thread only as the live server's
    # does: through its one connection, shared (the one of the request that queues the
    # job). The worker starts once the job is queued, so that it shares the connection
    # only while the import runs, as the server's own thread did before the queue.
    threads: list[threading.Thread] = []
    enqueue = services._enqueue

    def work(shared) -> None:
        if shared is not None:
            connections[DEFAULT_DB_ALIAS] = shared
        try:
            Worker(periodic=False).run_queued()
        finally:
            if shared is not None:
                shared.dec_thread_sharing()

    def enqueue_and_work(pk: int) -> None:
        enqueue(pk)
        wrapper = connections[DEFAULT_DB_ALIAS]  # the request thread's: the live server's
        in_memory = getattr(wrapper, "is_in_memory_db", None)
        shared = wrapper if wrapper.vendor == "sqlite" and in_memory and in_memory() else None
        if shared is not None:
            shared.inc_thread_sharing()
        thread = threading.Thread(target=work, args=(shared,), daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(services, "_enqueue", enqueue_and_work)
    yield
    for thread in threads:
        thread.join(timeout=120)


def import_through_the_pages(page, path: Path, accepted: int, label: str) -> None:
    sign_in(page, "township_a")
    page.goto("/people/")
    page.get_by_test_id("import-persons").click()
    expect(page).to_have_url(page.base_url + "/people/import/")

    page.get_by_test_id("import-form").locator("input[name=file]").set_input_files(str(path))
    page.get_by_test_id("import-check").click()

    preview = page.get_by_test_id("import-preview")
    expect(preview).to_be_visible(timeout=30_000)
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    # The head of the file was checked: what it would do, and the first problems by row.
    expect(page.get_by_test_id("preview-scope")).to_contain_text("2000")
    expect(page.get_by_test_id("preview-imported")).not_to_have_text("0")
    problems = page.get_by_test_id("import-problems").locator("tbody tr")
    expect(problems.first).to_be_visible()
    expect(problems.first.locator("td").first).to_have_text(re.compile(r"^\d+$"))
    shot(page, f"person-import-preview-{label}.png", first_screen=True)

    page.get_by_test_id("import-confirm").click()

    status = page.get_by_test_id("job-status")
    expect(page.get_by_test_id("job-progress")).to_be_visible()
    shot(page, f"person-import-progress-{label}.png", first_screen=True)
    expect(status).to_have_attribute("data-state", "done", timeout=60_000)
    summary = page.get_by_test_id("job-summary")
    expect(summary).to_be_visible()
    expect(page.get_by_test_id("summary-imported")).to_have_text(str(accepted))
    expect(page.get_by_test_id("job-problems").locator("tbody tr").first).to_be_visible()
    expect(page.get_by_test_id("job-errors-file")).to_be_visible()
    shot(page, f"person-import-done-{label}.png", first_screen=True)
    page.get_by_test_id("job-problems").locator("tbody tr").nth(2).scroll_into_view_if_needed()
    shot(page, f"person-import-problems-{label}.png", first_screen=True)

    # The recent imports list shows it, done.
    page.goto("/jobs/")
    expect(page.get_by_test_id("job-row").first).to_contain_text(path.name)


def test_import_a_person_file_with_preview_and_progress(page, township_a, var_dir, person_csv):
    from liudong.jobs.models import ImportJob
    from liudong.people.models import Person

    path, accepted = person_csv
    import_through_the_pages(page, path, accepted, "desktop")

    job = ImportJob.objects.get()
    assert job.state == "done" and job.rows_done == ROWS
    assert Person.objects.count() == accepted


def test_import_on_a_phone(phone_page, township_a, var_dir, person_csv):
    path, accepted = person_csv
    import_through_the_pages(phone_page, path, accepted, "phone")
    # Nothing wider than the screen but the tables, which scroll inside their frame.
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width


@pytest.mark.console_errors("status of 400")  # the refused upload answers 400
def test_a_file_with_a_bad_header_is_refused_with_its_reason(
    phone_page, township_a, var_dir, tmp_path
):
    from liudong.jobs.models import ImportJob

    page = phone_page
    path = tmp_path / "名单.csv"
    path.write_text("姓名,性别,电话号码\n王芳,女,13800138000\n", encoding="utf-8")
    sign_in(page, "township_a")
    page.goto("/people/import/")

    page.get_by_test_id("import-form").locator("input[name=file]").set_input_files(str(path))
    page.get_by_test_id("import-check").click()

    error = page.get_by_test_id("import-file-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("公民身份号码")
    expect(page.get_by_test_id("import-form")).to_be_visible()  # try again with another file
    shot(page, "person-import-bad-header-phone.png", first_screen=True)
    assert not ImportJob.objects.exists()
