"""Chinese (default) and English through Flask-Babel; money and dates for the locale.

Each area keeps its own catalog under ``trellis/platform/<area>/translations``; Flask-Babel
merges every directory. ``.po`` files are compiled to ``.mo`` at start when newer.
"""

from __future__ import annotations

import logging
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from flask import current_app, request, session
from flask_babel import get_locale
from flask_babel import gettext as _gettext
from flask_login import current_user

from trellis.messages import Message
from trellis.messages import render as render_message

logger = logging.getLogger(__name__)
LOCALES = ("zh_CN", "en")
HERE = Path(__file__).parent


def translation_dirs() -> list[Path]:
    return sorted(p for p in HERE.glob("**/translations") if p.is_dir())


def compile_catalogs() -> None:
    """Compile every ``messages.po`` into ``messages.mo`` when the .mo is missing or older.

    Babel names the Chinese locale ``zh_Hans_CN``, so a ``zh_CN`` catalog is also compiled
    under that name (gitignored), where gettext looks first.
    """
    for po in HERE.glob("**/translations/*/LC_MESSAGES/messages.po"):
        targets = [po.with_suffix(".mo")]
        if po.parent.parent.name == "zh_CN":
            targets.append(po.parent.parent.parent / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo")
        for mo in targets:
            if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            try:
                mo.parent.mkdir(parents=True, exist_ok=True)
                with po.open("rb") as fh:
                    catalog = read_po(fh)
                # Written beside and renamed into place: another process starting at the
                # same moment (a second web worker, a test server) reads the old file or
                # the whole new one, never a half-written catalogue (its pages in English).
                part = mo.with_name(f"{mo.name}.{os.getpid()}.part")
                with part.open("wb") as fh:
                    write_mo(fh, catalog)
                os.replace(part, mo)
            except OSError:  # a read-only install: use what is there
                logger.warning("could not compile %s", po)


def select_locale() -> str:
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    if current_user and getattr(current_user, "is_authenticated", False):
        if current_user.locale in LOCALES:
            return current_user.locale
    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")
    if request and request.accept_languages:
        best = request.accept_languages.best_match(["zh", "zh_CN", "en"])
        if best and best.startswith("en") and default != "zh_CN":
            return "en"
    return default


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def money(amount_fen: int | None, with_symbol: bool = True) -> str:
    """Integer fen as CNY for the locale, e.g. 123456 -> ¥1,234.56."""
    if amount_fen is None:
        return "—"
    yuan = Decimal(int(amount_fen)) / 100
    if with_symbol:
        return format_currency(yuan, "CNY", locale=_locale())
    return format_decimal(yuan, format="#,##0.00", locale=_locale())


def number(value) -> str:
    if value is None:
        return "—"
    return format_decimal(value, locale=_locale())


def percent(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    return format_percent(Decimal(str(value)), format="#,##0." + "0" * digits + "%",
                          locale=_locale())


def day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def param_text(value) -> str:
    """One message parameter as the reader reads it (a label, an amount, a date)."""
    return render(Message("%(v)s", {"v": value}), gettext=lambda s: s)


def render(message, params: dict | None = None, gettext=None) -> str:
    """A core's message in the reader's language: the template through the catalogue,
    each parameter formatted for the locale (money in yuan, dates, numbers).

    ``message`` is a :class:`trellis.messages.Message`, its stored JSON form, a plain
    string (a template without parameters), a ``{"en", "zh"}`` pair or None.
    """
    if params:
        found = Message.from_json(message)
        message = Message(found.template, {**found.params, **params})
    return render_message(message, locale=_locale(), gettext=gettext or _gettext)


def error_text(exc) -> str:
    """What to tell the reader about a :class:`trellis.errors.TrellisError`."""
    template = getattr(exc, "template", None)
    if template is None:
        return str(exc)
    if getattr(exc, "message_zh", "") and _locale().startswith("zh"):
        return exc.message_zh

    return render(Message(template, getattr(exc, "params", {}) or {}))


def init_app(app) -> None:
    compile_catalogs()
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["msg"] = render
    app.jinja_env.filters["label"] = param_text
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["error_text"] = error_text
