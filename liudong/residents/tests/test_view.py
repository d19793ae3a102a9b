"""Her own view (issue 19 items 2, 3 and 5): her pages show her data and no one else's, take
no id, and every read and download of hers is in the audit log; "who read my file" is the
audit log read for her, naming the office and the role, never the staff member unless the
setting says so; the copy of her data downloads as PDF and JSON."""

from __future__ import annotations

import datetime
import io
import json
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from liudong.audit.models import AuditEntry
from liudong.certificates import issuing, printing
from liudong.certificates.tests.conftest import make_person
from liudong.people.idnumbers import mask
from liudong.people.services import view_person
from liudong.places import services as places
from liudong.residents import mine, session
from liudong.services.help_requests import services as help_services
from liudong.services.records import services as record_services

# What the page says for a view of her file, in the language the test runs in.
LOOKED_AT = pgettext_lazy("what an office did to her file", "looked at")
pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
HOME = "/me/"
TOWNSHIP_A = "330106002001"  # both women are registered and live in township A's village
RESULT = "宫颈涂片未见异常"


class _Find(HTMLParser):
    """The text and classes of the elements carrying a data-testid (stdlib parser)."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "path", "rect"}

    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid, self.depth, self.found = testid, 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.depth:
            if tag not in self.VOID:
                self.depth += 1
            if tag == "svg":
                self.found[-1]["svg"] = True
        elif attrs.get("data-testid") == self.testid:
            self.depth = 1
            self.found.append(
                {"text": "", "class": (attrs.get("class") or "").split(), "svg": False}
            )

    def handle_startendtag(self, tag, attrs):
        if self.depth and tag == "svg":
            self.found[-1]["svg"] = True

    def handle_endtag(self, tag):
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.found[-1]["text"] += data + " "


def find(html: str, testid: str) -> list[dict]:
    parser = _Find(testid)
    parser.feed(html)
    return parser.found


def text_of(html: str, testid: str) -> str:
    found = find(html, testid)
    assert found, testid
    return found[0]["text"]


def sign_in_as(client, person) -> None:
    """Her session on a test client, begun by the product's own session.begin (no test URL)."""
    request = RequestFactory().get("/")
    request.session = client.session
    session.begin(request, person.pk)
    request.session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key


@pytest.fixture
def her(villages, township_a):
    return make_person(household=TOWNSHIP_A, residence=TOWNSHIP_A, name="周敏")


@pytest.fixture
def other(villages, township_a):
    return make_person(household=TOWNSHIP_A, residence=TOWNSHIP_A, name="李娟")


@pytest.fixture
def station(township_a):
    return places.create_site(
        acting_user=township_a,
        kind="service_station",
        name="北山街道计生服务站",
        region="330106002",
    )


def given_service(user, person, station, **values):
    values = {"service_type": "reproductive_health", "consent_recorded": True, **values}
    return record_services.create_service_record(
        acting_user=user,
        person=person,
        date=TODAY - datetime.timedelta(days=3),
        provider=station,
        **values,
    )


@pytest.fixture
def on_file(her, other, township_a, station, node_keys):
    """Both women with a certificate, a service with a result and an open help request."""
    for person, result in ((her, RESULT), (other, "其他人的结果")):
        issuing.issue(person, acting_user=township_a, today=TODAY)
        given_service(township_a, person, station, result=result)
        help_services.create_help_request(
            acting_user=township_a,
            person=person,
            category="wages" if person == her else "housing",
            description="",
        )
    return her, other


@pytest.fixture
def signed_in(client, her):
    sign_in_as(client, her)
    return client


def page(client, url: str = HOME) -> str:
    response = client.get(url)
    assert response.status_code == 200, response
    return response.content.decode()


# --- her pages --------------------------------------------------------------------------


def test_without_her_session_her_pages_send_her_to_sign_in(client, her):
    for url in (HOME, "/me/who-read/", "/me/copy.json", "/me/copy.pdf", "/me/certificate.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/me/sign-in/")


def test_home_shows_her_file_and_not_the_other_womans(on_file, signed_in, her, other):
    text = page(signed_in)
    assert her.name in text and mask(her.id_number) in text
    assert her.id_number not in text  # masked, never whole
    assert "北山" in text  # her residence by name
    assert other.name not in text and mask(other.id_number) not in text
    assert "其他人的结果" not in text


