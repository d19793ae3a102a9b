"""Column-wise checks for the rows most registers write plainly.

``rows.RowChecker`` is the rule book: it checks one row, names every problem, and accepts
the many ways offices write a value (2025/3/5, 330106000000, 15-digit ID numbers, +86 phone
numbers, Excel numbers for codes). Called for each row of a million-row file it is most of
an import's time. This module checks a whole batch at once with polars and vouches only for
rows written in the plain form: ISO dates, 18-character ID numbers whose check character is
right, codes the database holds, 11-digit mobile numbers, words from the template's tables.
For those it gives exactly the values RowChecker gives; every other row (anything unusual,
wrong, or merely written another way) is left to RowChecker, which accepts it or names its
problems. So the rules and their messages have one home, and ``tests/test_columnar.py``
holds the two to the same answers.
"""

from __future__ import annotations

import dataclasses
import datetime
import unicodedata
from collections.abc import Iterable, Sequence

import polars as pl

from . import idnumbers
from .rows import (
    ADDRESS_MAX,
    CHILDREN_MAX,
    ETHNICITY_BY_WORD,
    HOUSEHOLD_LENGTHS,
    MARITAL_BY_WORD,
    NAME_MAX,
    REASON_BY_WORD,
    RESIDENCE_LENGTHS,
    CleanRow,
)
from .template import FIELDS, SEX_WORDS

CERTIFICATE_ISSUER_LENGTHS = (6, 9)
CERTIFICATE_NO_MAX = 40

# The date forms RowChecker reads (rows.parse_date), in ASCII digits only.
_DATE_SEPARATED = r"^([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?$"
_DATE_COMPACT = r"^([0-9]{4})([0-9]{2})([0-9]{2})$"
_DATE_ISO = r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$"
_ID_18 = r"^[0-9]{17}[0-9Xx]$"
_MOBILE = r"^1[3-9][0-9]{9}$"
_DIGITS = r"^[0-9]+$"
_CHECK = dict(enumerate(idnumbers.CHECK_CHARACTERS))

# CleanRow's fields in its own order, as the last select below produces them.
_CLEAN_ORDER = tuple(f.name for f in dataclasses.fields(CleanRow) if f.name != "warnings")


class _NotPlain(Exception):
    """A cell only RowChecker should judge."""


def _cell_text(value: object) -> str | None:
    """A cell as RowChecker's ``text`` would see it, when that is plain; raises _NotPlain
    for a cell of another kind (a time, a bool, a fractional number, a lossy float)."""
    if value is None or type(value) is str:
        return value
    if isinstance(value, bool):
        raise _NotPlain
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Below 10**15 an ID number survives as a float; above it has lost digits.
        if value.is_integer() and abs(value) < 10**15:
            return str(int(value))
        raise _NotPlain
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()[:10]
    raise _NotPlain


