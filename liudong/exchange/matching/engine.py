"""Matching two registries' person files for two-way assessment (双向考核, issue 7 part 6):
which row of the outflow register (the place of household registration) is the same person as
which row of the inflow register (the place of residence), with a score per pair.

Stages, each only on the rows the stages before it left unmatched:
1. the same ID number (score 1), or the same first 17 digits: a legacy 15-digit form, converted,
   or another check character (score 0.99);
2. ID numbers one transposition apart (idnumbers.one_transposition_away) whose names agree in
   simplified characters or in pinyin;
3. a Fellegi-Sunter model (splink on DuckDB) over name (traditional characters folded to
   simplified, then pinyin for homophones), birth date, sex, ID number and household county.
Each stage assigns one to one, greedily by score: a row is matched at most once.

Pure functions over files and rows: this module must not touch the database or Django models,
so the benchmark and a worker process can use it bare.
"""

from __future__ import annotations

import datetime
import logging
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from liudong.people import idnumbers, template
from liudong.tabular import TableError, read_table_lists

T = TypeVar("T")

DEFAULT_THRESHOLD = 0.9
# What matching reads; the other template columns may be there or not.
COLUMNS = (
    "name",
    "sex",
    "id_number",
    "birth_date",
    "household_region",
    "residence_region",
    # Not matched on: compared on matched pairs for the report (see summarise).
    "certificate_no",
    "verified_on",
)
REQUIRED = ("name", "sex", "id_number", "household_region", "residence_region")
_CHINESE = {c.field: c.chinese for c in template.COLUMNS}

SCORE_SAME_ID = 1.0
SCORE_SAME_ID_OTHER_FORM = 0.99  # legacy 15-digit form or another check character
SCORE_TRANSPOSED_SAME_NAME = 0.97
SCORE_TRANSPOSED_HOMOPHONE = 0.95

# Below this many rows on the smaller side, u probabilities keep their priors below: a few
# dozen rows say nothing about how often strangers share a birthday.
_ESTIMATE_U_FROM = 2_000
_U_FLOOR = 1e-7
# A small file is usually an extract of a register; the prior odds that two random rows are
# one person are those of a register of at least this many people, else a handful of rows
# would make any shared name a match.
_PRIOR_REGISTER_SIZE = 10_000

_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Spaces and the middle dots of minority and transliterated names (阿依古丽·买买提).
_NAME_NOISE = re.compile(r"[\s·•‧・.\-]")


class MatchInputError(ValueError):
    """A file that cannot be matched: the message names the file and what is wrong."""

    def __init__(
        self, path: str | Path, message: str, *, field: str | None = None, code: str = "invalid"
    ) -> None:
        super().__init__(f"{Path(path).name}: {message}")
        self.field = field
        self.code = code


@dataclass(frozen=True, slots=True)
class Record:
    row: int  # as the spreadsheet shows it (header = row 1)
    name: str  # simplified characters, spaces and dots removed
    pinyin: str  # toneless, one syllable after another: homophones agree
    sex: str  # "1", "2" or ""
    id_number: str  # 18 characters when it parses (a 15-digit one converted), else as written
    id17: str  # its first 17 digits when it parses, else ""
    legacy: bool  # written in the 15-digit form
    birth_date: str  # ISO date, or ""
    household_county: str
    residence_county: str
    certificate_no: str = ""  # 婚育证明编号 as written (trimmed), or ""
    verified_on: str = ""  # ISO date of the residence's verification (查验), or ""


@dataclass(frozen=True, slots=True)
class Match:
    outflow_row: int
    inflow_row: int
    score: float
    method: str  # "id", "id_form", "transposition", "probabilistic"