def test_home_shows_her_certificate_valid_with_its_qr(on_file, signed_in, her):
    html = page(signed_in)
    assert "ok" in find(html, "certificate-state")[0]["class"]
    assert find(html, "certificate-qr")[0]["svg"]
    # Revoked: not valid, said so.
    certificate = her.certificates.get()
    issuing.revoke(certificate, acting_user=_township(), reason="测试")
    assert "no" in find(page(signed_in), "certificate-state")[0]["class"]


def _township():
    from liudong.accounts.models import User

    return User.objects.get(username="township_a")


def test_home_lists_free_services_and_the_stations_where_she_lives(on_file, signed_in):
    stations = text_of(page(signed_in), "stations")
    assert "北山街道计生服务站" in stations


def test_a_station_in_another_township_is_not_hers(on_file, signed_in, township_b):
    places.create_site(
        acting_user=township_b, kind="service_station", name="西溪服务站", region="330106004"
    )
    assert "西溪服务站" not in page(signed_in)


def test_her_services_with_her_result_and_her_open_requests(on_file, signed_in):
    html = page(signed_in)
    assert RESULT in text_of(html, "my-services")
    requests = text_of(html, "my-requests")
    assert "其他人" not in requests
    her_requests = mine.her_open_requests(session.Resident(on_file[0].pk))
    assert len(her_requests["help"]) == 1


def test_every_page_she_opens_is_in_the_audit_log_under_her(on_file, signed_in, her):
    before = AuditEntry.objects.count()
    page(signed_in)
    entry = AuditEntry.objects.order_by("-seq").first()
    assert AuditEntry.objects.count() == before + 1
    assert entry.action == "view" and entry.actor_username == f"resident:{her.pk}"
    assert entry.object_type == "people.person" and entry.object_id == str(her.pk)
    assert her.id_number not in json.dumps(entry._fields(), ensure_ascii=False)


def test_her_pages_take_no_id_and_the_api_gives_her_nothing(on_file, signed_in, her, other):
    """Another person's key in a query or in a staff URL changes nothing: her pages read
    her session only, the staff pages and the API see no user."""
    text = page(signed_in, f"{HOME}?person={other.pk}&pk={other.pk}")
    assert her.name in text and other.name not in text
    for url in (f"/people/{other.pk}/", f"/api/persons/{other.pk}/", "/api/persons/"):
        response = signed_in.get(url)
        assert response.status_code in (302, 401, 403, 404), (url, response.status_code)
        assert other.name.encode() not in response.content


# --- her certificate's PDF ---------------------------------------------------------------


def test_she_downloads_her_certificate_pdf_logged_as_her_export(on_file, signed_in, her):
    from pypdf import PdfReader

    response = signed_in.get("/me/certificate.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert her.name in text and on_file[1].name not in text
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.object_type) == ("export", "certificates.certificate")
    assert entry.actor_username == f"resident:{her.pk}"


def test_no_certificate_no_pdf(signed_in, her):
    assert signed_in.get("/me/certificate.pdf").status_code == 404


# --- who read my file --------------------------------------------------------------------


@pytest.fixture
def station_read_yesterday(on_file, her, provider_a, monkeypatch):
    """The station's technician opened her file yesterday (the log's own clock, set back)."""
    from liudong.audit import services as audit_services

    yesterday = timezone.now() - datetime.timedelta(days=1)

    class Clock:
        @staticmethod
        def now():
            return yesterday

    monkeypatch.setattr(audit_services, "timezone", Clock)
    view_person(acting_user=provider_a, person=her, via="person detail")
    monkeypatch.undo()
    return yesterday


def test_who_read_shows_the_station_office_and_role_not_the_name(
    station_read_yesterday, signed_in, provider_a, settings
):
    provider_a.full_name = "张技术员"
    provider_a.save()
    html = page(signed_in, "/me/who-read/")
    entries = [e["text"] for e in find(html, "read-entry")]
    day = timezone.localtime(station_read_yesterday).strftime("%Y-%m-%d")
    seen = [e for e in entries if day in e]
    assert len(seen) == 1, entries
    # The station's office (the account's region: township A) and its role, in Chinese.
    assert "北山街道" in seen[0] and "服务站技术员" in seen[0], seen[0]
    assert "张技术员" not in html and "provider_a" not in html

    settings.RESIDENT_SHOWS_STAFF_NAMES = True
    assert "张技术员" in page(signed_in, "/me/who-read/")


