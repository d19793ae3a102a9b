"""The `liudong` command: Django's management commands under friendlier names.

``liudong import regions FILE`` runs the management command ``import_regions``: a
two-word subcommand is the command named by both words joined with an underscore. The
table below adds the composite commands DESIGN.md §5 promises.
"""

from __future__ import annotations

import os
import sys

COMPOSITE = {
    # `liudong migrate` = schema + the shipped national divisions, both idempotent.
    "migrate": [["migrate"], ["load_divisions"]],
}

GROUPS = {
    "import": "import data from csv/xlsx: regions, persons, employers, rental-houses, sites, "
    "agreements, safety-issues, department",
    "export": "export data to csv/xlsx: regions, persons, audit, employers, rental-houses, "
    "sites, agreements, safety-issues, campaign, services",
    "audit": "the audit log: verify, anchor",
    "duplicates": "the possible-duplicate queue: find",
    "report": "reports: monthly",
    "check": "data checks: quality",
    "stats": "the pre-counted statistics: rebuild",
    "node": "this exchange node and its peers: init, trust, list",
    "exchange": "messages between nodes: inbox, outbox",
    "certificate": "marriage-and-childbearing certificates: issue, pdf, verify, revoke, rotate-key",
    "account": "staff accounts: reset-second-factor",
    "programme": "reward and assistance programmes: check",
    "resident": "a resident's own view: code",
}

# Groups that share their name with a Django command, which still runs without a subcommand.
DJANGO_FALLBACK = {"check"}

USAGE = """usage: liudong COMMAND [options]

Set up and run:
  demo                     migrate, create a demo county and accounts, serve on :8000
  migrate                  create or upgrade the schema and load the national divisions
  serve [--host --port --workers N --threads N --backlog N]
                           the web server (gunicorn; waitress on Windows)
  worker [--no-periodic --batch]   background work: imports, exchange delivery, audit anchors,
                           statistics refresh (run beside the server; demo starts one)
  createuser NAME --role ROLE --region CODE
  account reset-second-factor NAME   remove a lost phone's second factor (audited)
Data:
  import regions FILE      villages and groups from csv/xlsx
  import persons FILE [--dry-run --atomic --errors OUT.xlsx --format json]
  import department FILE --source police|labour|housing|commerce [--region CODE --format json]
                           a department's list of newcomers, reconciled for confirmation
  export persons --region CODE [--format csv|xlsx] [--out FILE]
  generate --persons N --out FILE   synthetic persons in the import template
  match OUTFLOW INFLOW [--format json]   two-way assessment: pair two registers' rows
  duplicates find [--format json]   queue possible duplicate person files
  export regions --region CODE [--format csv|xlsx] [--out FILE]
  export audit --region CODE --out FILE.xlsx
  audit verify [--format json]   check the audit log's keyed chain against its anchors
  audit anchor             sign the audit log's head into the anchor file (outside the database)
  import employers|rental-houses|sites|agreements|safety-issues FILE
                           [--dry-run --atomic --format json]
  export employers|rental-houses|sites|agreements|safety-issues --region CODE
                           [--format csv|xlsx] [--out FILE]
  export campaign --id N --out FILE.xlsx   a campaign's summary per region
  export services --region CODE --from DATE --to DATE --out FILE.xlsx   services given
Programmes:
  programme check FILE --on YYYY-MM-DD [--format json]
                           a family list's reward and assistance programmes on a date, and
                           the first rule each row fails for the others
Her own view:
  resident code --id-number ID [--days N --format json]
                           an access code for her to sign in at /me/sign-in/ (shown once;
                           revokes her earlier codes)
Statistics:
  report monthly --region CODE --period YYYY-MM --format json|xlsx|table [--out FILE]
  check quality --region CODE [--format json|table] [--rule CODE]   data-quality rules
  stats rebuild [--region CODE] [--from YYYY-MM]   recount the pre-counted figures
Exchange between nodes:
  node init --region CODE --url URL      this node's identity; prints its public key
  node trust --region CODE --url URL --key KEY   trust a peer for a region prefix
  node list                              this node and its peers
  exchange inbox|outbox [--format json]  messages received (or refused) and sent
Certificates:
  certificate issue --id-number ID | --from FILE [--format json]
  certificate pdf NUMBER --out FILE.pdf
  certificate verify PAYLOAD     exit 0 and the fields, or 1 and the reason
  certificate revoke NUMBER --reason TEXT
  certificate rotate-key         a new signing key; old keys keep verifying
Backup:
  backup --out FILE        the database and the keys in one file (passphrase on stdin)
  restore FILE [--replace-keys]   into an empty database (passphrase on stdin)
Every Django management command also works (liudong help lists them).
`liudong COMMAND --help` describes a command's options.
"""


def spoken(command: str) -> str:
    """The words `liudong` takes for a management command: ``import_persons`` is
    ``import persons``, ``certificate_rotate_key`` is ``certificate rotate-key``."""
    head, _, tail = command.partition("_")
    if tail and head in GROUPS:
        return f"{head} {tail.replace('_', '-')}"
    return command


def _resolve(argv: list[str]) -> list[str]:
    """Map `liudong import regions ...` to `import_regions ...`."""
    from django.core.management import get_commands

    if argv and argv[0] in DJANGO_FALLBACK and (len(argv) == 1 or argv[1].startswith("-")):
        return argv  # `liudong check --deploy`: Django's own system check
    if len(argv) >= 2 and argv[0] in GROUPS and not argv[1].startswith("-"):
        joined = f"{argv[0]}_{argv[1].replace('-', '_')}"  # rotate-key: rotate_key
        if joined in get_commands():
            return [joined, *argv[2:]]
    if len(argv) >= 2 and argv[0] in GROUPS:
        name = argv[1] if not argv[1].startswith("-") else ""
        sys.stderr.write(
            f"liudong: error: unknown {argv[0]} subcommand “{name}”; {GROUPS[argv[0]]}\n"
        )
        sys.exit(2)
    if len(argv) == 1 and argv[0] in GROUPS:
        sys.stderr.write(f"liudong {argv[0]}: {GROUPS[argv[0]]}\n")
        sys.exit(2)
    return argv


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liudong.settings")
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return
    import django

    django.setup()
    from django.core.management import execute_from_command_line

    if argv[0] in COMPOSITE and not any(a in ("-h", "--help") for a in argv[1:]):
        first, *rest = COMPOSITE[argv[0]]
        execute_from_command_line(["liudong", *first, *argv[1:]])
        for step in rest:
            execute_from_command_line(["liudong", *step])
        return
    execute_from_command_line(["liudong", *_resolve(argv)])


if __name__ == "__main__":
    main()
