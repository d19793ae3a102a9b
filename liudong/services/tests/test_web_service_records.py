"""The service-record pages: record, find, correct, export and import service records;
the result shown only to the station and her township specialist; consent required;
follow-ups scheduled and marked done; scope and permissions.

Township A is 北山街道 330106002 (villages 330106002001/002), township B 西溪街道 330106004.
"""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from liudong.audit.models import AuditEntry
from liudong.people import idnumbers
from liudong.places import services as places
from liudong.services.models import FollowUp, ServiceRecord
from liudong.services.records import services as record_services

pytestmark = pytest.mark.django_db

BEISHAN = "330106002001"
TODAY = timezone.localdate()
YESTERDAY = TODAY - datetime.timedelta(days=1)
SECRET = "宫颈涂片未见异常"


def sheet_rows(response) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(response.content))
    return [tuple(row) for row in workbook.active.iter_rows(values_only=True)]


def upload(name: str, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture(autouse=True)
def upload_folder(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def station(township_a):
    return places.create_site(
        acting_user=township_a,
        kind="service_station",
        name="北山街道计生服务站",
        region="330106002",
    )


def form(**values) -> dict:
    return {
        "service_type": "reproductive_health",
        "date": TODAY.isoformat(),
        "free_of_charge": "on",
        "consent_recorded": "on",
        **values,
    }


def given(user, person, **values):
    values = {
        "service_type": "reproductive_health",
        "date": TODAY - datetime.timedelta(days=3),
        "consent_recorded": True,
        **values,
    }
    return record_services.create_service_record(acting_user=user, person=person, **values)


def test_record_find_change_and_follow_up(client_for, township_a, resident_a, station):
    client = client_for(township_a)
    page = client.get(reverse("services:record_create")).content.decode()
    assert "informed choice" in page or "知情" in page
    assert 'name="result"' in page  # her township specialist may keep a result

    # A contraceptive supply without her method: refused on the method field.
    response = client.post(
        reverse("services:record_create"),
        form(id_number=resident_a.id_number, service_type="contraceptive"),
    )
    assert response.status_code == 200
    assert "contraceptive_method" in response.context["form"].errors
    # No consent: refused on the consent field; nothing saved.
    data = form(id_number=resident_a.id_number)
    del data["consent_recorded"]
    response = client.post(reverse("services:record_create"), data)
    assert "consent_recorded" in response.context["form"].errors
    assert 'data-testid="field-error-consent_recorded"' in response.content.decode()
    # A pre-pregnancy check needs a spouse on her file.
    response = client.post(
        reverse("services:record_create"),
        form(id_number=resident_a.id_number, service_type="pre_pregnancy"),
    )
    assert "service_type" in response.context["form"].errors
    # A date in the future.
    response = client.post(
        reverse("services:record_create"),
        form(
            id_number=resident_a.id_number,
            date=(TODAY + datetime.timedelta(days=2)).isoformat(),
        ),
    )
    assert "date" in response.context["form"].errors
    # A follow-up due before the service: refused on its field, and nothing saved.
    response = client.post(
        reverse("services:record_create"),
        form(
            id_number=resident_a.id_number,
            follow_up_on=(TODAY - datetime.timedelta(days=1)).isoformat(),
        ),
    )
    assert "follow_up_on" in response.context["form"].errors
    assert not ServiceRecord.objects.exists()

    due = TODAY + datetime.timedelta(days=3)
    response = client.post(
        reverse("services:record_create"),
        form(
            id_number=resident_a.id_number,
            service_type="contraceptive",
            contraceptive_method="oral",
            provider=station.pk,
            follow_up_on=due.isoformat(),
            result=SECRET,
        ),
    )
    assert response.status_code == 302
    record = ServiceRecord.objects.get()
    assert record.contraceptive_method == "oral" and record.provider == station
    assert record.region_id == BEISHAN  # her residence by default
    assert record.free_of_charge and record.consent_recorded and record.result == SECRET
    follow_up = FollowUp.objects.get()
    assert follow_up.due_on == due

    # Found in the list by name and by ID number; the list never shows the result.
    listing = client.get(reverse("services:records"), {"q": resident_a.name})
    assert [r.pk for r in listing.context["records"]] == [record.pk]
    body = listing.content.decode()
    assert SECRET not in body and resident_a.id_number not in body
    assert idnumbers.mask(resident_a.id_number) in body
    by_number = client.get(reverse("services:records"), {"q": resident_a.id_number})
    assert [r.pk for r in by_number.context["records"]] == [record.pk]
    for query in (
        {"service_type": "counselling"},
        {"free": "no"},
        {"date_to": (TODAY - datetime.timedelta(days=1)).isoformat()},
        {"region": "330106002002"},
    ):
        assert not client.get(reverse("services:records"), query).context["records"], query
    assert client.get(reverse("services:records"), {"free": "yes", "region": BEISHAN}).context[
        "records"
    ]

    # Detail: the result is shown to her township specialist, and the view logged.
    url = reverse("services:record", args=[record.pk])
    detail = client.get(url).content.decode()
    assert SECRET in detail
    assert AuditEntry.objects.filter(action="view", object_id=str(record.pk)).exists()

    # Correct it (with the version seen); a stale version is refused.
    seen = record.version
    response = client.post(
        url,
        form(
            service_type="contraceptive",
            contraceptive_method="condom",
            provider=station.pk,
            result=SECRET,
            version=seen,
        ),
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.contraceptive_method == "condom"
    response = client.post(url, form(service_type="counselling", version=seen))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    record.refresh_from_db()
    assert record.service_type == "contraceptive"

    # The follow-up is on the worklist; marked done it leaves it.
    worklist = client.get(reverse("services:followups"))
    assert [f.pk for f in worklist.context["follow_ups"]] == [follow_up.pk]
    response = client.post(
        reverse("services:follow_up_done", args=[follow_up.pk]),
        {"version": follow_up.version, "next": url},
    )
    assert response.status_code == 302 and response["Location"] == url
    follow_up.refresh_from_db()
    assert follow_up.done_on == TODAY and follow_up.done_by == township_a
    assert not client.get(reverse("services:followups")).context["follow_ups"]

    # Another follow-up scheduled from the record page.
    client.post(
        reverse("services:follow_up_create", args=[record.pk]),
        {"fu-due_on": (TODAY + datetime.timedelta(days=30)).isoformat()},
    )
    assert FollowUp.objects.filter(done_on__isnull=True).count() == 1


def test_overdue_follow_ups_first(client_for, township_a, resident_a):
    record = given(township_a, resident_a, date=TODAY - datetime.timedelta(days=40))
    soon = record_services.schedule_follow_up(
        acting_user=township_a, service=record, due_on=TODAY + datetime.timedelta(days=2)
    )
    late = record_services.schedule_follow_up(
        acting_user=township_a, service=record, due_on=TODAY - datetime.timedelta(days=5)
    )
    worklist = client_for(township_a).get(reverse("services:followups"))
    assert [f.pk for f in worklist.context["follow_ups"]] == [late.pk, soon.pk]
    assert 'data-testid="overdue"' in worklist.content.decode()


def test_result_only_for_the_station_and_her_township(
    client_for, township_a, village_a1, provider_a, resident_a
):
    record = given(township_a, resident_a, result=SECRET)
    url = reverse("services:record", args=[record.pk])
    for user in (township_a, provider_a):
        body = client_for(user).get(url).content.decode()
        assert SECRET in body, user
        assert 'name="result"' in body, user
    village = client_for(village_a1)
    body = village.get(url).content.decode()
    assert SECRET not in body
    assert 'name="result"' not in body and 'data-testid="record-result"' not in body
    assert 'name="result"' not in village.get(reverse("services:record_create")).content.decode()
    # A record with a result is corrected only by those who keep results: the village
    # is told so, and a post is refused with the result kept.
    assert 'data-testid="service-form"' not in body
    assert 'data-testid="no-correction"' in body
    response = village.post(url, form(date=record.date.isoformat(), version=record.version))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    record.refresh_from_db()
    assert record.result == SECRET and record.version == 1
    # A record without a result the village corrects.
    plain = given(township_a, resident_a, service_type="counselling")
    response = village.post(
        reverse("services:record", args=[plain.pk]),
        form(service_type="counselling", date=plain.date.isoformat(), version=plain.version),
    )
    assert response.status_code == 302


def test_export_the_current_filter(client_for, township_a, resident_a):
    given(township_a, resident_a, result=SECRET)
    given(township_a, resident_a, service_type="counselling", free_of_charge=False)
    client = client_for(township_a)
    response = client.get(reverse("services:record_export"), {"free": "yes"})
    rows = sheet_rows(response)
    assert rows[0][0] == "公民身份号码"
    assert len(rows) == 2
    assert rows[1][0] == idnumbers.mask(resident_a.id_number)
    assert rows[1][2] == "生殖健康检查" and rows[1][6] == "是"
    assert SECRET not in str(rows) and resident_a.id_number not in str(rows)
    entry = AuditEntry.objects.get(action="export", object_type="services.servicerecord")
    assert entry.detail["rows"] == 1 and entry.detail["filter"] == {"free": "yes"}


def test_import_preview_then_confirm(client_for, township_a, resident_a, station):
    text = (
        "公民身份号码,服务类型,服务日期,服务机构,免费,本人同意,避孕方法\n"
        f"{resident_a.id_number},避孕药具发放,{TODAY.isoformat()},北山街道计生服务站,是,是,口服避孕药\n"
        f"{resident_a.id_number},咨询指导,{TODAY.isoformat()},社区医院,否,,\n"
        f"{resident_a.id_number},contraceptive,{YESTERDAY.isoformat()},,是,是,\n"
    )
    client = client_for(township_a)
    url = reverse("services:record_import")
    preview = client.post(url, {"file": upload("services.csv", text)})
    assert preview.status_code == 200
    summary = preview.context["summary"]
    assert summary.imported == 1
    problems = {(p["row"], p["field"]) for p in summary.rejected}
    assert problems == {(3, "consent_recorded"), (4, "contraceptive_method")}
    assert not ServiceRecord.objects.exists()  # a preview saves nothing
    client.post(url, {"confirm": "1"})
    record = ServiceRecord.objects.get()
    assert record.provider == station and record.contraceptive_method == "oral"
    assert record.recorded_by == township_a
    # The same file again changes nothing.
    client.post(url, {"file": upload("services.csv", text)})
    client.post(url, {"confirm": "1"})
    assert ServiceRecord.objects.count() == 1


def test_another_township_gets_404(client_for, township_a, township_b, resident_a):
    record = given(township_a, resident_a)
    follow_up = record_services.schedule_follow_up(
        acting_user=township_a, service=record, due_on=TODAY + datetime.timedelta(days=1)
    )
    client = client_for(township_b)
    assert client.get(reverse("services:record", args=[record.pk])).status_code == 404
    response = client.post(
        reverse("services:follow_up_done", args=[follow_up.pk]), {"version": follow_up.version}
    )
    assert response.status_code == 404
    assert (
        client.post(
            reverse("services:follow_up_create", args=[record.pk]), {"fu-due_on": "2099-01-01"}
        ).status_code
        == 404
    )
    assert not client.get(reverse("services:records")).context["records"]
    assert not client.get(reverse("services:followups")).context["follow_ups"]
    rows = sheet_rows(client.get(reverse("services:record_export")))
    assert len(rows) == 1
    response = client.post(reverse("services:record_create"), form(id_number=resident_a.id_number))
    assert "id_number" in response.context["form"].errors


def test_inspector_gets_403(client_for, inspector, township_a, resident_a):
    record = given(township_a, resident_a)
    client = client_for(inspector)
    for url in (
        reverse("services:records"),
        reverse("services:record_create"),
        reverse("services:record", args=[record.pk]),
        reverse("services:record_import"),
        reverse("services:record_export"),
        reverse("services:followups"),
    ):
        assert client.get(url).status_code == 403, url
    assert (
        client.post(
            reverse("services:record", args=[record.pk]), form(version=record.version)
        ).status_code
        == 403
    )