def test_who_read_is_hers_only_and_reading_it_is_logged(
    station_read_yesterday, signed_in, her, other, provider_a
):
    view_person(acting_user=provider_a, person=other, via="person detail")
    resident = session.Resident(her.pk)
    read = mine.who_read(resident)
    assert len([e for e in read.entries if e.action == LOOKED_AT]) == 1
    before = AuditEntry.objects.filter(actor_username=f"resident:{her.pk}").count()
    page(signed_in, "/me/who-read/")
    mine_now = AuditEntry.objects.filter(actor_username=f"resident:{her.pk}")
    assert mine_now.count() == before + 1
    assert mine_now.order_by("-seq").first().detail == {"page": "who_read"}
    # Her own reads are not "who read my file".
    assert len([e for e in mine.who_read(resident).entries if e.action == LOOKED_AT]) == 1


def test_who_read_names_the_role_in_chinese_and_the_reason_when_recorded(
    station_read_yesterday, signed_in, her, provider_a
):
    from liudong.audit import services as audit_services

    audit_services.record(
        "export",
        acting_user=provider_a,
        obj=her,
        region=her.residence_region_id,
        detail={"reason": "核对服务记录"},
    )
    text = page(signed_in, "/me/who-read/")
    assert "核对服务记录" in text
    assert "服务站技术员" in text


# --- a copy of her data -----------------------------------------------------------------


def test_the_json_copy_has_the_documented_shape_and_only_her(
    station_read_yesterday, signed_in, her, other
):
    response = signed_in.get("/me/copy.json")
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["format"] == mine.COPY_FORMAT
    assert set(data) == {
        "format",
        "made_at",
        "file",
        "certificates",
        "services_here",
        "services",
        "open_requests",
        "who_read",
        "messages",
    }
    assert data["file"]["name"] == her.name and data["file"]["id_number"] == mask(her.id_number)
    assert len(data["certificates"]) == 1 and data["certificates"][0]["valid"] is True
    assert [s["result"] for s in data["services"]] == [RESULT]
    assert len(data["open_requests"]["help"]) == 1
    assert any(e["action"] for e in data["who_read"])
    body = response.content.decode()
    assert other.name not in body and her.id_number not in body
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.detail) == ("export", {"copy": "json"})


def test_the_pdf_copy_opens_with_its_font_embedded(station_read_yesterday, signed_in, her, other):
    from pypdf import PdfReader

    response = signed_in.get("/me/copy.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(p.extract_text() for p in reader.pages)
    assert "我的信息副本" in text and her.name in text and other.name not in text
    assert RESULT in text and mask(her.id_number) in text
    if printing.font_file() is not None:
        fonts = reader.pages[0]["/Resources"]["/Font"]
        for name in fonts:
            font = fonts[name].get_object()
            parts = [font, *(d.get_object() for d in font.get("/DescendantFonts", []))]
            assert any(
                "/FontFile2" in p["/FontDescriptor"].get_object()
                for p in parts
                if "/FontDescriptor" in p
            ), font
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.detail) == ("export", {"copy": "pdf"})


def test_who_read_lists_the_exchange_messages_about_her_not_anothers(on_file, her, other):
    from liudong.exchange.models import InboxMessage, OutboxMessage

    for person, to in ((her, "411522"), (other, "330105")):
        OutboxMessage.objects.create(
            type="departure",
            to_region=to,
            region="330106002",
            envelope={"payload": {"id_number": person.id_number}},
        )
    InboxMessage.objects.create(
        id="00000000-0000-0000-0000-000000000001",
        type="verification",
        from_region="330105",
        to_region="330106",
        envelope={},
        digest="0" * 64,
        person=her,
    )
    messages = mine.her_messages(session.Resident(her.pk))
    assert sorted((m["direction"], m["type"]) for m in messages) == [
        ("received", "verification"),
        ("sent", "departure"),
    ]
    sent = next(m for m in messages if m["direction"] == "sent")
    assert sent["place"] != "411522" and "411522" not in sent["place"]  # by name
