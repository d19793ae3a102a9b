"""Reading spreadsheets (liudong.tabular): what is written comes back with the row numbers a
spreadsheet shows; merged cells, which openpyxl's read-only mode does not report, are found
in the sheet's XML; a csv cell beyond the csv module's limit is a message, not a crash."""

from __future__ import annotations

import csv
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from liudong import tabular
from liudong.safesheet import write_table
from liudong.tabular import MergedRow, TableError, read_table

# --- round trip ----------------------------------------------------------------------------

# Commas, quotes, line breaks, blanks, Chinese and full-width text: what breaks csv quoting
# and xlsx escaping. No "\r": an xlsx cell, like Excel's, keeps line breaks as "\n" only.
CELL_TEXT = st.text(
    alphabet=st.sampled_from(list(" ,;\"'\n\tab0X9-<>&=流动人口王芳，“”　１")),
    max_size=12,
).filter(lambda text: not text.startswith("="))  # a leading "=" makes an xlsx formula
TABLES = st.integers(min_value=1, max_value=4).flatmap(
    lambda width: st.lists(
        st.lists(st.one_of(st.just(""), CELL_TEXT), min_size=width, max_size=width),
        max_size=8,
    ).map(lambda rows: (width, rows))
)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=TABLES)
def test_what_write_table_writes_read_table_reads_back_on_its_rows(suffix, table):
    width, rows = table
    header = ["姓名", "name2", "备注", "列4"][:width]
    columns = {f"f{n}": (title,) for n, title in enumerate(header)}
    expected = []
    for row_number, row in enumerate(rows, start=2):
        values = {f"f{n}": (cell.strip() or None) for n, cell in enumerate(row)}
        if any(value is not None for value in values.values()):
            expected.append((row_number, values))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"table{suffix}"
        write_table(path, header, rows)
        assert list(read_table(path, columns)) == expected


# --- merged cells ----------------------------------------------------------------------------


def sheet_with_merges(path: Path, merges: list[str], *, rows: int = 6, title="数据") -> Path:
    """A sheet of six columns A–F, header in row 1, merged as given (values kept in the
    top-left cells, as Excel keeps them)."""
    workbook = Workbook()
    workbook.active.title = "说明"
    sheet = workbook.create_sheet(title)
    sheet.append(["a", "b", "c", "d", "e", "f"])
    for number in range(2, rows + 2):
        sheet.append([f"{column}{number}" for column in "ABCDEF"])
    for ref in merges:
        sheet.merge_cells(ref)
    workbook.save(path)
    return path


def raw(path: Path, sheet: str | None = "数据") -> list[list]:
    return list(tabular._raw_rows(path, sheet)[2])


def test_rows_under_a_merged_cell_are_marked_with_the_range(tmp_path):
    path = sheet_with_merges(tmp_path / "m.xlsx", ["F2:F5", "B7:C7"])
    rows = raw(path)
    assert rows[1] == ["A2", "B2", "C2", "D2", "E2", "F2"]  # the top-left cell holds the value
    assert type(rows[1]) is list
    for number in (3, 4, 5):
        assert isinstance(rows[number - 1], MergedRow)
        assert rows[number - 1].merged == {5: "F2:F5"}
        assert rows[number - 1][5] is None  # the file holds nothing there
    assert type(rows[5]) is list  # row 6: below the range
    assert rows[6].merged == {2: "B7:C7"}  # across: the cells right of the first


def test_merges_are_read_from_the_sheet_being_read(tmp_path):
    path = sheet_with_merges(tmp_path / "m.xlsx", ["F2:F5"])
    assert not any(isinstance(row, MergedRow) for row in raw(path, "说明"))
    assert any(isinstance(row, MergedRow) for row in raw(path, "数据"))


def test_a_merge_in_the_header_row_refuses_the_file_naming_it(tmp_path):
    path = sheet_with_merges(tmp_path / "h.xlsx", ["B1:C1"])
    with pytest.raises(TableError) as error:
        read_table(path, {"a": ("a",)}, sheet="数据")
    assert "row 1" in str(error.value) and "B1:C1" in str(error.value)
    assert "one header per column" in str(error.value)


def test_carry_merged_keeps_only_the_columns_that_are_read():
    row = MergedRow(["x", None, None, "y"], {1: "B2:B5", 2: "C2:C5"})
    cells = ["y", None]  # read: column D as the first field, column B as the second
    carried = tabular.carry_merged(row, cells, [3, 1])
    assert isinstance(carried, MergedRow) and carried.merged == {1: "B2:B5"}
    assert carried == cells
    assert tabular.carry_merged(row, ["x"], [0]) == ["x"]  # only unread columns merged
    assert type(tabular.carry_merged(row, ["x"], [0])) is list
    assert tabular.carry_merged(["x"], ["x"], [0, None]) == ["x"]


