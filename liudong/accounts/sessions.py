"""The session store: Django's database sessions, written once a minute at most when
nothing in them changed.

Sessions end after SESSION_COOKIE_AGE idle (SESSION_SAVE_EVERY_REQUEST pushes the expiry
ahead on each request). Pushing it ahead cost every signed-in request an UPDATE in a
transaction of its own (three statements, and a row lock on the session); a clerk clicks
every few seconds. Here a request whose session is unchanged writes it only when the
expiry would move by REFRESH_SECONDS or more: a session still ends idle, at most that much
earlier than before, never later. A changed session (sign-in, second factor, messages) is
written at once as before.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

REFRESH_SECONDS = 60


class SessionStore(DatabaseStore):
    # The expiry the stored row holds, as read by this request (None: not read).
    _stored_expiry: datetime.datetime | None = None

    def _get_session_from_db(self) -> Any:
        found = super()._get_session_from_db()  # type: ignore[misc]
        self._stored_expiry = found.expire_date if found is not None else None
        return found

    def save(self, must_create: bool = False) -> None:
        if not must_create and not self.modified and self._stored_expiry is not None:
            ahead = self.get_expiry_date() - self._stored_expiry
            if ahead < datetime.timedelta(seconds=REFRESH_SECONDS):
                return
        super().save(must_create=must_create)
        self._stored_expiry = self.get_expiry_date()