class BatchChecker:
    """Vouches for the plain rows of a batch; see the module docstring."""

    def __init__(
        self, known_codes: Iterable[str], *, today: datetime.date, within: str = ""
    ) -> None:
        self.known = pl.Series("known", sorted(known_codes), dtype=pl.String)
        self.today = today
        self.within = within

    def check(
        self, batch: Sequence[tuple[int, list]], *, text_only: bool = False
    ) -> list[CleanRow | None]:
        """For each (row_number, cells) in FIELDS order: its clean row, or None when
        RowChecker must decide. ``text_only``: every cell is a str or None (a csv file)."""
        if not batch:
            return []
        columns = [list(column) for column in zip(*(cells for _, cells in batch), strict=True)]
        plain = [True] * len(batch)
        for column in columns:
            self._tidy(column, plain, text_only)
        frame = pl.DataFrame(
            {"row": [number for number, _ in batch]}
            | {field: column for field, column in zip(FIELDS, columns, strict=True)},
            schema={"row": pl.Int64} | {field: pl.String for field in FIELDS},
        ).with_columns(plain=pl.Series(plain, dtype=pl.Boolean))
        clean = self._clean(frame)
        result: list[CleanRow | None] = [None] * len(batch)
        for position, *values in clean.iter_rows():
            result[position] = CleanRow(*values)
        return result

    @staticmethod
    def _tidy(column: list, plain: list[bool], text_only: bool) -> None:
        """Cells become text as RowChecker would read them; rows with cells it alone should
        read (a formula, a value NFKC would change, a cell of another kind) are marked."""
        if not text_only and not all(value is None or type(value) is str for value in column):
            for index, value in enumerate(column):
                try:
                    column[index] = _cell_text(value)
                except _NotPlain:
                    plain[index] = False
                    column[index] = None
        # One C call for the whole column: a separator that composes with nothing keeps
        # each cell's normal form independent of its neighbours.
        if not unicodedata.is_normalized("NFKC", "\x1f".join(filter(None, column))):
            for index, value in enumerate(column):
                if value and not unicodedata.is_normalized("NFKC", value):
                    plain[index] = False

    def _clean(self, frame: pl.DataFrame) -> pl.DataFrame:
        col = pl.col
        today = pl.lit(self.today)

        def iso_date(name: str) -> pl.Expr:
            iso = (
                col(name)
                .str.replace(_DATE_SEPARATED, "${1}-${2}-${3}")
                .str.replace(_DATE_COMPACT, "${1}-${2}-${3}")
            )
            return (
                pl.when(iso.str.contains(_DATE_ISO))
                .then(iso.str.to_date("%Y-%m-%d", strict=False))
                .alias(f"{name}_d")
            )

        def known_code(name: str, lengths: tuple[int, ...]) -> pl.Expr:
            return (
                col(name).str.contains(_DIGITS)
                & col(name).str.len_bytes().is_in(list(lengths))
                & col(name).is_in(self.known.implode())
            )

        def short(name: str, most: int) -> pl.Expr:
            return col(name).is_null() | (col(name).str.len_chars() <= most)

        def check_character(name: str) -> pl.Expr:
            digits = [col(name).str.slice(i, 1).cast(pl.Int32, strict=False) for i in range(17)]
            total = pl.sum_horizontal(
                [d * w for d, w in zip(digits, idnumbers.WEIGHTS, strict=True)]
            )
            return (total % 11).replace_strict(_CHECK, return_dtype=pl.String)

        def id_parts(name: str, prefix: str) -> list[pl.Expr]:
            upper = col(name).str.to_uppercase()
            return [
                col(name).str.contains(_ID_18).alias(f"{prefix}_shape"),
                upper.alias(f"{prefix}_value"),
                (upper.str.slice(17, 1) == check_character(name)).alias(f"{prefix}_check"),
                upper.str.slice(6, 8).str.to_date("%Y%m%d", strict=False).alias(f"{prefix}_born"),
            ]

        def id_ok(prefix: str) -> pl.Expr:
            born = col(f"{prefix}_born")
            return (
                col(f"{prefix}_shape")
                & col(f"{prefix}_check")
                & born.is_not_null()
                & (born >= pl.lit(idnumbers.EARLIEST_BIRTH_DATE))
                & (born <= today)
            )

        def day_ok(name: str, *, required: bool = False) -> pl.Expr:
            day = col(f"{name}_d")
            fine = day.is_not_null() & (day <= today) & (day >= col("id_born"))
            return fine if required else (col(name).is_null() | fine)

        steps = (
            frame.lazy()
            .with_row_index("position")
            .with_columns(
                *id_parts("id_number", "id"),
                *id_parts("spouse_id_number", "spouse"),
                iso_date("birth_date"),
                iso_date("arrival_date"),
                iso_date("certificate_issued"),
                iso_date("verified_on"),
                col("sex")
                .str.to_lowercase()
                .replace_strict(SEX_WORDS, default=None)
                .alias("sex_c"),
                col("ethnicity").replace_strict(ETHNICITY_BY_WORD, default=None).alias("eth_c"),
                col("marital_status").replace_strict(MARITAL_BY_WORD, default=None).alias("mar_c"),
                col("reason").replace_strict(REASON_BY_WORD, default=None).alias("reason_c"),
                pl.when(col("children").str.contains(r"^[0-9]{1,2}$"))
                .then(col("children").cast(pl.Int64, strict=False))
                .alias("children_n"),
            )
        )
        id_sex = pl.when(
            col("id_value").str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1
        ).then(pl.lit("1"))
        plain = (
            col("plain")
            & ~pl.any_horizontal([col(f).str.starts_with("=").fill_null(False) for f in FIELDS])
            & col("name").is_not_null()
            & short("name", NAME_MAX)
            & id_ok("id")
            # A number naming no province gets a warning: RowChecker writes it.
            & col("id_value").str.slice(0, 2).is_in(sorted(idnumbers.PROVINCE_CODES))
            & (col("sex_c") == id_sex.otherwise(pl.lit("2")))
            & (col("birth_date").is_null() | (col("birth_date_d") == col("id_born")))
            & (col("ethnicity").is_null() | col("eth_c").is_not_null())
            & col("mar_c").is_not_null()
            & known_code("household_region", HOUSEHOLD_LENGTHS)
            & short("household_address", ADDRESS_MAX)
            & known_code("residence_region", RESIDENCE_LENGTHS)
            & short("residence_address", ADDRESS_MAX)
            & day_ok("arrival_date", required=True)
            & (col("reason").is_null() | col("reason_c").is_not_null())
            & (col("phone").is_null() | col("phone").str.contains(_MOBILE))
            & short("employer", ADDRESS_MAX)
            & (
                col("spouse_id_number").is_null()
                | (id_ok("spouse") & (col("spouse_value") != col("id_value")))
            )
            & (col("children").is_null() | (col("children_n") <= CHILDREN_MAX))
            & short("certificate_no", CERTIFICATE_NO_MAX)
            & (
                col("certificate_issuer").is_null()
                | known_code("certificate_issuer", CERTIFICATE_ISSUER_LENGTHS)
            )
            & day_ok("certificate_issued")
            & day_ok("verified_on")
            & (col("verified_on").is_null() | (col("verified_on_d") >= col("arrival_date_d")))
            & (
                col("certificate_no").is_not_null()
                | (col("certificate_issuer").is_null() & col("certificate_issued").is_null())
            )
        )
        if self.within:
            plain = plain & (
                col("household_region").str.starts_with(self.within)
                | col("residence_region").str.starts_with(self.within)
            )
        blank = pl.lit("")
        values = {
            "row": col("row"),
            "name": col("name"),
            "sex": col("sex_c"),
            "id_number": col("id_value"),
            "id_check_ok": pl.lit(True),
            "birth_date": col("id_born"),
            "ethnicity": col("eth_c").fill_null(blank),
            "marital_status": col("mar_c"),
            "household_region": col("household_region"),
            "household_address": col("household_address").fill_null(blank),
            "residence_region": col("residence_region"),
            "residence_address": col("residence_address").fill_null(blank),
            "arrival_date": col("arrival_date_d"),
            "reason": col("reason_c").fill_null(blank),
            "phone": col("phone").fill_null(blank),
            "employer": col("employer").fill_null(blank),
            "spouse_id_number": col("spouse_value").fill_null(blank),
            "children": col("children_n"),
            "certificate_no": col("certificate_no").fill_null(blank),
            "certificate_issuer": col("certificate_issuer").fill_null(blank),
            "certificate_issued": col("certificate_issued_d"),
            "verified_on": col("verified_on_d"),
        }
        return (
            steps.filter(plain.fill_null(False))
            .select(col("position"), *(values[name].alias(name) for name in _CLEAN_ORDER))
            .collect()
        )