def test_the_sheet_part_is_found_through_the_relationships(tmp_path):
    """Excel names parts relative to the workbook, openpyxl absolute, others by other
    names: the sheet's part must come from the workbook's relationships, not a guess."""
    path = sheet_with_merges(tmp_path / "m.xlsx", ["F2:F5"])
    moved = tmp_path / "moved.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(moved, "w") as out:
        for item in source.infolist():
            name, data = item.filename, source.read(item.filename)
            if name == "xl/worksheets/sheet2.xml":
                name = "xl/data.xml"
            elif name == "xl/_rels/workbook.xml.rels":
                assert b'Target="/xl/worksheets/sheet2.xml"' in data  # the layout rewritten
                data = data.replace(b'Target="/xl/worksheets/sheet2.xml"', b'Target="data.xml"')
            elif name == "[Content_Types].xml":
                data = data.replace(b"/xl/worksheets/sheet2.xml", b"/xl/data.xml")
            out.writestr(name, data)
    rows = raw(moved)
    assert rows[2] == ["A3", "B3", "C3", "D3", "E3", None]  # row 3
    assert rows[2].merged == {5: "F2:F5"}


def test_the_scan_finds_prefixed_tags_across_chunk_boundaries_and_not_text(tmp_path):
    rows = (
        b'<x:worksheet xmlns:x="main"><x:sheetData><x:row><x:c t="inlineStr"><x:is>'
        b'<x:t>&lt;mergeCell ref="A1:A9"/&gt;</x:t></x:is></x:c></x:row>'
    )
    opening = b'</x:sheetData><x:mergeCells count="2">'
    padding = b" " * ((1 << 20) - len(rows) - len(opening) - 10)  # the tag straddles a chunk
    tags = b"<x:mergeCell ref=\"B2:B3\"/><x:mergeCell ref='C4:D4'/></x:mergeCells></x:worksheet>"
    part = rows + padding + opening + tags
    assert part.index(b"B2:B3") > 1 << 20 > part.index(b"<x:mergeCell ref")
    path = tmp_path / "part.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("sheet.xml", part)
    with zipfile.ZipFile(path) as archive:
        assert tabular._scan_merge_refs(archive, "sheet.xml") == {"B2:B3", "C4:D4"}


# --- csv cells beyond the csv module's limit ----------------------------------------------


def test_a_runaway_quote_in_a_csv_names_its_row_instead_of_crashing(tmp_path):
    path = tmp_path / "quote.csv"
    lines = ["姓名,备注", "王芳,好", '"李强,没有关上的引号']
    lines += [f"张{n},{'长' * 60}" for n in range(3000)]  # swallowed into row 3's cell
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = read_table(path, {"name": ("姓名",)})
    assert next(rows) == (2, {"name": "王芳"})
    with pytest.raises(TableError) as error:
        next(rows)
    message = str(error.value)
    assert message.startswith("row 3: a cell holds more than 131,072 characters")
    assert "double quote" in message


def test_a_csv_row_is_counted_as_one_however_many_lines_its_cells_span(tmp_path):
    path = tmp_path / "lines.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows([["姓名"], ["第一行\n第二行\n第三行"], ["x" * 140_000], ["末"]])
    rows = read_table(path, {"name": ("姓名",)})
    assert next(rows) == (2, {"name": "第一行\n第二行\n第三行"})
    with pytest.raises(TableError, match=r"^row 3: a cell holds more than"):
        next(rows)


@pytest.mark.parametrize("shift", range(6))
def test_a_utf8_csv_with_a_bom_is_utf8_wherever_the_probe_cuts_a_character(tmp_path, shift):
    """The encoding probe reads the first MiB; a Chinese character cut at its end is not
    evidence of GB18030, whether or not the file starts with a BOM (Excel's 'CSV UTF-8')."""
    head = b"\xef\xbb\xbfname\n" + b"a" * 99 + b"\n"
    lines = ((1 << 20) - len(head)) // 100 - 1
    text = head + (b"a" * 99 + b"\n") * lines
    pad = (1 << 20) - len(text) - shift  # the Chinese cell starts `shift` bytes before 1 MiB
    text += b"b" * pad + "张三李四王五".encode() + b"\n"
    path = tmp_path / "bom.csv"
    path.write_bytes(text)
    rows = list(tabular._csv_rows(path))
    assert rows[-1][0].endswith("张三李四王五")
