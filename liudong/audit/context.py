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


def new_request_id() -> str:
    return uuid.uuid4().hex
