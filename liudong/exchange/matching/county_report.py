"""The per-region-pair report of a match for two-way assessment (双向考核): for each pair of
counties (household county, residence county), who both registers hold, who only one holds,
the rate each side is assessed on, and on matched pairs whether the two registers agree on
the certificate and its verification. Also the report's xlsx form and its terminal table.

Rates (percentages, two decimals, None where the denominator is 0):
- ``residence_rate`` (居住地登记率), what the residence is judged on with the origin's data:
  of the people the origin reports living in the residence county, the share the residence
  has on file: matched / (matched + only_outflow);
- ``origin_rate`` (户籍地登记率), what the origin is judged on with the residence's data: of
  the people the residence has on file from the origin county, the share the origin has on
  file as outflow: matched / (matched + only_inflow).

Field agreement on matched pairs, where the registers carry the columns:
- certificate (婚育证明编号): the origin issues it and the residence records it on arrival.
  Same number on both sides, different numbers, on the origin's side only (the residence
  has not recorded a certificate that exists), on the residence's side only (the origin's
  register lacks one it issued or another place did). ``certificate_agreement_rate`` =
  same / pairs where at least one side names a certificate. Numbers are compared without
  spaces, dashes and letter case (registers write 330106002-2026-000123 both ways).
- verification (查验日期): done by the residence, known at the origin when the verification
  notice reached it. Recorded on both sides, on the residence's side only (the notice did
  not arrive: counts against the exchange), on the origin's side only (the residence's
  register lacks a verification it once reported). ``verification_agreement_rate`` = both /
  pairs where at least one side records one. Two different dates count as both: the
  residence may verify again, and what is assessed is that the origin knows.
A pair where neither side names a certificate (a man, a woman without one) counts in neither.

Pure: no database, no Django models (the CLI, the web page and the benchmark share it).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from openpyxl.cell import WriteOnlyCell

from liudong.people.idnumbers import mask

if TYPE_CHECKING:
    # Type only: the engine imports this module when it counts (a runtime import here
    # would close a cycle).
    from .engine import MatchResult

COUNTS = (
    "matched",
    "only_outflow",
    "only_inflow",
    "certificate_same",
    "certificate_different",
    "certificate_only_outflow",
    "certificate_only_inflow",
    "verified_both",
    "verified_only_outflow",
    "verified_only_inflow",
)
RATES = (
    "residence_rate",
    "origin_rate",
    "certificate_agreement_rate",
    "verification_agreement_rate",
)
# The order of an entry's keys (json, table, xlsx).
KEYS = (
    "outflow_region",
    "inflow_region",
    "matched",
    "only_outflow",
    "only_inflow",
    "residence_rate",
    "origin_rate",
    "certificate_same",
    "certificate_different",
    "certificate_only_outflow",
    "certificate_only_inflow",
    "certificate_agreement_rate",
    "verified_both",
    "verified_only_outflow",
    "verified_only_inflow",
    "verification_agreement_rate",
)
# Column headers of the xlsx form and the table (the offices' language).
HEADERS = {
    "outflow_region": "户籍地（县）",
    "inflow_region": "现居住地（县）",
    "matched": "双方均有",
    "only_outflow": "仅户籍地有",
    "only_inflow": "仅居住地有",
    "residence_rate": "居住地登记率(%)",
    "origin_rate": "户籍地登记率(%)",
    "certificate_same": "证明编号一致",
    "certificate_different": "证明编号不一致",
    "certificate_only_outflow": "证明仅户籍地有",
    "certificate_only_inflow": "证明仅居住地有",
    "certificate_agreement_rate": "证明一致率(%)",
    "verified_both": "查验双方均有",
    "verified_only_outflow": "查验仅户籍地有",
    "verified_only_inflow": "查验仅居住地有",
    "verification_agreement_rate": "查验一致率(%)",
}
TITLE = "流动人口双向考核比对报告"
_CERTIFICATE_NOISE = re.compile(r"[\s\-－—_/]")


def percent(numerator: int, denominator: int) -> float | None:
    return round(100 * numerator / denominator, 2) if denominator else None


def _certificate_key(number: str) -> str:
    return _CERTIFICATE_NOISE.sub("", number).upper()


def agreement(left: Any, right: Any) -> list[str]:
    """The agreement counters a matched pair (outflow record, inflow record) adds to."""
    keys = []
    ours, theirs = left.certificate_no, right.certificate_no
    if ours and theirs:
        same = _certificate_key(ours) == _certificate_key(theirs)
        keys.append("certificate_same" if same else "certificate_different")
    elif ours:
        keys.append("certificate_only_outflow")
    elif theirs:
        keys.append("certificate_only_inflow")
    if left.verified_on and right.verified_on:
        keys.append("verified_both")
    elif left.verified_on:
        keys.append("verified_only_outflow")
    elif right.verified_on:
        keys.append("verified_only_inflow")
    return keys


INDEX = {key: position for position, key in enumerate(COUNTS)}


def entry(origin: str | None, destination: str | None, tally: Any) -> dict:
    """One row of the report: the counts of ``tally`` (a mapping, or a sequence in COUNTS
    order) and the rates they give, keys in KEYS order. Written out long-hand: a register
    of a million rows has about a million county pairs."""
    if isinstance(tally, Mapping):
        tally = [int(tally.get(key, 0)) for key in COUNTS]
    (
        matched,
        only_outflow,
        only_inflow,
        certificate_same,
        certificate_different,
        certificate_only_outflow,
        certificate_only_inflow,
        verified_both,
        verified_only_outflow,
        verified_only_inflow,
    ) = tally
    certificates = (
        certificate_same
        + certificate_different
        + certificate_only_outflow
        + certificate_only_inflow
    )
    return {
        "outflow_region": origin,
        "inflow_region": destination,
        "matched": matched,
        "only_outflow": only_outflow,
        "only_inflow": only_inflow,
        "residence_rate": percent(matched, matched + only_outflow),
        "origin_rate": percent(matched, matched + only_inflow),
        "certificate_same": certificate_same,
        "certificate_different": certificate_different,
        "certificate_only_outflow": certificate_only_outflow,
        "certificate_only_inflow": certificate_only_inflow,
        "certificate_agreement_rate": percent(certificate_same, certificates),
        "verified_both": verified_both,
        "verified_only_outflow": verified_only_outflow,
        "verified_only_inflow": verified_only_inflow,
        "verification_agreement_rate": percent(
            verified_both, verified_both + verified_only_outflow + verified_only_inflow
        ),
    }


def total(entries: Iterable[dict]) -> dict:
    """The 合计 row: counts added up, rates computed from the sums (never averaged)."""
    sums = dict.fromkeys(COUNTS, 0)
    for item in entries:
        for key in COUNTS:
            sums[key] += item[key]
    return entry(None, None, sums)


def in_region(code: str, region: str | None) -> bool:
    return region is None or (bool(code) and code.startswith(region))


def build_report(
    outflow: Sequence, inflow: Sequence, result: MatchResult, *, region: str | None = None
) -> dict:
    """The report as pages, the API and the xlsx show it, for a reader whose region is
    ``region`` (None: everything, the command line's operator who holds both files).

    A pair of counties is listed when either county lies in the region: the residence sees
    how the origins' data judge it and the origin how the residences' data judge it. Pairs
    wholly outside are added up in ``outside`` (counts only, no rows). The unmatched rows and
    the matches listed are those of the listed pairs, ID numbers masked."""
    by_row_out = {r.row: r for r in outflow}
    by_row_in = {r.row: r for r in inflow}

    def listed(origin: str, destination: str) -> bool:
        return in_region(origin, region) or in_region(destination, region)

    pairs = [e for e in result.summary if listed(e["outflow_region"], e["inflow_region"])]
    others = [e for e in result.summary if not listed(e["outflow_region"], e["inflow_region"])]
    outside = {
        "pairs": len(others),
        **{key: sum(e[key] for e in others) for key in ("matched", "only_outflow", "only_inflow")},
    }

    def row(record: Any) -> dict:
        return {
            "row": record.row,
            "name": record.name,
            "id_number": mask(record.id_number) if record.id_number else "",
            "household_region": record.household_county,
            "residence_region": record.residence_county,
        }

    def unmatched(rows: Iterable[int], by_row: dict) -> list[dict]:
        records = (by_row[number] for number in rows)
        return [row(r) for r in records if listed(r.household_county, r.residence_county)]

    matches = [
        {"outflow_row": m.outflow_row, "inflow_row": m.inflow_row, "score": m.score}
        for m in result.matches
        if listed(
            by_row_out[m.outflow_row].household_county, by_row_in[m.inflow_row].residence_county
        )
    ]
    return {
        "region": region,
        "rows": {"outflow": len(outflow), "inflow": len(inflow)},
        "summary": pairs,
        "total": total(pairs),
        "outside": outside,
        "matches": matches,
        "outflow_unmatched": unmatched(result.outflow_unmatched, by_row_out),
        "inflow_unmatched": unmatched(result.inflow_unmatched, by_row_in),
    }


def _region_label(code: str | None, names: dict[str, str]) -> str:
    if code is None:
        return "合计"
    name = names.get(code)
    return f"{name}（{code}）" if name else (code or "（空）")


def _county_label(code: str | None, names: dict[str, str]) -> str:
    """A listed row's county: its name beside the code, blank for none."""
    return _region_label(code, names) if code else ""


def table_rows(report: dict, names: dict[str, str] | None = None) -> list[list[Any]]:
    """The listed pairs, then the total (合计); a rate without a denominator is None."""
    names = names or {}
    rows = []
    for item in [*report["summary"], report["total"]]:
        cells: list[Any] = [
            _region_label(item["outflow_region"], names),
            "" if item["inflow_region"] is None else _region_label(item["inflow_region"], names),
        ]
        cells += [item[key] for key in KEYS[2:]]
        rows.append(cells)
    return rows


def write_xlsx(
    report: dict,
    target: Any,
    *,
    outflow_name: str,
    inflow_name: str,
    threshold: float,
    names: dict[str, str] | None = None,
    generated_at: datetime.datetime | None = None,
) -> None:
    """The report in the offices' form: a title, the two files, the per-pair table with its
    合计 row, then one sheet each for the rows only one register holds and for the matches.
    Counties are named beside their codes (``names``: code -> name). Write-only, so a
    million-row match streams out without a cell object per row; laid out for print and
    filter by liudong.safesheet."""
    from liudong.safesheet import Workbook, font, lay_out, time_text

    names = names or {}
    workbook = Workbook(write_only=True)
    bold = font(bold=True)

    sheet = workbook.create_sheet("分地区比对")
    header = [HEADERS[key] for key in KEYS]
    lay_out(
        sheet,
        header,
        header_row=5,
        widths=[24, 24, *([11] * (len(header) - 2))],
        landscape=True,
        autofilter=False,  # a filter would leave the 合计 row summing rows it hides
    )
    title = WriteOnlyCell(sheet, value=TITLE)
    title.font = font(size=16, bold=True)
    sheet.append([title])
    sheet.append([f"流出登记册（户籍地）：{outflow_name}，{report['rows']['outflow']} 行"])
    sheet.append([f"流入登记册（居住地）：{inflow_name}，{report['rows']['inflow']} 行"])
    scope = f"本单位区划 {report['region']} 涉及的地区对" if report["region"] else "全部地区对"
    sheet.append([f"范围：{scope}；匹配阈值 {threshold}"])
    sheet.append(header)
    rate_columns = {index for index, key in enumerate(KEYS) if key in RATES}
    for values in table_rows(report, names):
        cells = []
        for index, value in enumerate(values):
            cell = WriteOnlyCell(sheet, value=value)
            if index in rate_columns:
                cell.number_format = "0.00"
            if values[0] == "合计":
                cell.font = bold
            cells.append(cell)
        sheet.append(cells)
    outside = report["outside"]
    sheet.append([])
    if outside["pairs"]:
        sheet.append(
            [
                f"范围外另有 {outside['pairs']} 个地区对（双方均有 {outside['matched']}，"
                f"仅户籍地有 {outside['only_outflow']}，"
                f"仅居住地有 {outside['only_inflow']}），不列明细。"
            ]
        )
    when = time_text(generated_at or datetime.datetime.now(datetime.UTC))
    sheet.append([f"生成时间：{when}　比率保留两位小数；分母为0时空白。身份号码已脱敏。"])

    person_headers = ["行号", "姓名", "公民身份号码", "户籍地（县）", "现居住地（县）"]
    for name, key in (("仅户籍地有", "outflow_unmatched"), ("仅居住地有", "inflow_unmatched")):
        listing = workbook.create_sheet(name)
        lay_out(listing, person_headers, widths=(8, 10, 22, 26, 26))
        listing.append(person_headers)
        for item in report[key]:
            listing.append(
                [
                    item["row"],
                    item["name"],
                    item["id_number"],
                    _county_label(item["household_region"], names),
                    _county_label(item["residence_region"], names),
                ]
            )
    pairs = workbook.create_sheet("匹配对")
    pair_headers = ["流出登记册行号", "流入登记册行号", "得分"]
    lay_out(pairs, pair_headers)
    pairs.append(pair_headers)
    for item in report["matches"]:
        pairs.append([item["outflow_row"], item["inflow_row"], item["score"]])
    workbook.save(target)


def county_codes(report: dict) -> set[str]:
    """Every county code the report names: its pairs' and its listed rows'."""
    codes = {
        item[key]
        for item in report["summary"]
        for key in ("outflow_region", "inflow_region")
        if item[key]
    }
    for key in ("outflow_unmatched", "inflow_unmatched"):
        for item in report[key]:
            codes.update(
                code for code in (item["household_region"], item["residence_region"]) if code
            )
    return codes


def render_table(report: dict, *, names: dict[str, str] | None = None) -> str:
    """The per-pair table for a terminal (rich), with the 合计 row."""
    import io

    from rich.console import Console
    from rich.table import Table

    table = Table(title=TITLE)
    for index, key in enumerate(KEYS):
        table.add_column(HEADERS[key], justify="left" if index < 2 else "right", no_wrap=True)
    rows = table_rows(report, names)
    for number, values in enumerate(rows):
        cells = [
            "—" if value is None else f"{value:.2f}" if KEYS[index] in RATES else str(value)
            for index, value in enumerate(values)
        ]
        table.add_row(*cells, style="bold" if number == len(rows) - 1 else None)
    buffer = io.StringIO()
    # As wide as the headers need (a CJK character takes two cells): a terminal that is
    # narrower scrolls, which beats headers broken into one character a line.
    width = sum(2 * len(HEADERS[key]) + 3 for key in KEYS) + 24
    Console(file=buffer, width=width).print(table)
    return buffer.getvalue()
