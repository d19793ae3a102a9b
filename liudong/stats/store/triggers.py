"""The database triggers that mark stale cells (StoreMark): every table a count reads
inserts a mark (the changed row's county, the first day it can matter) in the same
transaction as the change, whatever made it: a service function, the admin, a bulk COPY
import or a hand-written UPDATE. PostgreSQL: statement-level triggers with transition
tables, so a million-row import costs one INSERT ... SELECT of a few marks; SQLite:
row-level triggers (it has no statement-level ones).

Each watched table lists SELECTs of (county, since) over ``{rows}``, the changed rows: the
inserted rows, the deleted rows, or for an update both the old and the new rows of those
where a column a count reads changed (a name edit marks nothing)."""

# ruff: noqa: S608 -- the SQL is built from the constant table and column names above, no input

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

START = "{start}"  # from the first stored month (a fact kept without history)


def _select(county: str, since: str, joins: str = "", where: str = "") -> str:
    return f"SELECT substr({county}, 1, 6) AS county, {since} AS since FROM {{rows}} r {joins}" + (
        f" WHERE {where}" if where else ""
    )


def _person_counties(since: str) -> tuple[str, ...]:
    """Where a person's stays are counted: her household county (outflow) and the county
    of each of her stays (inflow, births)."""
    return (
        _select("p.household_region_id", since, "JOIN people_person p ON p.id = r.person_id"),
        _select(
            "e.region_id", since, "JOIN people_residenceepisode e ON e.person_id = r.person_id"
        ),
    )


@dataclasses.dataclass(frozen=True)
class Watched:
    table: str
    columns: tuple[str, ...]  # the columns counts read (an update of others marks nothing)
    selects: tuple[str, ...]
    on_insert: bool = True


WATCHED = (
    # Sex, birth date, marital status (counted as now), merges and the household region
    # reach every month: mark from the start. A new person has no stay yet: nothing to mark.
    Watched(
        "people_person",
        ("household_region_id", "sex", "birth_date", "marital_status", "merged_into_id"),
        (
            _select("r.household_region_id", START),
            _select("e.region_id", START, "JOIN people_residenceepisode e ON e.person_id = r.id"),
        ),
        on_insert=False,
    ),
    # A stay counts from its arrival on (departure and verification come later; `created`
    # is when it was registered, written once, watched should anything rewrite it).
    Watched(
        "people_residenceepisode",
        ("person_id", "region_id", "arrival_date", "departure_date", "verified_on", "created"),
        (
            _select("r.region_id", "r.arrival_date"),
            _select(
                "p.household_region_id",
                "r.arrival_date",
                "JOIN people_person p ON p.id = r.person_id",
            ),
        ),
    ),
    # A birth is placed where the parent lived: any of her stays' counties.
    Watched(
        "people_child",
        ("parent_id", "sex", "birth_date"),
        (
            _select(
                "e.region_id",
                "r.birth_date",
                "JOIN people_residenceepisode e ON e.person_id = r.parent_id",
            ),
        ),
    ),
    Watched(
        "people_heldcertificate",
        ("person_id", "issued_on", "certificate_id"),
        _person_counties(f"COALESCE(r.issued_on, {START})"),
    ),
    Watched(
        "certificates_certificate",
        ("person_id", "issued_on", "valid_until", "revoked_at"),
        _person_counties("r.issued_on"),
    ),
    Watched(
        "services_servicerecord",
        ("person_id", "date", "service_type", "free_of_charge", "consent_recorded"),
        _person_counties("r.date"),
    ),
    # An entry not yet visited is counted nowhere.
    Watched(
        "stats_spotcheckentry",
        ("village_id", "visited_on"),
        (_select("r.village_id", "r.visited_on", where="r.visited_on IS NOT NULL"),),
    ),
    Watched(
        "stats_spotcheckresult",
        ("entry_id", "result"),
        (
            _select(
                "en.village_id",
                "en.visited_on",
                "JOIN stats_spotcheckentry en ON en.id = r.entry_id",
                "en.visited_on IS NOT NULL",
            ),
        ),
    ),
    # A notice counts from its deadline on; she moving away is a change of her stay,
    # marked at the stay's county (the notice's: it is given where she lives).
    Watched(
        "certificates_notice",
        ("region_id", "deadline", "fulfilled_on", "episode_id"),
        (_select("r.region_id", "r.deadline"),),
    ),
    Watched(
        "exchange_assistancerequest",
        ("region_id", "deadline", "direction", "answered_on", "urgency"),
        (_select("r.region_id", "r.deadline"),),
    ),
    # A correction request counts in the month its deadline falls in (issue 19).
    Watched(
        "people_correctionrequest",
        ("holding_region_id", "deadline", "answered_on"),
        (_select("r.holding_region_id", "r.deadline"),),
    ),
    # A benefit counts from the day it begins; a suspension or an end (status_changed_on)
    # comes after it, so marking from the beginning covers every month it changes.
    Watched(
        "programmes_benefit",
        ("family_id", "programme_id", "starts_on", "status", "status_changed_on"),
        (
            _select(
                "f.household_region_id",
                "r.starts_on",
                "JOIN programmes_family f ON f.id = r.family_id",
            ),
        ),
    ),
    # A family's household region places its benefits (kept without history: from the
    # start). A new family has no benefit yet: nothing to mark.
    Watched(
        "programmes_family",
        ("household_region_id",),
        (_select("r.household_region_id", START),),
        on_insert=False,
    ),
    # An amount reaches the benefits of its province (the mark's "county" is the province
    # code: its whole subtree), counted from the start rather than from its year: the
    # vocabulary has no date of a year's first day that both databases write alike.
    Watched(
        "programmes_programmeamount",
        ("programme_id", "year", "province", "yuan_per_year"),
        (_select("r.province", START),),
    ),
)


