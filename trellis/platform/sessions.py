"""Web sessions that end when they should.

The session cookie is signed, so a client cannot change what it holds, but it can keep
and replay it. A cookie is therefore accepted only while:

- it carries the user's current ``session_generation`` (logout, a password change and an
  administrator's "sign out everywhere" raise it, ending every cookie issued before);
- it was last used less than ``TRELLIS_SESSION_IDLE_SECONDS`` ago;
- it was issued less than ``TRELLIS_SESSION_MAX_SECONDS`` ago.

Checked on every request by the login manager's user loader: no extra query, the user
row is loaded anyway.
"""

from __future__ import annotations

import time

from flask import session

from trellis.platform.web import settings

GENERATION, BORN, SEEN = "_gen", "_born", "_seen"
TOUCH_EVERY = 60  # seconds: the cookie is re-sent at most this often for the idle clock


def start(user) -> None:
    """Mark the (fresh) session as belonging to *user*'s current generation."""
    now = int(time.time())
    session[GENERATION] = user.session_generation or 0
    session[BORN] = session[SEEN] = now


def valid(user) -> bool:
    """Whether this request's session may act for *user*; touches the idle clock."""
    cfg = settings()
    now = int(time.time())
    born, seen = session.get(BORN), session.get(SEEN)
    if session.get(GENERATION) != (user.session_generation or 0):
        return False
    if not isinstance(born, int) or not isinstance(seen, int):
        return False
    if cfg.session_max_seconds and now - born > cfg.session_max_seconds:
        return False
    if cfg.session_idle_seconds and now - seen > cfg.session_idle_seconds:
        return False
    if now - seen >= TOUCH_EVERY:
        session[SEEN] = now
    return True


def drop() -> None:
    """Forget the login held by this request's session."""
    for key in ("_user_id", "_fresh", "_id", GENERATION, BORN, SEEN):
        session.pop(key, None)
