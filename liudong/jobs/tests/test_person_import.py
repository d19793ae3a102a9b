"""The person import pages (DESIGN.md §5 on the web): upload, a preview of the first
problems, confirm, the job page with its progress, resume after an interruption, the
errors file, and who may see what.

Township A is 北山街道 330106002, township B 西溪街道 330106004 (county 西湖区 330106).
Jobs run inline here (tests/conftest.py) except in the test of the real thread.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from liudong.audit.models import AuditEntry
from liudong.jobs import services
from liudong.jobs.models import ImportJob
from liudong.people.generate import FAULTS, generate_rows, write_file
from liudong.people.importing import import_persons
from liudong.people.models import Person
from liudong.people.template import COLUMNS
from liudong.web import uploads
from liudong.worker import services as worker_services
from liudong.worker.models import WorkerProcess

pytestmark = pytest.mark.django_db

BEISHAN = "330106002"


CHINESE_BY_FIELD = {column.field: column.chinese for column in COLUMNS}


def person_file(folder, n=300, *, seed=5, fault_share=0.1, suffix=".csv"):
    """A generated file of ``n`` people living in 北山街道, some rows spoiled."""
    rows = list(generate_rows(n, seed=seed, fault_share=fault_share, residence_codes=[BEISHAN]))
    path = folder / f"persons{suffix}"
    write_file(path, rows)
    return path, rows


def accepted(rows) -> list[dict]:
    return [r for r in rows if FAULTS.get(r["_fault"]) != "rejected"]


def rejected(rows) -> list[tuple[int, dict]]:
    """(spreadsheet row, row) of the rows the importer refuses; the header is row 1."""
    return [(n, r) for n, r in enumerate(rows, start=2) if FAULTS.get(r["_fault"]) == "rejected"]


def upload(client, path, **fields):
    data = SimpleUploadedFile(path.name, path.read_bytes())
    return client.post("/people/import/", {"file": data, **fields})


def previewed(client, path) -> ImportJob:
    response = upload(client, path)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.get(original_name=path.name)
    assert response["Location"] == f"/jobs/{job.pk}/"
    return job


def problem_cells(page: str, testid: str) -> list[tuple[str, str]]:
    """(row, field) of each line of a problems table."""
    table = page.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    return re.findall(
        r'<tr><td class="nowrap">(\d+)</td><td class="nowrap">.*?<span class="code">(\w+)</span>',
        table,
    )


def problem_headers(page: str, testid: str) -> list[tuple[str, str]]:
    """(field, Chinese column header) of each line of a problems table that names a column."""
    table = page.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    return [
        (field, header)
        for header, field in re.findall(
            r'<td class="nowrap">([^<]+)<br><span class="code">(\w+)</span>', table
        )
    ]


def test_upload_preview_confirm_imports_the_file(township_a, client_for, settings, tmp_path):
    path, rows = person_file(tmp_path)
    client = client_for(township_a)
    assert 'data-testid="import-persons"' in client.get("/people/").content.decode()

    job = previewed(client, path)
    assert job.state == ImportJob.State.PREVIEWED
    assert (job.kind, job.created_by, job.region_id) == ("persons", township_a, BEISHAN)
    assert job.rows_total == 300  # estimated from the file's line breaks
    assert Person.objects.count() == 0  # the preview saves nothing

    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'data-testid="import-preview"' in page and 'data-testid="import-confirm"' in page
    assert job.preview["imported"] == len(accepted(rows))
    assert f'data-testid="preview-imported">{len(accepted(rows))}<' in page
    shown = problem_cells(page, "import-problems")
    assert shown, page
    expected = {
        (str(number), row["_fault_field"])
        for number, row in rejected(rows)
        if row["_fault_field"] and row["_fault"] != "duplicate_id"
    }
    # Every problem line names a spreadsheet row and a template field; each spoiled row
    # the generator made is listed with its column.
    assert expected and expected <= set(shown)
    # Each problem line shows the template's Chinese header above the field name.
    headers = dict(problem_headers(page, "import-problems"))
    assert headers and all(
        header == CHINESE_BY_FIELD[field] for field, header in headers.items()
    ), headers

    response = client.post(f"/jobs/{job.pk}/start/")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE
    assert (job.rows_done, job.rows_total, job.attempts) == (300, 300, 1)
    assert job.started and job.finished and job.started <= job.finished
    assert Person.objects.count() == len(accepted(rows))
    assert job.summary["imported"] == len(accepted(rows))
    assert job.summary["rejected_rows"] == len(rejected(rows))
    assert job.summary["rejected_count"] == len(job.summary["rejected"])

    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'data-state="done"' in page and "hx-trigger" not in page  # no more polling
    assert f'data-testid="summary-imported">{len(accepted(rows))}<' in page
    assert {n for n, _ in problem_cells(page, "job-problems")} <= {
        str(n) for n, _ in rejected(rows)
    }
    assert 'data-testid="job-errors-file"' in page
    # The audit entries of the import name the user who confirmed it.
    entries = AuditEntry.objects.filter(action="import", object_type="people.person")
    assert entries.exists() and {e.actor_username for e in entries} == {"township_a"}
    # The stored upload is gone once the job is done.
    assert not list((settings.VAR_DIR / "uploads").iterdir())

    # A second confirmation (a double click) imports nothing twice.
    again = client.post(f"/jobs/{job.pk}/start/", follow=True)
    assert "该导入已经开始。" in again.content.decode()  # "This import has already been started."
    assert Person.objects.count() == len(accepted(rows))
    job.refresh_from_db()
    assert (job.state, job.attempts) == (ImportJob.State.DONE, 1)


def test_a_file_with_a_bad_header_shows_the_file_level_message_and_creates_nothing(
    township_a, client_for, settings, tmp_path
):
    path = tmp_path / "persons.csv"
    path.write_text("姓名,性别,电话号码\n王芳,女,13800138000\n", encoding="utf-8")

    response = upload(client_for(township_a), path)

    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="import-file-error"' in page
    assert "missing required column" in page and "公民身份号码" in page
    assert not ImportJob.objects.exists() and not Person.objects.exists()
    assert not list((settings.VAR_DIR / "uploads").iterdir())


def test_a_wrong_file_type_or_sheet_is_refused(township_a, client_for, tmp_path):
    client = client_for(township_a)
    pdf = tmp_path / "persons.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    response = upload(client, pdf)
    assert response.status_code == 400 and 'data-testid="file-errors"' in response.content.decode()

    xlsx, _rows = person_file(tmp_path, 20, suffix=".xlsx")
    response = upload(client, xlsx, sheet="二月")
    assert response.status_code == 400
    assert "二月" in response.content.decode()  # names the sheet it could not find
    assert not ImportJob.objects.exists()


def test_the_preview_of_a_large_file_checks_its_head(township_a, client_for, monkeypatch, tmp_path):
    monkeypatch.setattr(services, "PREVIEW_ROWS", 50)
    path, _rows = person_file(tmp_path, 120, suffix=".xlsx")
    # Saved as Excel saves it, with the sheet's size recorded (<dimension ref="A1:T121">).
    excel = tmp_path / "excel.xlsx"
    load_workbook(path).save(excel)
    client = client_for(township_a)

    job = previewed(client, excel)

    assert job.rows_total == 120
    assert job.preview["partial"] and job.preview["rows_checked"] == 50
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'data-testid="preview-scope"' in page and "120" in page

    # A streamed xlsx (as `liudong generate` writes) does not record its size: the bar
    # will be indeterminate.
    assert previewed(client, path).rows_total is None


def test_cancel_drops_the_job_and_its_file(township_a, client_for, settings, tmp_path):
    client = client_for(township_a)
    job = previewed(client, person_file(tmp_path, 10)[0])

    response = client.post(f"/jobs/{job.pk}/cancel/")

    assert response.status_code == 302 and response["Location"] == "/people/import/"
    assert not ImportJob.objects.exists()
    assert not list((settings.VAR_DIR / "uploads").iterdir())


def test_a_running_job_polls_its_progress_and_shows_interrupted_once_its_worker_is_gone(
    township_a, client_for, tmp_path
):
    client = client_for(township_a)
    job = previewed(client, person_file(tmp_path, 10)[0])
    worker_id = worker_services.new_worker_id()
    worker_services.report(worker_id)
    ImportJob.objects.filter(pk=job.pk).update(
        state="running", runner=worker_id, rows_done=1000, rows_total=3000
    )
    fragment = client.get(f"/jobs/{job.pk}/status/").content.decode()
    assert 'hx-trigger="every 1s"' in fragment and f'hx-get="/jobs/{job.pk}/status/"' in fragment
    assert 'value="1000" max="3000"' in fragment and "33%" in fragment
    assert "<html" not in fragment  # only the part that changes

    # The worker stops reporting (killed): once its lease has passed, the job is interrupted.
    WorkerProcess.objects.filter(worker_id=worker_id).update(
        seen=timezone.now() - datetime.timedelta(seconds=31)
    )
    fragment = client.get(f"/jobs/{job.pk}/status/").content.decode()
    assert 'data-state="interrupted"' in fragment and 'data-testid="job-resume"' in fragment
    assert "hx-trigger" not in fragment
    assert ImportJob.objects.get(pk=job.pk).state == "interrupted"


def test_a_queued_job_says_it_waits_for_a_worker_until_one_runs(
    township_a, client_for, settings, tmp_path
):
    settings.JOBS_RUN_INLINE = False
    client = client_for(township_a)
    job = previewed(client, person_file(tmp_path, 10)[0])
    client.post(f"/jobs/{job.pk}/start/")

    fragment = client.get(f"/jobs/{job.pk}/status/").content.decode()
    assert 'data-state="queued"' in fragment and 'data-testid="job-waiting"' in fragment
    assert 'hx-trigger="every 1s"' in fragment  # it keeps polling until a worker takes it

    worker_services.report(worker_services.new_worker_id())
    fragment = client.get(f"/jobs/{job.pk}/status/").content.decode()
    assert 'data-state="queued"' in fragment and 'data-testid="job-waiting"' not in fragment


@pytest.mark.parametrize(
    "runner",
    [
        "this process",
        "a dead process on this machine",
        "another machine gone silent",
        "a worker gone silent",
    ],
)
def test_resume_of_an_interrupted_job_completes_without_duplicating_anyone(
    runner, township_a, client_for, tmp_path
):
    path, rows = person_file(tmp_path, 400)
    client = client_for(township_a)
    job = previewed(client, path)
    # The server stopped part-way: the first 150 rows are saved, the job still says running.
    import_persons(uploads.upload_path(job.upload_token), acting_user=township_a, max_rows=150)
    saved_before = Person.objects.count()
    assert 0 < saved_before < len(accepted(rows))
    host, pid = services._this_runner().rsplit(":", 1)
    ImportJob.objects.filter(pk=job.pk).update(
        state="running",
        attempts=1,
        rows_done=150,
        runner={
            "this process": f"{host}:{pid}",
            "a dead process on this machine": f"{host}:99999999",
            "another machine gone silent": "elsewhere:4242",
            "a worker gone silent": "elsewhere:4242:a1b2c3",
        }[runner],
        heartbeat=timezone.now() - datetime.timedelta(hours=1),
    )
    if runner == "a worker gone silent":
        old = timezone.now() - datetime.timedelta(minutes=5)
        WorkerProcess.objects.create(
            worker_id="elsewhere:4242:a1b2c3", host="elsewhere", pid=4242, started=old, seen=old
        )

    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'data-state="interrupted"' in page and 'data-testid="job-resume"' in page
    assert "/jobs/" in client.get("/jobs/").content.decode()

    client.post(f"/jobs/{job.pk}/start/")

    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and job.attempts == 2
    assert Person.objects.count() == len(accepted(rows))
    assert Person.objects.values("id_number").distinct().count() == len(accepted(rows))
    assert job.summary["imported"] == len(accepted(rows)) - saved_before
    assert job.summary["unchanged"] == saved_before and job.summary["updated"] == 0


def test_a_job_another_machine_still_reports_is_not_interrupted(township_a, client_for, tmp_path):
    client = client_for(township_a)
    job = previewed(client, person_file(tmp_path, 10)[0])
    ImportJob.objects.filter(pk=job.pk).update(
        state="running", runner="elsewhere:4242", heartbeat=timezone.now()
    )
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'data-state="running"' in page and 'hx-trigger="every 1s"' in page


def test_a_failed_job_keeps_its_message(township_a, client_for, tmp_path):
    client = client_for(township_a)
    job = previewed(client, person_file(tmp_path, 10)[0])
    uploads.discard(job.upload_token)  # the stored file vanished before the confirmation

    client.post(f"/jobs/{job.pk}/start/")

    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    # Worded in the language of the page that confirmed it.
    assert "upload it again" in job.message or "重新上传" in job.message
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert (
        'data-testid="job-message"' in page
        and job.message in page
        and 'data-testid="job-resume"' not in page
    )


def test_the_errors_file_downloads_as_a_real_xlsx(township_a, client_for, tmp_path):
    path, rows = person_file(tmp_path, 200, fault_share=0.2)
    client = client_for(township_a)
    job = previewed(client, path)
    client.post(f"/jobs/{job.pk}/start/")

    response = client.get(f"/jobs/{job.pk}/errors.xlsx")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    lines = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert lines[0][0] == "行号 row" and lines[0][1] == "姓名" and lines[0][-1] == "问题 problems"
    assert {line[0] for line in lines[1:]} == {n for n, _ in rejected(rows)}
    assert all(line[-1] for line in lines[1:])  # each row says what is wrong
    assert AuditEntry.objects.filter(
        action="export", actor_username="township_a", object_type="jobs.importjob"
    ).exists()


def test_a_clean_file_has_no_errors_file(township_a, client_for, tmp_path):
    client = client_for(township_a)
    job = previewed(client, person_file(tmp_path, 30, fault_share=0)[0])
    client.post(f"/jobs/{job.pk}/start/")
    job.refresh_from_db()
    assert job.state == "done" and job.errors_file == ""
    assert client.get(f"/jobs/{job.pk}/errors.xlsx").status_code == 404


def test_another_regions_user_cannot_see_or_download_the_job(
    township_a, township_b, county_admin, client_for, tmp_path
):
    owner = client_for(township_a)
    job = previewed(owner, person_file(tmp_path, 100, fault_share=0.2)[0])
    owner.post(f"/jobs/{job.pk}/start/")
    job.refresh_from_db()
    assert job.errors_file

    neighbour = client_for(township_b)
    for url in ("/", "/status/", "/errors.xlsx"):
        assert neighbour.get(f"/jobs/{job.pk}{url}").status_code == 404, url
    for url in ("/start/", "/cancel/"):
        assert neighbour.post(f"/jobs/{job.pk}{url}").status_code == 404, url
    assert job.original_name not in neighbour.get("/jobs/").content.decode()
    assert not ImportJob.objects.in_scope(township_b).exists()

    # The county sees its townships' imports, but the rejected rows are the owner's.
    county = client_for(county_admin)
    assert county.get(f"/jobs/{job.pk}/").status_code == 200
    assert job.original_name in county.get("/jobs/").content.decode()
    assert county.get(f"/jobs/{job.pk}/errors.xlsx").status_code == 404
    assert county.post(f"/jobs/{job.pk}/start/").status_code == 404


def test_users_see_their_own_jobs_after_moving_region(township_a, client_for, tmp_path):
    job = previewed(client_for(township_a), person_file(tmp_path, 10)[0])
    township_a.region_id = "330106004"
    township_a.save(update_fields=["region"])
    assert list(ImportJob.objects.in_scope(township_a)) == [job]


def test_a_user_without_change_people_gets_403(township_a, provider_a, client_for, tmp_path):
    job = previewed(client_for(township_a), person_file(tmp_path, 10)[0])
    provider = client_for(provider_a)  # same township, but a service station keeps no files
    assert provider.get("/people/import/").status_code == 403
    assert upload(provider, person_file(tmp_path, 5)[0]).status_code == 403
    assert provider.get("/jobs/").status_code == 403
    assert provider.get(f"/jobs/{job.pk}/").status_code == 403
    assert 'data-testid="import-persons"' not in provider.get("/people/").content.decode()
    anonymous = Client().get("/people/import/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


# --- through the queue ----------------------------------------------------------------------


def test_the_import_runs_in_a_worker_and_reports_its_progress(
    township_a, client_for, settings, monkeypatch, tmp_path
):
    from liudong.worker.runner import Worker
    from liudong.worker.tests.fakes import keep_the_test_connection

    keep_the_test_connection(monkeypatch)
    settings.JOBS_RUN_INLINE = False
    monkeypatch.setattr(services, "PROGRESS_EVERY", 0)  # write every report
    seen = {}
    kind = services.KINDS["persons"]

    def spy(path, **options):
        if options.get("dry_run"):  # the preview, in the request
            return kind.run(path, **options)
        seen["worker"] = worker_services.current_worker_id()
        reported = options["progress"]

        def progress(done):
            reported(done)
            seen.setdefault("rows_done", []).append(ImportJob.objects.get().rows_done)

        # Batches smaller than the file, so progress is reported more than once.
        return kind.run(path, **{**options, "progress": progress, "batch_size": 1000})

    monkeypatch.setitem(services.KINDS, "persons", dataclasses.replace(kind, run=spy))
    path, rows = person_file(tmp_path, 2500, fault_share=0.02)
    client = client_for(township_a)
    job = previewed(client, path)

    response = client.post(f"/jobs/{job.pk}/start/")

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == ImportJob.State.QUEUED and not Person.objects.exists()
    worker = Worker(periodic=False)
    worker.run_queued()
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE, job.message
    assert seen["worker"] == worker.id == job.runner
    # Progress reached the job's row while the import ran (the importer reports each batch).
    reports = seen["rows_done"]
    assert reports[0] < 2500 and reports == sorted(reports) and reports[-1] == 2500
    assert job.rows_done == 2500
    assert Person.objects.count() == len(accepted(rows))
    # Its audit entries name the account and the request that confirmed it.
    request_id = job.run_context["request_id"]
    assert request_id
    imported = AuditEntry.objects.filter(action="import", request_id=request_id)
    assert imported.exists()
    assert set(imported.values_list("actor_username", flat=True)) == {"township_a"}
