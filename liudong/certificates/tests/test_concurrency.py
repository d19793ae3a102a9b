"""Two issuers at once get consecutive numbers: no gap, no duplicate (PostgreSQL row lock
on the township's counter). SQLite serialises writers with IMMEDIATE transactions, so
the race can only happen on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from liudong.actors import OPERATOR
from liudong.certificates import issuing
from liudong.certificates.models import Certificate, NumberCounter

from .conftest import TODAY, make_person

PER_ISSUER = 12


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_issuers_share_one_gapless_sequence():
    if connection.vendor != "postgresql":
        pytest.skip("the row-lock race needs PostgreSQL (SQLite serialises writers)")
    from liudong.regions.services import load_divisions

    load_divisions(prefixes=("33",))  # a transactional test starts from empty tables
    # The counter row exists already (every issue but a township's first in a year): only
    # its row lock keeps the two read-increment-writes apart.
    NumberCounter.objects.create(region_id="330106002", year=2026)
    women = [make_person(household="330106002", residence=None) for _ in range(2 * PER_ISSUER)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def issuer(batch):
        try:
            start.wait(timeout=30)
            for person in batch:
                issuing.issue(person, acting_user=OPERATOR, today=TODAY)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issuer, args=(women[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    numbers = sorted(Certificate.objects.values_list("number", flat=True))
    assert numbers == [f"330106002-2026-{n:06d}" for n in range(1, 2 * PER_ISSUER + 1)]