@dataclass
class MatchResult:
    matches: list[Match]
    outflow_unmatched: list[int]
    inflow_unmatched: list[int]
    summary: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The JSON of DESIGN.md §5, plus the per-region-pair summary."""
        return {
            "matches": [
                {"outflow_row": m.outflow_row, "inflow_row": m.inflow_row, "score": m.score}
                for m in self.matches
            ],
            "outflow_unmatched": self.outflow_unmatched,
            "inflow_unmatched": self.inflow_unmatched,
            "summary": self.summary,
        }


# -- reading ---------------------------------------------------------------------------------


def read_register(
    path: str | Path, *, today: datetime.date | None = None, name: str | None = None
) -> list[Record]:
    """The rows of a person file in the template (csv/xlsx, Chinese or English headers).
    ``name``: the file's name in messages when ``path`` is not it (an upload stored under a
    random token)."""
    columns = {name: (_CHINESE[name],) for name in COLUMNS}
    try:
        rows = read_table_lists(path, columns, REQUIRED, streamed=True)
        records = [_record(row, cells, today) for row, cells in rows]
    except TableError as exc:
        missing = next((f for f in REQUIRED if f"({f})" in str(exc)), None)
        code = "missing_column" if missing else "unreadable"
        if "file is empty" in str(exc):
            code = "empty_file"
        raise MatchInputError(name or path, str(exc), field=missing, code=code) from exc
    return records


def _record(row: int, cells: list, today: datetime.date | None) -> Record:
    name, sex, id_raw, birth_raw, household, residence, certificate, verified = cells
    simplified = simplify(_text(name))
    id_number, id17, id_birth, id_sex, legacy = _id_facts(id_raw, today)
    return Record(
        row=row,
        name=simplified,
        pinyin=pinyin(simplified),
        sex=_sex(sex) or id_sex,
        id_number=id_number,
        id17=id17,
        legacy=legacy,
        # The register's own birth date column where it reads, else the one in the number.
        birth_date=_date(birth_raw) or id_birth,
        household_county=_county(household),
        residence_county=_county(residence),
        certificate_no=_text(certificate) if certificate is not None else "",
        # A verification date that does not read as a date still says one was recorded.
        verified_on=(_date(verified) or _text(verified)) if verified is not None else "",
    )


# A number as most registers hold it: read without idnumbers.parse's full checks (the check
# character does not matter here), which a million rows a side would feel.
_PLAIN_ID = re.compile(r"\d{17}[\dX]")


def _id_facts(raw: Any, today: datetime.date | None) -> tuple[str, str, str, str, bool]:
    """(number, its first 17 digits, birth date, sex, written in the 15-digit form)."""
    if type(raw) is str and len(raw) == 18 and _PLAIN_ID.fullmatch(raw):
        born = _id_birth_date(raw[6:14], today)
        if born:
            return raw, raw[:17], born, "1" if int(raw[16]) % 2 else "2", False
    try:
        number = idnumbers.parse(raw, today=today)
    except idnumbers.IdNumberError:
        return idnumbers.normalise(raw), "", "", "", False
    value = number.value
    return value, value[:17], number.birth_date.isoformat(), number.sex, number.converted_from_15


@lru_cache(maxsize=100_000)
def _id_birth_date(digits: str, today: datetime.date | None) -> str:
    try:
        born = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return ""
    if born < idnumbers.EARLIEST_BIRTH_DATE or born > (today or datetime.date.today()):
        return ""
    return born.isoformat()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


@lru_cache(maxsize=4_096)
def _sex(value: Any) -> str:
    return template.SEX_WORDS.get(_text(value).lower(), "")


@lru_cache(maxsize=100_000)
def _county(value: Any) -> str:
    """The first six digits of a region code: the county."""
    return "".join(ch for ch in _text(value) if ch.isdigit())[:6]


@lru_cache(maxsize=100_000)
def _date(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    raw = _text(value)
    found = _DATE.match(raw) or _DATE_COMPACT.match(raw)
    if not found:
        return ""
    try:
        return datetime.date(*(int(part) for part in found.groups())).isoformat()
    except ValueError:
        return ""


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=200_000)
def simplify(name: str) -> str:
    """A name in simplified characters, without spaces or middle dots: 陳偉強 -> 陈伟强."""
    name = _NAME_NOISE.sub("", name)
    return _converter().convert(name) if name else ""


@lru_cache(maxsize=50_000)
def _syllable(character: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(character, style=Style.NORMAL, errors="default")).lower()


@lru_cache(maxsize=200_000)
def pinyin(name: str) -> str:
    """Toneless pinyin, character by character (张伟 -> zhangwei), so 张玮 agrees with 张伟: a
    clerk who wrote a name down as she heard it keeps the sound, not the character. Character
    by character (not by phrase) so both registers read a character the same way."""
    return "".join(_syllable(ch) for ch in name)


# -- matching --------------------------------------------------------------------------------


def match(
    outflow: Sequence[Record],
    inflow: Sequence[Record],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    today: datetime.date | None = None,
    probabilistic: bool = True,
) -> MatchResult:
    """Match the rows of two registers one to one; pairs scoring below ``threshold`` are
    left unmatched."""
    matched: list[Match] = []
    taken_out: set[int] = set()
    taken_in: set[int] = set()

    def assign(candidates: Iterable[Match]) -> None:
        for pair in sorted(candidates, key=lambda m: (-m.score, m.outflow_row, m.inflow_row)):
            if pair.score < threshold:
                break
            if pair.outflow_row in taken_out or pair.inflow_row in taken_in:
                continue
            taken_out.add(pair.outflow_row)
            taken_in.add(pair.inflow_row)
            matched.append(pair)

    assign(_same_id(outflow, inflow))
    rest_out = [r for r in outflow if r.row not in taken_out]
    rest_in = [r for r in inflow if r.row not in taken_in]
    assign(_transposed_id(rest_out, rest_in, today))
    if probabilistic:
        rest_out = [r for r in outflow if r.row not in taken_out]
        rest_in = [r for r in inflow if r.row not in taken_in]
        if rest_out and rest_in:
            # u from the whole registers: who the strangers are does not depend on the stages.
            u = (
                estimate_u(outflow, inflow)
                if min(len(outflow), len(inflow)) >= _ESTIMATE_U_FROM
                else None
            )
            size = max(len(outflow), len(inflow))
            assign(
                score_probabilistic(rest_out, rest_in, threshold=threshold, u=u, register_size=size)
            )
    matched.sort(key=lambda m: m.outflow_row)
    result = MatchResult(
        matches=matched,
        outflow_unmatched=sorted(r.row for r in outflow if r.row not in taken_out),
        inflow_unmatched=sorted(r.row for r in inflow if r.row not in taken_in),
    )
    result.summary = summarise(outflow, inflow, result)
    return result


def _same_id(outflow: Sequence[Record], inflow: Sequence[Record]) -> Iterable[Match]:
    """The same number as written (score 1), or the same person's number in another form: a
    legacy 15-digit number, another check character (the first 17 digits agree)."""
    by_number: dict[str, list[Record]] = defaultdict(list)
    by_first17: dict[str, list[Record]] = defaultdict(list)
    for record in inflow:
        if record.id17:
            by_first17[record.id17].append(record)
        elif record.id_number:
            by_number[record.id_number].append(record)  # unreadable, but the same text
    for record in outflow:
        if record.id17:
            for other in by_first17.get(record.id17, ()):
                same = other.id_number == record.id_number and not (record.legacy or other.legacy)
                if same:
                    yield Match(record.row, other.row, SCORE_SAME_ID, "id")
                else:
                    yield Match(record.row, other.row, SCORE_SAME_ID_OTHER_FORM, "id_form")
        elif record.id_number:
            for other in by_number.get(record.id_number, ()):
                yield Match(record.row, other.row, SCORE_SAME_ID, "id")


def _transposed_id(
    outflow: Sequence[Record], inflow: Sequence[Record], today: datetime.date | None
) -> Iterable[Match]:
    """Numbers one swap of adjacent digits apart, when the names agree too: two people born
    the same day in the same county have numbers that close (sequence 123 and 132)."""
    by_first17: dict[str, list[Record]] = defaultdict(list)
    for record in inflow:
        if record.id17:
            by_first17[record.id17].append(record)
    if not by_first17:
        return
    for record in outflow:
        if not record.id17:
            continue
        for candidate in idnumbers.one_transposition_away(record.id_number, today=today):
            for other in by_first17.get(candidate[:17], ()):
                if record.name and other.name == record.name:
                    yield Match(record.row, other.row, SCORE_TRANSPOSED_SAME_NAME, "transposition")
                elif record.pinyin and other.pinyin == record.pinyin:
                    yield Match(record.row, other.row, SCORE_TRANSPOSED_HOMOPHONE, "transposition")


# -- the probabilistic stage -----------------------------------------------------------------


def _level(sql: str, label: str, m: float, u: float) -> dict:
    return {"sql_condition": sql, "label_for_charts": label, "m_probability": m, "u_probability": u}


def _null(*columns: str) -> dict:
    sql = " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in columns)
    return {"sql_condition": sql, "label_for_charts": "null", "is_null_level": True}


# Functions the model's SQL names that another engine spells differently: Spark has them
# from splink's Scala UDF jar (registered by SparkAPI).
_FUNCTIONS = {"spark": {"jaro_winkler_similarity(": "jaro_winkler("}}


def splink_settings(
    prior: float, u: dict[tuple[str, str], float] | None = None, *, dialect: str = "duckdb"
) -> dict:
    """A Fellegi-Sunter model. m (how often a field agrees for one person in two registers)
    comes from what clerks get wrong; u (how often strangers agree) from ``u`` (keyed by
    comparison and level, see :func:`estimate_u`) where given, else these priors. A birth date
    that differs is near-decisive: registers copy it from the ID card, so the same name born
    another day is another person."""
    settings = _settings(prior)
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            key = (comparison["output_column_name"], level["label_for_charts"])
            if u and key in u:
                level["u_probability"] = u[key]
            for ours, theirs in _FUNCTIONS.get(dialect, {}).items():
                level["sql_condition"] = level["sql_condition"].replace(ours, theirs)
    return settings


def _settings(prior: float) -> dict:
    return {
        "link_type": "link_only",
        "unique_id_column_name": "row",
        "probability_two_random_records_match": prior,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": "l.pinyin = r.pinyin AND l.birth_year = r.birth_year"},
            {"blocking_rule": "l.birth_date = r.birth_date AND l.sex = r.sex"},
            {"blocking_rule": "l.id_head = r.id_head AND l.pinyin = r.pinyin"},
            # A row with neither ID number nor birth date still has a name and a home.
            {"blocking_rule": "l.pinyin = r.pinyin AND l.household_county = r.household_county"},
        ],
        "comparisons": [
            {
                "output_column_name": "name",
                "comparison_levels": [
                    _null("name"),
                    _level("name_l = name_r", "same characters", 0.85, 1e-4),
                    _level("pinyin_l = pinyin_r", "homophone", 0.115, 2e-4),
                    _level(
                        "jaro_winkler_similarity(pinyin_l, pinyin_r) >= 0.9", "similar", 0.03, 0.01
                    ),
                    # A name wholly changed (or another person's written in) is rare.
                    _level("ELSE", "different", 0.005, 0.99),
                ],
            },
            {
                "output_column_name": "birth_date",
                "comparison_levels": [
                    _null("birth_date"),
                    _level("birth_date_l = birth_date_r", "same", 0.95, 6e-5),
                    _level(
                        "damerau_levenshtein(birth_date_l, birth_date_r) <= 1", "typo", 0.04, 2e-3
                    ),
                    _level("ELSE", "different", 1e-3, 0.998),
                ],
            },
            {
                "output_column_name": "sex",
                "comparison_levels": [
                    _null("sex"),
                    _level("sex_l = sex_r", "same", 0.98, 0.5),
                    _level("ELSE", "different", 0.02, 0.5),
                ],
            },
            {
                "output_column_name": "id_number",
                "comparison_levels": [
                    _null("id_number"),
                    _level("id_number_l = id_number_r", "same", 0.3, 1e-7),
                    _level("damerau_levenshtein(id_number_l, id_number_r) <= 2", "typo", 0.3, 1e-4),
                    _level("ELSE", "different", 0.4, 0.9999),
                ],
            },
            {
                "output_column_name": "household_county",
                "comparison_levels": [
                    _null("household_county"),
                    _level("household_county_l = household_county_r", "same", 0.9, 0.01),
                    _level("ELSE", "different", 0.1, 0.99),
                ],
            },
        ],
        "retain_intermediate_calculation_columns": False,
        "retain_matching_columns": False,
    }


def _columns(records: Sequence[Record]) -> dict[str, list]:
    def blank(value: str) -> str | None:
        return value or None

    return {
        "row": [r.row for r in records],
        "name": [blank(r.name) for r in records],
        "pinyin": [blank(r.pinyin) for r in records],
        "sex": [blank(r.sex) for r in records],
        "birth_date": [blank(r.birth_date) for r in records],
        "birth_year": [blank(r.birth_date[:4]) for r in records],
        "id_number": [blank(r.id_number) for r in records],
        "id17": [blank(r.id17) for r in records],
        "id_head": [blank(r.id17[:6]) for r in records],
        "household_county": [blank(r.household_county) for r in records],
    }


def estimate_u(outflow: Sequence[Record], inflow: Sequence[Record]) -> dict[tuple[str, str], float]:
    """How often two strangers agree on each field: for exact agreement, the chance that a
    random outflow row and a random inflow row share the value, computed over every pair at
    once from the value counts (splink's random sampling would need millions of pairs to see
    a shared birthday often enough, and takes seconds for them). Fuzzy levels keep their
    priors; "different" takes the rest."""

    def agreement(values_left: Iterable[str], values_right: Iterable[str]) -> float | None:
        left = Counter(v for v in values_left if v)
        right = Counter(v for v in values_right if v)
        n_left, n_right = left.total(), right.total()
        if not n_left or not n_right:
            return None
        shared = sum(count * right[value] for value, count in left.items() if value in right)
        return shared / (n_left * n_right)

    def column(name: str) -> float | None:
        return agreement((getattr(r, name) for r in outflow), (getattr(r, name) for r in inflow))

    return u_from_agreement(column)


# The fields whose exact agreement u_from_agreement asks about.
U_FIELDS = ("name", "pinyin", "birth_date", "sex", "household_county")


def u_from_agreement(column: Callable[[str], float | None]) -> dict[tuple[str, str], float]:
    """u per comparison level from ``column(field)``: the share of all (outflow, inflow)
    pairs of rows that agree on ``field`` (None: no row has it). Shared by the DuckDB and
    the Spark paths, which count the values each in their own way."""
    found: dict[tuple[str, str], float] = {}
    name, sound = column("name"), column("pinyin")
    if name is not None and sound is not None:
        found["name", "same characters"] = max(name, _U_FLOOR)
        found["name", "homophone"] = max(sound - name, _U_FLOOR)
    for field_name, label in (
        ("birth_date", "same"),
        ("sex", "same"),
        ("household_county", "same"),
    ):
        value = column(field_name)
        if value is not None:
            found[field_name, label] = min(max(value, _U_FLOOR), 1 - _U_FLOOR)
    defaults = _settings(0.5)["comparisons"]
    for comparison in defaults:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        key = comparison["output_column_name"]
        if not any((key, lv["label_for_charts"]) in found for lv in levels):
            continue
        agreeing = sum(
            found.get((key, lv["label_for_charts"]), lv["u_probability"]) for lv in levels[:-1]
        )
        found[key, levels[-1]["label_for_charts"]] = max(1 - agreeing, _U_FLOOR)
    return found


def score_probabilistic(
    outflow: Sequence[Record],
    inflow: Sequence[Record],
    *,
    threshold: float,
    u: dict[tuple[str, str], float] | None = None,
    register_size: int = 0,
) -> list[Match]:
    """Candidate pairs with splink's match probability, those at ``threshold`` or above.

    ``register_size`` is the larger of the two whole registers when these rows are what the
    ID stages left: one person in the smaller register has one counterpart among the larger's
    rows at most, and the rows left over are no likelier to match than the rest."""
    from splink import DuckDBAPI, Linker

    prior = 1 / max(register_size, len(outflow), len(inflow), _PRIOR_REGISTER_SIZE)
    db_api = DuckDBAPI()
    tables = [
        db_api.register(_columns(outflow), table_name="outflow"),
        db_api.register(_columns(inflow), table_name="inflow"),
    ]
    linker = Linker(tables, splink_settings(prior, u), log_level=logging.WARNING)
    predictions = _quietly(linker.inference.predict, threshold_match_probability=threshold)
    found = []
    columns = ("source_dataset_l", "row_l", "row_r", "match_probability")
    table = predictions.as_pyarrow_table().select(list(columns))
    for source_l, row_l, row_r, probability in zip(
        *(table.column(c).to_pylist() for c in columns), strict=True
    ):
        out_row, in_row = (row_l, row_r) if source_l == "outflow" else (row_r, row_l)
        found.append(Match(out_row, in_row, round(float(probability), 4), "probabilistic"))
    return found


def _quietly(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    # splink logs its training progress at INFO on its own loggers.
    splink_logger = logging.getLogger("splink")
    level = splink_logger.level
    splink_logger.setLevel(logging.WARNING)
    try:
        return function(*args, **kwargs)
    finally:
        splink_logger.setLevel(level)


# -- the report ------------------------------------------------------------------------------


def summarise(
    outflow: Sequence[Record], inflow: Sequence[Record], result: MatchResult
) -> list[dict]:
    """Counts and rates per pair of counties (origin, destination): a matched pair by the
    outflow row's household county and the inflow row's residence county; a row found on one
    side only by its own household and residence counties. On matched pairs, whether the two
    registers agree on the certificate and its verification (county_report.agreement)."""
    from .county_report import COUNTS, INDEX, agreement, entry

    by_row_out = {r.row: r for r in outflow}
    by_row_in = {r.row: r for r in inflow}
    width = len(COUNTS)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * width)
    matched, only_outflow, only_inflow = (
        INDEX["matched"],
        INDEX["only_outflow"],
        INDEX["only_inflow"],
    )
    for pair in result.matches:
        left, right = by_row_out[pair.outflow_row], by_row_in[pair.inflow_row]
        tally = counts[(left.household_county, right.residence_county)]
        tally[matched] += 1
        if left.certificate_no or right.certificate_no or left.verified_on or right.verified_on:
            for key in agreement(left, right):
                tally[INDEX[key]] += 1
    for row in result.outflow_unmatched:
        record = by_row_out[row]
        counts[(record.household_county, record.residence_county)][only_outflow] += 1
    for row in result.inflow_unmatched:
        record = by_row_in[row]
        counts[(record.household_county, record.residence_county)][only_inflow] += 1
    return [
        entry(origin, destination, tally) for (origin, destination), tally in sorted(counts.items())
    ]


def match_files(
    outflow_path: str | Path,
    inflow_path: str | Path,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    today: date | None = None,
) -> MatchResult:
    """Read both files and match them (the `liudong match` command)."""
    outflow = read_register(outflow_path, today=today)
    inflow = read_register(inflow_path, today=today)
    return match(outflow, inflow, threshold=threshold, today=today)
