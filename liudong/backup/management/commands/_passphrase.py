"""The backup passphrase, read from standard input and never from the command line
(argv is visible to every user of the machine in `ps` and stays in shell history)."""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from django.core.management.base import CommandError


def read_passphrase(stdin: TextIO | None, *, confirm: bool) -> str:
    stream = stdin or sys.stdin
    if stream.isatty():
        passphrase = getpass.getpass("backup passphrase: ")
        if confirm and getpass.getpass("the passphrase again: ") != passphrase:
            raise CommandError("the two passphrases differ")
    else:
        # One line: `liudong backup --out F < passphrase-file` in a nightly job.
        passphrase = stream.readline().rstrip("\r\n")
    if not passphrase:
        raise CommandError("no passphrase: give it on standard input (one line)")
    return passphrase
