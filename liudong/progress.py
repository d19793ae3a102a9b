"""Reporting how far a long loop got, for a command's progress bar (liudong.commands):
the loop's items pass through unchanged, and ``progress(done, total)`` hears of them now
and then. The domain code stays free of any terminal or bar."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Item = TypeVar("Item")

EVERY = 1000  # items between two reports: a bar needs no more, a million rows no fewer


def reported(
    items: Iterable[Item],
    total: int | None,
    progress: Callable[[int, int | None], None],
    every: int = EVERY,
) -> Iterator[Item]:
    """``items`` one by one, calling ``progress`` at the start, every ``every`` items and
    at the end (with the number passed so far and ``total``)."""
    done = 0
    progress(done, total)
    for item in items:
        yield item
        done += 1
        if done % every == 0:
            progress(done, total)
    progress(done, total)
