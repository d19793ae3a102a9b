"""The PDF copy of her data (PIPL art. 45): the contents of :func:`mine.copy_of` on A4
pages, in Chinese, drawn in the CJK font the certificates embed (a subset, so any viewer
shows it: ``certificates.printing``). Plain lines, page after page: a record, not a form."""

from __future__ import annotations

import datetime
import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from liudong.certificates import printing


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


class _Writer:
    def __init__(self, font: str) -> None:
        self.buffer = io.BytesIO()
        self.font = font
        self.page = canvas.Canvas(self.buffer, pagesize=A4, pageCompression=1, initialFontName=font)
        self.width, self.height = A4
        self.left, self.right = 20 * mm, A4[0] - 20 * mm
        self.y = self.height - 20 * mm

    def _room(self, needed: float) -> None:
        if self.y - needed < 20 * mm:
            self.page.showPage()
            self.y = self.height - 20 * mm

    def heading(self, text: str) -> None:
        self._room(24 * mm)  # a heading never alone at the foot of a page
        self.y -= 4 * mm
        self.page.setFont(self.font, 14)
        self.page.drawString(self.left, self.y, text)
        self.y -= 8 * mm

    def line(self, text: str, *, indent: float = 0) -> None:
        """One line, wrapped at the margin (Chinese wraps between any two characters)."""
        self.page.setFont(self.font, 10)
        room = self.right - self.left - indent
        rest = text
        while rest:
            cut = len(rest)
            while cut > 1 and stringWidth(rest[:cut], self.font, 10) > room:
                cut -= 1
            self._room(6 * mm)
            self.page.drawString(self.left + indent, self.y, rest[:cut])
            self.y -= 5.5 * mm
            rest = rest[cut:]

    def pair(self, label: str, value: Any) -> None:
        self.line(f"{label}：{_text(value)}")

    def done(self) -> bytes:
        self.page.showPage()
        self.page.save()
        return self.buffer.getvalue()


def render(copy: dict[str, Any]) -> bytes:
    """The copy as PDF bytes (the caller builds ``copy`` in Chinese: DESIGN.md §2.5)."""
    out = _Writer(printing._font())
    out.page.setTitle("我的信息副本")
    out.page.setCreator("Liudong")
    out.page.setFont(out.font, 20)
    out.page.drawCentredString(out.width / 2, out.y, "我的信息副本")
    out.y -= 9 * mm
    out.line(f"生成时间：{_text(copy['made_at'])}（依据《个人信息保护法》第四十五条）")

    f = copy["file"]
    out.heading("我的档案")
    for label, key in (
        ("姓名", "name"),
        ("身份证号（部分隐藏）", "id_number"),
        ("性别", "sex"),
        ("出生日期", "birth_date"),
        ("婚姻状况", "marital_status"),
        ("电话", "phone"),
        ("户籍地", "household_region"),
        ("户籍地址", "household_address"),
        ("现居住地", "residence_region"),
        ("现居住地址", "residence_address"),
        ("配偶身份证号（部分隐藏）", "spouse_id_number"),
        ("子女数", "children_count"),
    ):
        out.pair(label, f[key])
    out.line("居住记录：")
    for stay in f["stays"] or [{}]:
        if stay:
            out.line(
                f"{_text(stay['region'])} {stay['address']}  来到：{_text(stay['arrival_date'])}"
                f"  离开：{_text(stay['departure_date'])}",
                indent=6 * mm,
            )
        else:
            out.line("—", indent=6 * mm)
    out.line("子女：")
    for child in f["children"] or [{}]:
        if child:
            out.line(
                f"{_text(child['name'])}  {child['sex']}  出生日期 {_text(child['birth_date'])}",
                indent=6 * mm,
            )
        else:
            out.line("—", indent=6 * mm)

    out.heading("我的婚育证明")
    for c in copy["certificates"] or [{}]:
        if c:
            state = "有效" if c["valid"] else "无效"
            out.line(
                f"编号 {c['number']}  {state}  发证：{c['issuing_office']} {_text(c['issued_on'])}"
                f"  有效期至 {_text(c['valid_until'])}"
            )
        else:
            out.line("—")

    here = copy["services_here"]
    out.heading("我可以免费享受的服务")
    out.line("、".join(str(t["name"]) for t in here["types"]))
    for s in here["stations"]:
        out.line(f"{s['name']}  {s['address']}  {s['phone']}", indent=6 * mm)

    out.heading("为我登记的服务")
    for s in copy["services"] or [{}]:
        if s:
            out.line(f"{_text(s['date'])}  {s['name']}  {_text(s['where'])}")
            if s["result"]:
                out.line(f"结果：{s['result']}", indent=6 * mm)
        else:
            out.line("—")

    out.heading("我的未办结求助和问询")
    requests = copy["open_requests"]
    for h in requests["help"]:
        out.line(f"求助 {h['category']}  {_text(h['received_on'])}  {h['status']}  {h['office']}")
    for a in requests["assistance"]:
        out.line(f"问询 {a['question']}  {_text(a['asked_on'])}  {a['office']}")
    if not requests["help"] and not requests["assistance"]:
        out.line("—")

    out.heading("谁查看过我的档案")
    for e in copy["who_read"] or [{}]:
        if e:
            who = f"{e['office']} {e['role']}" + (f" {e['staff_name']}" if e["staff_name"] else "")
            why = f"  原因：{e['reason']}" if e["reason"] else ""
            out.line(f"{_text(e['at'])}  {who}  {e['action']} {e['what']}{why}")
        else:
            out.line("—")
    out.heading("关于我的机构间消息")
    for m in copy["messages"] or [{}]:
        if m:
            way = _("sent to") if m["direction"] == "sent" else _("received from")
            out.line(f"{_text(m['at'])}  {way} {m['place']}  {m['type_name']}")
        else:
            out.line("—")
    return out.done()
