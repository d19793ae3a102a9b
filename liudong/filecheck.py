"""The one check an uploaded or imported csv/xlsx file passes before any parser reads it.

An xlsx file is a zip of XML parts: a 1 MB file can inflate to gigabytes, a part read
whole (the workbook, the shared strings) can be padded until the server runs out of
memory, and XML can declare entities that expand on parsing. A csv file can be a single
line of 50 MB. So, before openpyxl or the csv reader sees a byte, this module reads the
zip's directory (member count, sizes, compression ratio), then inflates every part once
as a stream, counting bytes as they come (the directory can lie), refusing a DTD or an
entity, a text longer than any cell may be, a row longer than any row may be and more
rows than a sheet may hold. A csv file gets its size, its longest line and its line count
checked the same way. Memory stays at one chunk whatever the file holds.

Limits are settings (``IMPORT_MAX_*`` in liudong/settings.py, from the environment variables
in README's table; README "Upload and import limits"). A refused file raises
:class:`FileRefused` (a TableError, so every importer's caller already shows it as the
file's problem, on the web page and as ``liudong: error: …``) whose message names the
limit. The exact checks of one cell's length and of a row's width are the reader's
(liudong.tabular), which sees cells; this module bounds what the reader can meet.

It must not parse XML itself (that is defusedxml's job, in openpyxl and tabular) and
knows nothing of any importer's columns.
"""

from __future__ import annotations

import dataclasses
import re
import zipfile
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _


class TableError(ValueError):
    """The file as a whole cannot be read (wrong type, no header, missing column).
    Here, below ``liudong.tabular`` (which re-exports it), because the check below raises
    it before any parser runs."""


class FileRefused(TableError):
    """The file passes a size limit: refused before it is parsed."""


MIB = 1 << 20
CHUNK = 1 << 20
# A cell's text in the XML: UTF-8 takes up to 4 bytes a character and an entity such as
# &quot; 6; a run between two "<" longer than this cannot be a cell of the allowed length.
XML_BYTES_PER_CHARACTER = 6
XML_RUN_SLACK = 4096  # the tag's own attributes share the run with the text that follows
# Below this many inflated bytes a part's compression ratio says nothing (a short part of
# repeated markup compresses well and harms nobody).
RATIO_FLOOR = MIB
# Parts openpyxl reads as a stream; every other part is read whole and gets PART limits.
_STREAMED = re.compile(r"^xl/(worksheets/sheet[^/]*\.xml|sharedStrings\.xml)$", re.IGNORECASE)
_WORKSHEET = re.compile(r"^xl/worksheets/sheet[^/]*\.xml$", re.IGNORECASE)
_SHEET_DATA = re.compile(rb"<([A-Za-z_][\w.-]{0,20}:)?sheetData[\s>]")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)")  # XML names are case-sensitive


@dataclasses.dataclass(frozen=True)
class Limits:
    file_bytes: int
    rows: int
    columns: int
    cell_chars: int
    line_bytes: int
    inflated_bytes: int
    part_bytes: int
    ratio: int
    members: int

    @classmethod
    def current(cls, *, streamed: bool = False) -> Limits:
        """The configured limits; ``streamed``: the importer streams rows (persons, match)
        and takes a register-sized file, else the file is read whole (a township form)."""
        return cls(
            file_bytes=settings.IMPORT_MAX_BYTES if streamed else settings.FORM_IMPORT_MAX_BYTES,
            rows=settings.IMPORT_MAX_ROWS,
            columns=settings.IMPORT_MAX_COLUMNS,
            cell_chars=settings.IMPORT_MAX_CELL_CHARS,
            line_bytes=settings.IMPORT_MAX_LINE_BYTES,
            inflated_bytes=settings.IMPORT_MAX_INFLATED_BYTES,
            part_bytes=settings.IMPORT_MAX_PART_BYTES,
            ratio=settings.IMPORT_MAX_RATIO,
            members=settings.IMPORT_MAX_ZIP_MEMBERS,
        )


def mib(size: int) -> str:
    return f"{size / MIB:,.0f}" if size >= MIB else f"{size / MIB:,.2f}"


def refuse(message: str) -> FileRefused:
    return FileRefused(message)


def check_file(path: Path, limits: Limits) -> None:
    """Refuse ``path`` (raise a FileRefused TableError) when it passes a limit."""
    size = path.stat().st_size
    if size > limits.file_bytes:
        raise refuse(
            _("The file is %(size)s MiB; files of at most %(limit)s MiB are accepted here.")
            % {"size": mib(size), "limit": mib(limits.file_bytes)}
        )
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        _check_xlsx(path, limits)
    elif suffix in (".csv", ".txt"):
        _check_csv(path, limits)


