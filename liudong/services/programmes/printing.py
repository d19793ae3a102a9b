"""The village's public notice (公示) as a printable A4 list: PDF with the CJK font
embedded (the certificate's font, ``liudong.certificates.printing``), in Chinese whatever
the interface language. It lists names, masked ID numbers (never a full one: the notice
hangs on a wall), programmes, the notice period and where to object. Every print is logged
as an export. Must not change a notice or an application.
"""

from __future__ import annotations

import io

from django.db.models import QuerySet
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from liudong.actors import Actor
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.certificates.printing import _font
from liudong.people.idnumbers import mask
from liudong.regions.models import Region

from .models import Application, PublicNotice

TITLE = "计划生育奖励扶助、特别扶助对象公示"
ROWS_PER_PAGE = 24


def notice_applications(notice: PublicNotice) -> QuerySet[Application]:
    """The applications the notice lists (the notice was read in scope)."""
    return notice.applications.select_related("programme", "family").order_by("name", "pk")


def _township(notice: PublicNotice) -> Region | None:
    return Region.objects.filter(code=notice.region_id[:9]).first()


def render_pdf(notice: PublicNotice) -> bytes:
    font = _font()
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=font)
    page.setTitle(f"{TITLE} {notice.region.name}")
    page.setCreator("Liudong")
    width, height = A4
    left, right = 18 * mm, width - 18 * mm
    township = _township(notice)
    office = township.full_name() if township else notice.region_id[:9]
    rows = [
        (str(index), a.name, mask(a.id_number), a.programme.name)
        for index, a in enumerate(notice_applications(notice), start=1)
    ]
    columns = (left, left + 14 * mm, left + 46 * mm, left + 96 * mm)
    pages = [rows[i : i + ROWS_PER_PAGE] for i in range(0, len(rows), ROWS_PER_PAGE)] or [[]]
    for number, chunk in enumerate(pages, start=1):
        page.setFont(font, 18)
        page.drawCentredString(width / 2, height - 28 * mm, TITLE)
        page.setFont(font, 12)
        page.drawCentredString(width / 2, height - 37 * mm, notice.region.full_name())
        page.setFont(font, 11)
        page.drawString(
            left,
            height - 48 * mm,
            f"公示期：{notice.posted_on.isoformat()} 至 {notice.ends_on.isoformat()}",
        )
        y = height - 60 * mm
        page.setFont(font, 11)
        for x, text in zip(columns, ("序号", "姓名", "公民身份号码", "项目"), strict=True):
            page.drawString(x, y, text)
        page.line(left, y - 2.5 * mm, right, y - 2.5 * mm)
        y -= 8 * mm
        for row in chunk:
            for x, text in zip(columns, row, strict=True):
                page.drawString(x, y, text)
            y -= 7 * mm
        if not chunk:
            page.drawString(left, y, "（无）")
            y -= 7 * mm
        page.line(left, y + 4 * mm, right, y + 4 * mm)
        notes = [
            "以上人员申请计划生育家庭奖励扶助或特别扶助，现予公示。",
            f"如有异议，请于公示期内向{office}反映（实名或匿名均可）。",
            "公示名单中的身份号码已作部分隐藏。",
        ]
        y -= 6 * mm
        for text in notes:
            page.drawString(left, y, text)
            y -= 6.5 * mm
        page.setFont(font, 9)
        page.drawRightString(right, 15 * mm, f"第 {number} 页 / 共 {len(pages)} 页")
        page.showPage()
    page.save()
    return buffer.getvalue()


def print_notice(notice: PublicNotice, *, acting_user: Actor) -> bytes:
    """The notice as A4 PDF bytes; every print is logged as an export."""
    data = render_pdf(notice)
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        obj=notice,
        region=notice.region_id,
        detail={"action": "print", "format": "pdf"},
    )
    return data
