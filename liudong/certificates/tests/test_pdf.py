"""The printed certificate: a real A4 PDF whose Chinese text can be read back and whose
QR code a standard reader decodes to the payload that verifies."""

from __future__ import annotations

import io

import pytest

from liudong.audit.models import AuditEntry
from liudong.certificates import issuing, printing, verification

from .conftest import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def printed(township_a, woman):
    certificate = issuing.issue(woman, acting_user=township_a, today=TODAY)
    return certificate, printing.print_certificate(certificate, acting_user=township_a)


def test_it_is_an_a4_pdf_with_the_title_and_her_name(printed, woman):
    from pypdf import PdfReader

    certificate, data = printed
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = reader.pages[0].extract_text()
    assert "流动人口婚育证明" in text
    assert "周敏" in text and certificate.number in text and woman.id_number in text
    assert "西湖区北山街道" in text  # the issuing township, by name
    assert "节育情况（本人自述）" in text and "未说明" in text


def test_the_qr_on_the_page_decodes_to_the_payload_that_verifies(printed):
    import zxingcpp
    from pypdf import PdfReader

    certificate, data = printed
    images = PdfReader(io.BytesIO(data)).pages[0].images
    assert len(images) == 1
    decoded = zxingcpp.read_barcodes(images[0].image)
    assert [code.format.name for code in decoded] == ["QRCode"]
    # A link to the public check page with the code in the fragment (a phone camera opens
    # it; the fragment never reaches a server); the link as scanned verifies.
    assert decoded[0].text == f"http://127.0.0.1:8000/verify/#{certificate.payload}"
    assert verification.verify_payload(decoded[0].text, today=TODAY).ok


def test_every_print_is_logged(printed, township_a):
    certificate, _data = printed
    entry = AuditEntry.objects.get(action="export", object_type="certificates.certificate")
    assert entry.detail == {"action": "print", "format": "pdf"}
    assert entry.object_id == str(certificate.pk) and entry.actor == township_a


def _fonts(data):
    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(data)).pages[0]
    fonts = page["/Resources"]["/Font"]
    return [fonts[name].get_object() for name in fonts]


def _embedded(font) -> bool:
    """A font object with its program in the file: FontFile, FontFile2 (TrueType) or
    FontFile3 (CFF), on its descriptor or, for a composite font, its descendant's."""
    fonts = [font, *(each.get_object() for each in font.get("/DescendantFonts", []))]
    for each in fonts:
        descriptor = each.get("/FontDescriptor")
        if descriptor is not None and any(
            key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3")
        ):
            return True
    return False


def test_the_chinese_font_is_embedded_so_any_viewer_shows_it(printed, woman):
    """Not a name the viewer must supply (STSong-Light): without an Asian font installed
    it showed boxes. The embedded subset still extracts as the Chinese written."""
    if printing.font_file() is None:
        pytest.skip(
            "no CJK TrueType font installed (apt-get install fonts-wqy-microhei; "
            "scripts/ensure-office installs it for CI)"
        )
    from pypdf import PdfReader

    _certificate, data = printed
    fonts = _fonts(data)
    assert fonts and all(_embedded(font) for font in fonts), fonts
    assert not any("STSong" in str(font.get("/BaseFont")) for font in fonts)
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "流动人口婚育证明" in text and woman.name in text


def test_without_a_cjk_font_file_it_falls_back_to_the_named_font(
    township_a, woman, monkeypatch, settings, caplog
):
    from reportlab.pdfbase import pdfmetrics

    monkeypatch.setattr(printing, "FONT_FILES", ())
    settings.CERTIFICATE_FONT = ""
    monkeypatch.setattr(pdfmetrics, "_fonts", dict(pdfmetrics._fonts))
    monkeypatch.delitem(pdfmetrics._fonts, printing.EMBEDDED_FONT, raising=False)
    certificate = issuing.issue(woman, acting_user=township_a, today=TODAY)

    data = printing.print_certificate(certificate, acting_user=township_a)

    assert [str(font.get("/BaseFont")) for font in _fonts(data)] == ["/STSong-Light"]
    assert "fonts-wqy-microhei" in caplog.text