class _Runs:
    """The longest stretch of bytes without ``separator`` seen across a stream of chunks."""

    def __init__(self, separator: bytes, limit: int) -> None:
        self.separator, self.limit, self.current = separator, limit, 0
        sep = re.escape(separator)
        # Anchored on the separator, so each stretch is measured once: linear in the input.
        self.longer = re.compile(sep + b"[^" + sep + b"]{%d}" % (limit + 1))

    def exceeded(self, chunk: bytes) -> bool:
        first = chunk.find(self.separator)
        if first < 0:
            self.current += len(chunk)
            return self.current > self.limit
        if self.current + first > self.limit or self.longer.search(chunk, first):
            return True
        self.current = len(chunk) - chunk.rfind(self.separator) - 1
        return False


def _check_csv(path: Path, limits: Limits) -> None:
    lines = 0
    runs = _Runs(b"\n", limits.line_bytes)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if runs.exceeded(chunk):
                raise refuse(
                    _(
                        "Line %(line)s of the file is longer than %(limit)s KiB; a line of "
                        "the import holds one row of at most %(columns)s cells."
                    )
                    % {
                        "line": f"{_line_at(path, limits.line_bytes):,}",
                        "limit": f"{limits.line_bytes // 1024:,}",
                        "columns": f"{limits.columns:,}",
                    }
                )
            lines += chunk.count(b"\n")
            # A quoted cell may hold line breaks, so lines only bound rows from above:
            # allow one line break a cell in a tenth of the rows before calling it too many.
            most_lines = limits.rows + limits.rows // 10 + 1
            if lines > most_lines:
                raise refuse(
                    _("The file has more than %(lines)s lines; an import takes %(rows)s rows.")
                    % {"lines": f"{most_lines:,}", "rows": f"{limits.rows:,}"}
                )


def _line_at(path: Path, limit: int) -> int:
    """The number of the first line longer than ``limit`` bytes (read again, only when
    refusing, so the common path counts nothing it does not need)."""
    number, length = 1, 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            start = 0
            while True:
                end = chunk.find(b"\n", start)
                piece = (len(chunk) if end < 0 else end) - start
                length += piece
                if length > limit:
                    return number
                if end < 0:
                    break
                number, length, start = number + 1, 0, end + 1
    return number


def _check_xlsx(path: Path, limits: Limits) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise refuse(_("This is not a readable xlsx file (%(error)s).") % {"error": exc}) from exc
    with archive:
        members = archive.infolist()
        if len(members) > limits.members:
            raise refuse(
                _("The xlsx file holds %(count)s parts; at most %(limit)s are accepted.")
                % {"count": f"{len(members):,}", "limit": f"{limits.members:,}"}
            )
        declared = 0
        for member in members:
            _check_declared(member, limits)
            declared += member.file_size
        if declared > limits.inflated_bytes:
            raise refuse(_inflates(_("The file"), declared, limits.inflated_bytes))
        total = 0
        for member in members:
            if not member.is_dir():
                total = _inflate(archive, member, limits, total)


def _part_limit(member: zipfile.ZipInfo, limits: Limits) -> int:
    return limits.inflated_bytes if _STREAMED.match(member.filename) else limits.part_bytes


def _name(member: zipfile.ZipInfo) -> str:
    if _WORKSHEET.match(member.filename):
        return _("The sheet (%(part)s)") % {"part": member.filename}
    return _("The part %(part)s") % {"part": member.filename}


def _inflates(what: str, size: int, limit: int) -> str:
    return _("%(what)s inflates to more than %(limit)s MiB (%(size)s MiB).") % {
        "what": what,
        "limit": mib(limit),
        "size": mib(size),
    }


def _ratio(member: zipfile.ZipInfo, inflated: int, limits: Limits) -> str:
    return _(
        "%(what)s inflates %(ratio)s times its compressed size; at most %(limit)s times is "
        "accepted (a zip bomb, not a spreadsheet)."
    ) % {
        "what": _name(member),
        "ratio": f"{inflated // max(member.compress_size, 1):,}",
        "limit": f"{limits.ratio:,}",
    }


def _check_declared(member: zipfile.ZipInfo, limits: Limits) -> None:
    """What the zip's directory says of a part (checked again while inflating)."""
    limit = _part_limit(member, limits)
    if member.file_size > limit:
        raise refuse(_inflates(_name(member), member.file_size, limit))
    if member.file_size > RATIO_FLOOR and member.file_size > limits.ratio * max(
        member.compress_size, 1
    ):
        raise refuse(_ratio(member, member.file_size, limits))


