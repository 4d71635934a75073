"""Notification texts in a reader's language, outside any web request.

The catalogues are the pages' own (``trellis/platform/**/translations``), read as files
with Babel, merged in the order Flask-Babel merges them; no Flask is imported.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

from trellis.messages import N_, render

CATALOGUES = Path(__file__).resolve().parents[1] / "platform"
SUBJECTS = {
    "decision": N_("Your application was decided"), "offer": N_("A loan offer is ready"),
    "payout": N_("Your loan was paid out"), "cancelled": N_("Your loan was not paid out"),
    "due_soon": N_("A repayment is due soon"),
    "cooling_off_end": N_("Your cooling-off period ends tomorrow"),
    "overdue": N_("A loan is overdue"), "warning": N_("A warning from Trellis"),
    "ticket": N_("A customer's question was handed to you"),
    "password_reset": N_("Reset your Trellis password"),
    "voucher": N_("A voucher part changed hands"),
    "trade": N_("A buyer decided on your document"),
    "grade": N_("Your risk grade changed"),
}
#: what a delivered message with a one-time link is replaced by (models.SECRET_KINDS)
REDACTED = {"t": N_("A password reset link was sent; the link is not kept."), "p": {}}


@lru_cache(maxsize=4)
def catalogue(locale: str) -> dict[str, str]:
    """Every area's ``messages.po`` for *locale* ("zh_CN" or "en": none), merged in the
    order Flask-Babel merges them (later areas win). Read from the ``.po`` files, which are
    the source: the ``.mo`` files are only compiled when the web application starts."""
    if not locale.startswith("zh"):
        return {}
    merged: dict[str, str] = {}
    for folder in sorted(p for p in CATALOGUES.glob("**/translations") if p.is_dir()):
        po = folder / "zh_CN" / "LC_MESSAGES" / "messages.po"
        if po.exists():
            with po.open("rb") as fh:
                merged.update({str(m.id): str(m.string) for m in read_po(fh)
                               if m.id and isinstance(m.id, str) and m.string})
    return merged


def gettext_for(locale: str):
    """A gettext function for *locale* over the merged catalogues (English text where none)."""
    found = catalogue(locale)
    return lambda text: found.get(text) or text


def text(message, locale: str) -> str:
    """A stored message (see :class:`~trellis.messages.Message`) in *locale*."""
    return render(message, locale=locale, gettext=gettext_for(locale))


def subject(kind: str, locale: str) -> str:
    """The subject line of a notification of *kind* in *locale*."""
    return gettext_for(locale)(SUBJECTS.get(kind, SUBJECTS["warning"]))
