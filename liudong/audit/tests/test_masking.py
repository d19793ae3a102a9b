"""ID numbers in the audit log: a detail (search, filter) is stored masked; a file's
before/after images keep the full number (a change can be traced and undone) but every way
of reading the log (its pages, its API, its xlsx export) shows it masked."""

from __future__ import annotations

import datetime
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from conftest import make_user
from liudong.accounts.roles import ALLOWED_LEVELS, CAPABILITIES, VIEW_AUDIT
from liudong.audit import services as audit
from liudong.audit.masking import ID_NUMBER_RE, mask_text, mask_value
from liudong.audit.models import AuditEntry
from liudong.people.idnumbers import make, mask
from liudong.regions.codes import Level

BORN = datetime.date(1990, 1, 1)
HERS = make("110105", BORN, 2, "2")  # 18 characters, valid
NEW = make("110105", BORN, 4, "2")
LEGACY = "110105900101002"  # a 15-digit number of the old form


@pytest.fixture
def log_reader(villages):
    """Whoever may read the county's audit log (the role that holds the capability)."""
    role = next(
        role
        for role, capabilities in CAPABILITIES.items()
        if VIEW_AUDIT in capabilities and Level.COUNTY in ALLOWED_LEVELS[role]
    )
    return make_user("log_reader", role, "330106")


@pytest.fixture
def corrected(log_reader):
    """A file whose ID number was corrected, and a search for it by number."""
    audit.record(
        "update",
        object_type="people.person",
        object_id="7",
        object_repr=f"王芳 {HERS}",
        region="330106002001",
        before={"id_number": HERS, "name": "王芳"},
        after={"id_number": NEW, "name": "王芳"},
    )
    audit.record(
        "export",
        acting_user=log_reader,
        detail={"filters": {"q": f"{HERS} 王"}, "legacy": LEGACY, "rows": 1},
    )
    return AuditEntry.objects.order_by("seq")


def shows_no_full_number(text: str) -> bool:
    return all(number not in text for number in (HERS, NEW, LEGACY))


@pytest.mark.django_db
def test_a_detail_is_stored_masked_and_images_in_full(corrected):
    update, export = corrected.get(action="update"), corrected.get(action="export")
    assert export.detail["filters"]["q"] == f"{mask(HERS)} 王"
    assert export.detail["legacy"] == "110105********1002" and export.detail["rows"] == 1
    # The images keep the number: the log can still say what it was and undo the change.
    assert (update.before["id_number"], update.after["id_number"]) == (HERS, NEW)


@pytest.mark.django_db
def test_the_pages_show_masked_numbers(corrected, client_for, log_reader):
    client = client_for(log_reader)
    listing = client.get("/audit/").content.decode()
    assert mask(HERS) in listing and shows_no_full_number(listing)
    for entry in corrected.filter(action__in=["update", "export"]):
        page = client.get(f"/audit/{entry.seq}/")
        assert page.status_code == 200
        html = page.content.decode()
        assert mask(HERS) in html and shows_no_full_number(html), entry.action


@pytest.mark.django_db
def test_the_api_shows_masked_numbers(corrected, api_for, log_reader):
    response = api_for(log_reader).get("/api/audit/", {"page_size": 100})
    assert response.status_code == 200
    body = response.content.decode()
    assert mask(HERS) in body and mask(NEW) in body and shows_no_full_number(body)


@pytest.mark.django_db
def test_the_export_shows_masked_numbers(corrected, log_reader):
    content = audit.export_xlsx(AuditEntry.objects.all(), acting_user=log_reader)
    sheet = load_workbook(io.BytesIO(content)).active
    cells = " ".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row)
    assert mask(HERS) in cells and mask(NEW) in cells and shows_no_full_number(cells)


def test_numbers_inside_longer_codes_are_left_alone():
    # A hash, a credit code or a UUID holds digit runs that are not ID numbers.
    for text in ("a" + HERS, HERS + "0", "91330106MA27XW" + HERS[:4], "e3b0c44298fc1c149afbf4c8"):
        assert mask_text(text) == text
    assert mask_value({"n": 1.5, "ok": True, "none": None}) == {"n": 1.5, "ok": True, "none": None}


_around = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)


@given(before=_around, after=_around, sequence=st.integers(0, 997), lower_x=st.booleans())
def test_no_id_number_survives_masking(before, after, sequence, lower_x):
    number = make("330106", BORN, sequence, "2")
    if lower_x:
        number = number.lower()
    text = f"{before} {number} {after}"
    masked = mask_text(text)
    assert number not in masked
    assert not ID_NUMBER_RE.search(masked)
    assert mask_text(masked) == masked  # masking twice changes nothing more


@pytest.mark.django_db
def test_the_filter_labels_are_chinese(log_reader, client_for):
    """django-filter's own labels ("Action", "at is greater than or equal to") were shown
    in English on the Chinese page."""
    listing = client_for(log_reader).get("/audit/").content.decode()
    for label in ("<label>操作", "<label>自", "<label>至", "<label>账号"):
        assert label in listing
    assert "greater than" not in listing and "<label>Action" not in listing