def _inflate(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: Limits, total: int) -> int:
    """Inflate one part as a stream, refusing as soon as it passes a limit; the running
    total of inflated bytes of the whole file is returned."""
    limit = _part_limit(member, limits)
    xml = member.filename.lower().endswith((".xml", ".rels", ".vml"))
    text = _Runs(b"<", limits.cell_chars * XML_BYTES_PER_CHARACTER + XML_RUN_SLACK)
    rows = _RowMeter(member, limits) if _WORKSHEET.match(member.filename) else None
    tail = b""
    inflated = 0
    try:
        with archive.open(member) as source:
            while chunk := source.read(CHUNK):
                inflated += len(chunk)
                total += len(chunk)
                if inflated > limit:
                    raise refuse(_inflates(_name(member), inflated, limit))
                if total > limits.inflated_bytes:
                    raise refuse(_inflates(_("The file"), total, limits.inflated_bytes))
                if inflated > RATIO_FLOOR and inflated > limits.ratio * max(
                    member.compress_size, 1
                ):
                    raise refuse(_ratio(member, inflated, limits))
                if not xml:
                    continue
                window = tail + chunk
                if _DTD.search(window):
                    raise refuse(
                        _(
                            "%(what)s declares a DTD or XML entities; spreadsheets have "
                            "none, and a file that does is refused."
                        )
                        % {"what": _name(member)}
                    )
                tail = chunk[-16:]
                if text.exceeded(chunk):
                    raise refuse(
                        _(
                            "%(what)s holds a text longer than any cell may be (at most "
                            "%(limit)s characters)."
                        )
                        % {"what": _name(member), "limit": f"{limits.cell_chars:,}"}
                    )
                if rows is not None:
                    rows.feed(chunk)
    except zipfile.BadZipFile as exc:
        raise refuse(_("This is not a readable xlsx file (%(error)s).") % {"error": exc}) from exc
    except FileRefused:
        raise
    except (OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise refuse(_("This is not a readable xlsx file (%(error)s).") % {"error": exc}) from exc
    return total


class _RowMeter:
    """Counts the rows of a worksheet part as its bytes stream past, refusing more rows
    than an import takes or a row longer than a line may be. Only <sheetData> holds rows
    (its children are rows only, so splitting on "<row" finds them at C speed); what
    follows it (merged ranges, settings) is not a row's."""

    def __init__(self, member: zipfile.ZipInfo, limits: Limits) -> None:
        self.member, self.limits = member, limits
        self.rows = 0
        self.since_row = 0  # bytes since the last <row> tag began
        self.tag = b""  # b"<row" (or with the sheet's namespace prefix), once known
        self.end_tag = b""
        self.carry = b""  # bytes not yet counted: a tag may be cut by the chunk boundary
        self.done = False

    def feed(self, chunk: bytes) -> None:
        if self.done:
            return
        data = self.carry + chunk
        if not self.tag:
            opening = _SHEET_DATA.search(data)
            if opening is None:
                self.carry = data[-64:]
                return
            prefix = opening.group(1) or b""
            self.tag, self.end_tag = b"<" + prefix + b"row", b"</" + prefix + b"sheetData>"
            data = data[opening.end() :]
        end = data.find(self.end_tag)
        if end >= 0:
            body, self.carry, self.done = data[:end], b"", True
        else:
            keep = len(self.end_tag) - 1
            body, self.carry = data[:-keep], data[-keep:]
        parts = body.split(self.tag)
        limit = self.limits.line_bytes
        self.since_row += len(parts[0])  # the row under way goes on
        if len(parts) > 1:
            if self.rows and self.since_row > limit:
                raise _row_too_long(self.member, self.rows, self.limits)
            before = self.rows
            self.rows += len(parts) - 1
            if self.rows > self.limits.rows + 1:  # the header row is not a data row
                raise refuse(
                    _("%(what)s has more than %(limit)s rows; an import takes at most that many.")
                    % {"what": _name(self.member), "limit": f"{self.limits.rows:,}"}
                )
            whole = parts[1:-1]  # rows begun and ended in this chunk
            if whole and max(map(len, whole)) > limit:
                row = before + 1 + next(i for i, part in enumerate(whole) if len(part) > limit)
                raise _row_too_long(self.member, row, self.limits)
            self.since_row = len(parts[-1])
        if self.rows and self.since_row > limit:
            raise _row_too_long(self.member, self.rows, self.limits)


def _row_too_long(member: zipfile.ZipInfo, row: int, limits: Limits) -> Exception:
    return refuse(
        _(
            "%(what)s: row %(row)s takes more than %(limit)s KiB; a row holds at most "
            "%(columns)s cells."
        )
        % {
            "what": _name(member),
            "row": f"{row:,}",
            "limit": f"{limits.line_bytes // 1024:,}",
            "columns": f"{limits.columns:,}",
        }
    )
