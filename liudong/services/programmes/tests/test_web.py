"""The programme pages: what they save, refuse and show (their rules are the services'
and tested there; here the pages call them and show their answers)."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from django.utils import translation

from liudong.audit.models import AuditEntry
from liudong.regions.models import Region
from liudong.services.programmes import eligibility, services
from liudong.services.programmes.models import Application, Benefit, Family

from .conftest import VILLAGE_A1, VILLAGE_B1, D, id_number, make_family
from .test_services import ENDS, POSTED, applied

pytestmark = pytest.mark.django_db
Status = Application.Status


def test_the_township_records_a_family_and_its_page_is_logged(client_for, township_a):
    client = client_for(township_a)
    father = id_number(D(1960, 5, 1), "1")
    response = client.post(
        reverse("programmes:family_create"),
        {
            "applicant_name": "赵大山",
            "applicant_id_number": father,
            "spouse_name": "",
            "spouse_id_number": "",
            "household_type": "agricultural",
            "household_region": VILLAGE_A1,
            "household_address": "",
            "person_id_number": "",
        },
    )
    family = Family.objects.get(applicant_id_number=father)
    assert response.status_code == 302 and response.url == reverse(
        "programmes:family", args=[family.pk]
    )
    page = client.get(response.url)
    assert father in page.content.decode()
    assert AuditEntry.objects.filter(action="view", object_id=str(family.pk)).count() == 1


def test_a_family_outside_her_region_is_refused_on_the_form(client_for, township_a):
    client = client_for(township_a)
    father = id_number(D(1960, 5, 1), "1")
    response = client.post(
        reverse("programmes:family_create"),
        {
            "applicant_name": "赵大山",
            "applicant_id_number": father,
            "household_type": "agricultural",
            "household_region": VILLAGE_B1,
        },
    )
    assert response.status_code == 200
    assert not Family.objects.exists()
    assert VILLAGE_B1 in response.content.decode()  # the refusal names the region


def test_a_family_of_another_township_is_not_found(client_for, township_a, township_b):
    family = make_family(township_b, village=VILLAGE_B1)
    client = client_for(township_a)
    for name in ("family", "family_edit", "apply", "child_add"):
        assert client.get(reverse(f"programmes:{name}", args=[family.pk])).status_code == 404
    listing = client.get(reverse("programmes:families")).content.decode()
    assert reverse("programmes:family", args=[family.pk]) not in listing


def test_the_families_list_masks_id_numbers_and_searches(client_for, township_a):
    family = make_family(township_a)
    other = make_family(township_a, village="330106002002")
    client = client_for(township_a)
    page = client.get(reverse("programmes:families")).content.decode()
    assert family.applicant_id_number not in page
    assert family.applicant_id_number[:6] + "********" + family.applicant_id_number[-4:] in page
    found = client.get(reverse("programmes:families"), {"region": "330106002002"}).content.decode()
    assert reverse("programmes:family", args=[other.pk]) in found
    assert reverse("programmes:family", args=[family.pk]) not in found
    by_tail = client.get(
        reverse("programmes:families"), {"q": family.applicant_id_number[-6:]}
    ).content.decode()
    assert reverse("programmes:family", args=[family.pk]) in by_tail
    assert reverse("programmes:family", args=[other.pk]) not in by_tail


def _check_rows(html: str) -> dict[str, str]:
    """code -> "yes" or the reason shown, from the check table."""
    rows = {}
    for code, qualifies, body in re.findall(
        r'data-testid="check-([a-z_]+)" data-qualifies="(yes|no)">(.*?)</tr>', html, re.S
    ):
        reason = re.search(r'data-testid="reason">(.*?)</span>', body, re.S)
        rows[code] = "yes" if qualifies == "yes" else reason.group(1)
    return rows


@pytest.mark.parametrize("parent", ["applicant", "spouse"])
def test_the_web_check_lists_exactly_what_judge_says(client_for, township_a, parent):
    from django.utils.html import escape

    family = make_family(township_a, certified=False, mother=D(1977, 1, 1))
    page = client_for(township_a).get(
        reverse("programmes:apply", args=[family.pk]), {"parent": parent}
    )
    shown = _check_rows(page.content.decode())
    who = family.spouse_id_number if parent == "spouse" else family.applicant_id_number
    with translation.override("zh-hans"):  # the page's language
        verdict = eligibility.judge(eligibility.facts_of(family, who), D.today())
        expected = {code: "yes" for code in verdict.programmes} | {
            code: str(escape(reason)) for code, reason in verdict.not_.items()
        }
    assert shown == expected
    assert set(shown) == {"reward", "special_death", "special_disability"}


def test_the_check_says_yes_to_a_qualifying_family_and_the_form_applies(
    client_for, township_a, reward
):
    family = make_family(township_a)
    client = client_for(township_a)
    url = reverse("programmes:apply", args=[family.pk])
    assert _check_rows(client.get(url).content.decode())["reward"] == "yes"
    response = client.post(
        url,
        {
            "parent": "applicant",
            "programme": reward.pk,
            "applied_on": "2026-10-30",
            "bank_card": "6217000011112222",
        },
    )
    application = Application.objects.get()
    assert response.url == reverse("programmes:application", args=[application.pk])
    again = client.post(
        url,
        {
            "parent": "applicant",
            "programme": reward.pk,
            "applied_on": "2026-10-31",
            "bank_card": "",
        },
    )
    assert again.status_code == 200 and Application.objects.count() == 1


def test_the_notice_prints_as_an_a4_pdf_without_full_id_numbers(client_for, township_a, reward):
    from pypdf import PdfReader

    from liudong.certificates import printing as certificate_printing

    family = make_family(township_a)
    applied(family, township_a, reward)
    notice = services.post_notice(
        acting_user=township_a,
        village=Region.objects.get(code=VILLAGE_A1),
        posted_on=POSTED,
        ends_on=ENDS,
    )
    response = client_for(township_a).get(reverse("programmes:notice_pdf", args=[notice.pk]))
    assert response["Content-Type"] == "application/pdf"
    data = response.content
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = reader.pages[0].extract_text()
    assert family.applicant_id_number not in text
    assert family.applicant_id_number[-4:] in text and "王建国" in text
    assert "2026-11-01" in text and "2026-11-08" in text and "异议" in text
    if certificate_printing.font_file() is not None:
        fonts = reader.pages[0]["/Resources"]["/Font"]
        for name in fonts:
            font = fonts[name].get_object()
            parts = [font, *(d.get_object() for d in font.get("/DescendantFonts", []))]
            assert any(
                "/FontDescriptor" in p
                and any(
                    k in p["/FontDescriptor"].get_object()
                    for k in ("/FontFile2", "/FontFile", "/FontFile3")
                )
                for p in parts
            )
    assert AuditEntry.objects.filter(
        action="export", object_type="programmes.publicnotice"
    ).exists()


def test_the_pages_take_an_application_from_notice_to_approval(
    client_for, township_a, county_admin, reward
):
    family = make_family(township_a)
    application = applied(family, township_a, reward)
    township = client_for(township_a)
    response = township.post(
        reverse("programmes:notice_create"),
        {
            "village": VILLAGE_A1,
            "posted_on": "2026-11-01",
            "ends_on": "2026-11-07",
            "applications": [application.pk],
        },
    )
    assert response.status_code == 200  # six days: refused
    application.refresh_from_db()
    assert application.status == Status.APPLIED
    response = township.post(
        reverse("programmes:notice_create"),
        {
            "village": VILLAGE_A1,
            "posted_on": "2026-11-01",
            "ends_on": "2026-11-08",
            "applications": [application.pk],
        },
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.ON_NOTICE
    step = lambda client, name, **data: client.post(  # noqa: E731
        reverse("programmes:application_step", args=[application.pk, name]),
        {"version": Application.objects.get(pk=application.pk).version, **data},
    )
    # The township may not approve; the step is refused and nothing changes.
    assert step(township, "review", decision="yes").status_code == 302
    refused = step(township, "decide", decision="yes")
    assert refused.status_code == 200 and 'data-testid="form-error"' in refused.content.decode()
    assert Application.objects.get(pk=application.pk).status == Status.REVIEWED
    assert not Benefit.objects.exists()
    county = client_for(county_admin)
    worklist = county.get(reverse("programmes:worklist")).content.decode()
    assert reverse("programmes:application", args=[application.pk]) in worklist
    assert step(county, "decide", decision="no", reason="").status_code == 200  # no reason
    assert Application.objects.get(pk=application.pk).status == Status.REVIEWED
    assert step(county, "decide", decision="yes").status_code == 302
    assert Benefit.objects.get(application=application)
    page = township.get(reverse("programmes:family", args=[family.pk])).content.decode()
    assert 'data-testid="benefit-row"' in page


def test_the_notice_embeds_its_font(township_a, reward, settings, monkeypatch):
    """Every font of the printed notice is in the file (the certificate's font: any
    TrueType font named by LIUDONG_CERTIFICATE_FONT, here one every Debian has; the CJK
    one where installed), so a viewer without Asian fonts shows it."""
    from pathlib import Path

    from pypdf import PdfReader
    from reportlab.pdfbase import pdfmetrics

    from liudong.certificates import printing as certificate_printing
    from liudong.services.programmes import printing

    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if certificate_printing.font_file() is None and not font.is_file():
        pytest.skip("no TrueType font installed")
    if certificate_printing.font_file() is None:
        settings.CERTIFICATE_FONT = str(font)
    # A font registered here stays out of the other tests' registry.
    monkeypatch.setattr(pdfmetrics, "_fonts", dict(pdfmetrics._fonts))
    monkeypatch.delitem(pdfmetrics._fonts, certificate_printing.EMBEDDED_FONT, raising=False)
    applied(make_family(township_a), township_a, reward)
    notice = services.post_notice(
        acting_user=township_a,
        village=Region.objects.get(code=VILLAGE_A1),
        posted_on=POSTED,
        ends_on=ENDS,
    )
    page = PdfReader(io.BytesIO(printing.print_notice(notice, acting_user=township_a))).pages[0]
    fonts = page["/Resources"]["/Font"]
    assert fonts
    for name in fonts:
        each = fonts[name].get_object()
        parts = [each, *(d.get_object() for d in each.get("/DescendantFonts", []))]
        assert any(
            "/FontDescriptor" in p
            and any(
                k in p["/FontDescriptor"].get_object()
                for k in ("/FontFile2", "/FontFile", "/FontFile3")
            )
            for p in parts
        ), each
        assert "STSong" not in str(each.get("/BaseFont"))