def _mark(watched: Watched, rows: str, start: str, *, skip_covered: bool = False) -> str:
    union = " UNION ALL ".join(s.format(rows=rows, start=start) for s in watched.selects)
    grouped = (
        f"SELECT county, MIN(since) AS since FROM ({union}) m "
        "WHERE county IS NOT NULL GROUP BY county"
    )
    if not skip_covered:
        return f"INSERT INTO stats_storemark (county, since) {grouped}"
    # SQLite marks row by row: a mark no refresher has claimed yet (id above read_up_to)
    # for the county from an earlier or the same day already covers this row. Writers
    # and the refresher's claim are serialised, so the covering mark is read by a run
    # that counts after this change commits. Keeps a million-row import to a few marks.
    return (
        f"INSERT INTO stats_storemark (county, since) SELECT county, since FROM ({grouped}) g "
        "WHERE NOT EXISTS (SELECT 1 FROM stats_storemark k WHERE k.county = g.county "
        "AND k.since <= g.since AND k.id > "
        "COALESCE((SELECT read_up_to FROM stats_storestate WHERE id = 1), 0))"
    )


def _name(watched: Watched, event: str) -> str:
    return f"stats_mark_{watched.table}_{event}"


def sqlite_create(watched: tuple[Watched, ...] = WATCHED) -> list[str]:
    statements = []
    start = "'0001-01-01'"
    for w in watched:
        columns = ("id", *w.columns)

        def rows(side: str, columns: tuple[str, ...] = columns) -> str:
            return "(SELECT " + ", ".join(f"{side}.{c} AS {c}" for c in columns) + ")"

        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in w.columns)
        if w.on_insert:
            statements.append(
                f"CREATE TRIGGER {_name(w, 'ins')} AFTER INSERT ON {w.table} "
                f"BEGIN {_mark(w, rows('NEW'), start, skip_covered=True)}; END"
            )
        statements.append(
            f"CREATE TRIGGER {_name(w, 'upd')} AFTER UPDATE ON {w.table} WHEN {changed} "
            f"BEGIN {_mark(w, rows('OLD'), start, skip_covered=True)}; "
            f"{_mark(w, rows('NEW'), start, skip_covered=True)}; END"
        )
        statements.append(
            f"CREATE TRIGGER {_name(w, 'del')} AFTER DELETE ON {w.table} "
            f"BEGIN {_mark(w, rows('OLD'), start, skip_covered=True)}; END"
        )
    return statements


def sqlite_drop(watched: tuple[Watched, ...] = WATCHED) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {_name(w, event)}"
        for w in watched
        for event in ("ins", "upd", "del")
    ]


def postgresql_create(watched: tuple[Watched, ...] = WATCHED) -> list[str]:
    statements = []
    start = "DATE '0001-01-01'"
    for w in watched:
        old = ", ".join(f"o.{c}" for c in w.columns)
        new = ", ".join(f"n.{c}" for c in w.columns)
        changed = f"JOIN old_rows o ON o.id = n.id WHERE ({old}) IS DISTINCT FROM ({new})"
        changed_new = f"(SELECT n.* FROM new_rows n {changed})"
        changed_old = f"(SELECT o.* FROM new_rows n {changed})"
        function = f"stats_mark_{w.table}"
        statements.append(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            f"  IF TG_OP = 'INSERT' THEN {_mark(w, 'new_rows', start)};\n"
            f"  ELSIF TG_OP = 'DELETE' THEN {_mark(w, 'old_rows', start)};\n"
            f"  ELSE {_mark(w, changed_old, start)}; {_mark(w, changed_new, start)};\n"
            "  END IF;\n"
            "  RETURN NULL;\n"
            "END $$"
        )
        events = [
            ("upd", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("del", "DELETE", "OLD TABLE AS old_rows"),
        ]
        if w.on_insert:
            events.insert(0, ("ins", "INSERT", "NEW TABLE AS new_rows"))
        for suffix, event, referencing in events:
            statements.append(
                f"CREATE TRIGGER {_name(w, suffix)} AFTER {event} ON {w.table} "
                f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    return statements


def postgresql_drop(watched: tuple[Watched, ...] = WATCHED) -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS {_name(w, event)} ON {w.table}"
        for w in watched
        for event in ("ins", "upd", "del")
    ]
    return statements + [f"DROP FUNCTION IF EXISTS stats_mark_{w.table}()" for w in watched]


def _present(connection: BaseDatabaseWrapper) -> tuple[Watched, ...]:
    """The watched tables the database has yet. An early stats migration (0010) runs this
    module as it is now, before the migrations of tables watched later (the programmes'):
    those get their triggers from the migration that starts watching them (0014)."""
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    return tuple(w for w in WATCHED if w.table in tables)


def create(connection: BaseDatabaseWrapper) -> None:
    watched = _present(connection)
    statements = (
        postgresql_create(watched) if connection.vendor == "postgresql" else sqlite_create(watched)
    )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def drop(connection: BaseDatabaseWrapper) -> None:
    watched = _present(connection)
    statements = (
        postgresql_drop(watched) if connection.vendor == "postgresql" else sqlite_drop(watched)
    )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
