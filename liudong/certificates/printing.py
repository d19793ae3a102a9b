"""The printed certificate: one A4 page in Chinese with the QR code of the signed payload.

The Chinese text is drawn in a TrueType CJK font embedded in the PDF as a subset (only the
glyphs the page uses, ~100 KB), so any viewer shows it, with no Asian font installed, and
the file can become PDF/A: :data:`FONT_FILES` lists where the font is looked for (Debian's
fonts-wqy-microhei first: TrueType outlines, which ReportLab can subset and embed, where
the CFF outlines of Noto Sans CJK it cannot), ``LIUDONG_CERTIFICATE_FONT`` names another.
Only where none is installed does the page fall back to ReportLab's CID font STSong-Light,
which the viewer must supply (a warning is logged). segno draws the QR code as a lossless PNG, so a
standard reader decodes it from the page. The printed document is Chinese whatever the
interface language (DESIGN.md §2.5). :func:`render_pdf` renders, reading no more than the
certificate's own regions; :func:`print_certificate` is the service staff call, and logs
every print as an export. Must not change a certificate.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import segno
from django.conf import settings
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from liudong.actors import Actor
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.people.idnumbers import mask
from liudong.people.template import MARITAL_CHOICES, SEX_CHOICES

from . import payload as payloads
from .models import Certificate

# A .ttf or .ttc file with TrueType outlines covering GB 2312, first found first used.
FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # Debian/Ubuntu fonts-wqy-microhei
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",  # Fedora wqy-microhei-fonts
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # Debian/Ubuntu fonts-wqy-zenhei
    "/usr/share/fonts/truetype/arphic/uming.ttc",  # Debian/Ubuntu fonts-arphic-uming
)
EMBEDDED_FONT = "LiudongCJK"
FALLBACK_FONT = "STSong-Light"  # referenced by name only: the viewer supplies the glyphs
logger = logging.getLogger(__name__)
TITLE = "流动人口婚育证明"
CONTRACEPTION_ZH = {
    "not_stated": "未说明",
    "none": "未采取措施",
    "iud": "宫内节育器",
    "implant": "皮下埋植",
    "pill": "口服避孕药",
    "condom": "避孕套",
    "sterilisation": "绝育",
    "other": "其他",
}
SEX_ZH = dict(SEX_CHOICES)
MARITAL_ZH = dict(MARITAL_CHOICES)


def font_file() -> Path | None:
    """The CJK font file the certificate embeds: LIUDONG_CERTIFICATE_FONT, else the first
    of :data:`FONT_FILES` installed."""
    named = settings.CERTIFICATE_FONT
    for candidate in (named, *FONT_FILES) if named else FONT_FILES:
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def _font() -> str:
    registered = pdfmetrics.getRegisteredFontNames()
    if EMBEDDED_FONT in registered:
        return EMBEDDED_FONT
    path = font_file()
    if path is not None:
        # Font 0 of a collection (.ttc) is the regular face; ReportLab embeds a subset.
        pdfmetrics.registerFont(TTFont(EMBEDDED_FONT, str(path), subfontIndex=0))
        return EMBEDDED_FONT
    logger.warning(
        "No CJK TrueType font found (install fonts-wqy-microhei or set "
        "LIUDONG_CERTIFICATE_FONT): certificates name %s without embedding it",
        FALLBACK_FONT,
    )
    if FALLBACK_FONT not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT


def qr_png(payload: str, *, scale: int = 8) -> bytes:
    """The QR code of a payload as PNG (error correction M, quiet zone of 4 modules)."""
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(payload: str, *, title: str = "") -> str:
    """The QR code of a payload as an inline SVG element for a web page (no script, no
    image request): it scales with its box (viewBox) and keeps a white quiet zone."""
    return segno.make(payload, error="m", micro=False).svg_inline(
        scale=4, border=4, omitsize=True, svgclass="qr", lineclass=None, light="#fff", title=title
    )


def _region_name(code: str) -> str:
    from liudong.regions.models import Region

    region = Region.objects.filter(code=code).first()
    return region.full_name() if region else code


def render_pdf(certificate: Certificate) -> bytes:
    font = _font()
    buffer = io.BytesIO()
    # The page's first font is ours too: ReportLab's default (Helvetica) would be listed
    # in the page's fonts, never embedded, although nothing is drawn in it.
    page = canvas.Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=font)
    page.setTitle(f"{TITLE} {certificate.number}")
    page.setSubject(TITLE)
    page.setCreator("Liudong")
    width, height = A4
    left, right = 25 * mm, width - 25 * mm

    page.setFont(font, 26)
    page.drawCentredString(width / 2, height - 40 * mm, TITLE)
    page.setFont(font, 11)
    page.drawCentredString(width / 2, height - 49 * mm, f"编号：{certificate.number}")

    children = certificate.children or []
    child_lines = [
        f"第{child.get('order') or index}孩  {SEX_ZH.get(child.get('sex', ''), '')}  "
        f"出生日期 {child.get('birth_date', '')}"
        for index, child in enumerate(children, start=1)
    ]
    rows: list[tuple[str, list[str]]] = [
        ("姓名", [certificate.name]),
        ("性别", [SEX_ZH.get(certificate.sex, certificate.sex)]),
        ("出生日期", [certificate.birth_date.isoformat()]),
        ("公民身份号码", [certificate.id_number]),
        ("婚姻状况", [MARITAL_ZH.get(certificate.marital_status, certificate.marital_status)]),
        ("配偶姓名", [certificate.spouse_name or "—"]),
        (
            "配偶身份号码",
            [mask(certificate.spouse_id_number) if certificate.spouse_id_number else "—"],
        ),
        ("现有子女数", [str(certificate.children_count)]),
        ("子女情况", child_lines or ["—"]),
        ("节育情况（本人自述）", [CONTRACEPTION_ZH.get(certificate.contraception, "未说明")]),
        ("发证机关", [_region_name(certificate.issuing_region_id)]),
        ("发证日期", [certificate.issued_on.isoformat()]),
        ("有效期至", [certificate.valid_until.isoformat()]),
    ]

    y = height - 62 * mm
    label_width = 48 * mm
    line = 7.5 * mm
    page.setLineWidth(0.6)
    page.line(left, y + line - 2 * mm, right, y + line - 2 * mm)
    for label, values in rows:
        top = y + line - 2 * mm
        page.setFont(font, 12)
        page.drawString(left + 3 * mm, y, label)
        for index, value in enumerate(values):
            page.drawString(left + label_width + 3 * mm, y - index * line, value)
        y -= line * len(values)
        page.line(left, y + line - 2 * mm, right, y + line - 2 * mm)
        page.line(left + label_width, top, left + label_width, y + line - 2 * mm)
    bottom = y + line - 2 * mm
    page.line(left, bottom, left, height - 62 * mm + line - 2 * mm)
    page.line(right, bottom, right, height - 62 * mm + line - 2 * mm)

    qr_size = 55 * mm
    qr_top = bottom - 8 * mm
    page.drawImage(
        ImageReader(io.BytesIO(qr_png(payloads.link(certificate.payload)))),
        right - qr_size,
        qr_top - qr_size,
        qr_size,
        qr_size,
    )
    page.setFont(font, 10)
    notes = [
        "扫描右侧二维码查验本证明：",
        "二维码载有发证机关的电子签名，",
        "查验无需联网。",
        f"签名密钥：{certificate.key_id}",
        "",
        "本证明免费出具，全国范围内有效；",
        "持证人年满五十周岁或证明被注销后失效。",
    ]
    for index, text in enumerate(notes):
        page.drawString(left + 3 * mm, qr_top - 8 * mm - index * 6 * mm, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def print_certificate(certificate: Certificate, *, acting_user: Actor) -> bytes:
    """The A4 certificate as PDF bytes; every print is logged."""
    data = render_pdf(certificate)
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        obj=certificate,
        region=certificate.issuing_region_id,
        detail={"action": "print", "format": "pdf"},
    )
    return data
