"""Who is acting, from where, under which request id: set once per request or command."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    address: str = ""
    # Who runs a command-line job (the operating-system account), when no staff user does.
    operator: str = ""
    # An action done offline on a phone and synced now (liudong.field): its client id, the
    # phone's time of doing it and of sending it, and the server's time of receiving it.
    # Every entry written while the action is applied carries it in its detail.
    offline: dict | None = None


_EMPTY = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("liudong_request", default=_EMPTY)


def current() -> RequestContext:
    return _current.get()


@contextlib.contextmanager
def bind(
    *, request_id: str | None = None, address: str = "", operator: str = ""
) -> Iterator[RequestContext]:
    token = _current.set(RequestContext(request_id or new_request_id(), address, operator))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


@contextlib.contextmanager
def offline(times: dict) -> Iterator[RequestContext]:
    """Within this block the entries written are marked as an action done offline."""
    now = _current.get()
    token = _current.set(RequestContext(now.request_id, now.address, now.operator, dict(times)))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex
