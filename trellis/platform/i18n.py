"""Chinese (default) and English through Flask-Babel; money and dates for the locale.

Each area keeps its own catalog under ``trellis/platform/<area>/translations``; Flask-Babel
merges every directory. ``.po`` files are compiled to ``.mo`` at start when newer.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.core import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import (
    NumberPattern,
    format_currency,
    format_decimal,
    parse_pattern,
)
from flask import current_app, g, request, session
from flask_babel import LazyString, get_locale, get_translations
from flask_babel import gettext as _gettext
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

from trellis import clock
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
        # A page is Chinese unless the reader chooses (a browser's English is no choice);
        # an API client (an ERP's token) has no other way to choose than to ask.
        if best and best.startswith("en") and (default != "zh_CN"
                                               or request.path.startswith("/api/")):
            return "en"
        if best and best.startswith("zh") and request.path.startswith("/api/"):
            return "zh_CN"
    return default


def _locale() -> str:
    # The locale flask-babel keeps for this request (its get_locale finds its context
    # anew on each call; a page of amounts asks for each one)
    try:
        found = g._flask_babel.babel_locale
    except (AttributeError, RuntimeError):  # not chosen yet, or no request
        found = None
    return str(found or get_locale() or "zh_CN")


# Per (locale, with symbol): the text around the digits of a positive and a negative
# amount, read once from Babel's own output, or None when the locale's pattern is not the
# plain "prefix, thousands groups of three, two decimals, suffix" (then Babel formats each).
_MONEY_SHAPES: dict[tuple[str, bool], tuple | None] = {}
_PROBE = Decimal("1234567.89")


def _babel_money(yuan: Decimal, with_symbol: bool, locale: str) -> str:
    if with_symbol:
        return format_currency(yuan, "CNY", locale=locale)
    return format_decimal(yuan, format="#,##0.00", locale=locale)


def _money_shape(locale: str, with_symbol: bool) -> tuple | None:
    key = (locale, with_symbol)
    if key not in _MONEY_SHAPES:
        pos, neg = (_babel_money(v, with_symbol, locale) for v in (_PROBE, -_PROBE))
        digits = "1,234,567.89"
        ok = pos.count(digits) == 1 and neg.count(digits) == 1
        _MONEY_SHAPES[key] = (*pos.split(digits), *neg.split(digits)) if ok else None
    return _MONEY_SHAPES[key]


def money(amount_fen: int | None, with_symbol: bool = True) -> str:
    """Integer fen as CNY for the locale, e.g. 123456 -> ¥1,234.56.

    Babel's output exactly (checked against it in the tests), without Babel's pattern work
    on each amount: a page of rows formats many."""
    if amount_fen is None:
        return "—"
    fen = int(amount_fen)
    locale = _locale()
    shape = _money_shape(locale, with_symbol)
    if shape is None:
        return _babel_money(Decimal(fen) / 100, with_symbol, locale)
    before, after, neg_before, neg_after = shape
    yuan, cents = divmod(abs(fen), 100)
    text = f"{yuan:,}.{cents:02d}"
    if fen < 0:
        return neg_before + text + neg_after
    return before + text + after


# Per locale: whether Babel writes a whole number as Python's "{:,}" does (checked once
# on a probe, as for money).
_PLAIN_INTEGERS: dict[str, bool] = {}


# Per (locale, format): Babel's Locale and parsed NumberPattern, which format_decimal and
# format_percent build anew on every call (a third of their time: a risk page formats some
# hundred figures). pattern.apply with the same defaults is their output exactly.
_PATTERNS: dict[tuple[str, str | None, str], tuple[Locale, NumberPattern]] = {}


def _pattern(locale: str, format: str | None, kind: str) -> tuple[Locale, NumberPattern]:
    key = (locale, format, kind)
    found = _PATTERNS.get(key)
    if found is None:
        loc = Locale.parse(locale)
        if format is None:
            format = (loc.decimal_formats if kind == "decimal" else loc.percent_formats)[None]
        found = _PATTERNS[key] = (loc, parse_pattern(format))
    return found


def _format_decimal(value, locale: str) -> str:
    """``babel.numbers.format_decimal(value, locale=locale)``, with the pattern kept."""
    loc, pattern = _pattern(locale, None, "decimal")
    return pattern.apply(value, loc)


def _format_percent(value, format: str, locale: str) -> str:
    """``babel.numbers.format_percent(value, format=format, locale=locale)``, kept pattern."""
    loc, pattern = _pattern(locale, format, "percent")
    return pattern.apply(value, loc)


def number(value) -> str:
    """A number for the locale (Babel's format_decimal); a whole number without Babel's
    pattern work when the locale writes it as ``1,234,567``."""
    if value is None:
        return "—"
    locale = _locale()
    if type(value) is int:
        plain = _PLAIN_INTEGERS.get(locale)
        if plain is None:
            plain = _PLAIN_INTEGERS[locale] = all(
                format_decimal(v, locale=locale) == f"{v:,}" for v in (1234567, -1234567, 0))
        if plain:
            return f"{value:,}"
    return _format_decimal(value, locale)


def percent(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    return _format_percent(Decimal(str(value)), "#,##0." + "0" * digits + "%", _locale())


DISPLAY_TZ = clock.DISPLAY_TZ


def _display_zone() -> ZoneInfo:
    try:
        name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") or DISPLAY_TZ
    except RuntimeError:   # no app: a script or a test formats a time
        name = DISPLAY_TZ
    return ZoneInfo(name)


def day(value: date | datetime | str | None, seconds: bool = False) -> str:
    """A date as ``2026-12-06``; a time as Beijing time (the app's
    ``BABEL_DEFAULT_TIMEZONE``), ``2026-12-06 19:12``. Times are stored in UTC: one without
    a zone is read as UTC. An ISO text (a committed document's ``…Z`` time) is read first."""
    if value is None:
        return "—"
    if isinstance(value, str):
        if "T" not in value:   # a date or already text
            return value
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        local = aware.astimezone(_display_zone())
        try:   # the page says once, at its foot, which zone its times are in
            g.trellis_shown_time = True
        except RuntimeError:   # no request: a script or a message
            pass
        return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
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


def sentences(messages) -> str:
    """Several stored messages (a decision's reasons) as one run of text in the reader's
    language: a message that ends a sentence (``。`` or ``.``) is followed by the next one
    directly (a space in English), others by ``；`` (``; ``): never ``。；``."""
    zh = _locale().startswith("zh")
    out = ""
    for text in (render(m) for m in messages or ()):
        text = text.strip()
        if not text:
            continue
        if out:
            ended = out.endswith(("。", "！", "？", ".", "!", "?"))
            out += ("" if ended else "；") if zh else (" " if ended else "; ")
        out += text
    return out


def translate(msgid: str) -> str:
    """*msgid* (a message without parameters) in the reader's language, through the
    request's catalogue: what ``gettext`` returns, without its lookups on each call."""
    return _translations().ugettext(msgid)


def gettext(string: str, **variables) -> str:
    """flask-babel's ``gettext`` (the translation, then ``%`` with *variables* when given),
    through the request's catalogue found once (:func:`_translations`)."""
    s = _translations().ugettext(string)
    return s if not variables else s % variables


def text(value) -> str:
    """``str(value)``; a ``lazy_gettext`` string is translated as its ``str`` would be, by
    :func:`gettext` (a risk page turns some hundred lazy labels into text)."""
    if (isinstance(value, LazyString) and value._func is _gettext and not value._kwargs
            and len(value._args) == 1):
        return gettext(value._args[0])
    return str(value)


def _translations():
    """This request's catalogue, looked up once a request: flask-babel finds it anew for
    each message (several context lookups and the locale's name each time), which a page
    of rows pays hundreds of times. Kept where flask-babel's ``refresh`` and
    ``force_locale`` clear it, so a changed locale is still seen."""
    try:
        ctx = g._flask_babel
    except (AttributeError, RuntimeError):  # the request's first message, or no request
        return get_translations()
    found = getattr(ctx, "babel_translations", None)
    if found is None:
        found = ctx.babel_translations = get_translations()
    return found


@pass_context
def _template_gettext(__context, __string: str, **variables) -> str:
    """Jinja's new-style ``gettext``/``_`` (the same result: the translation, as Markup when
    the template autoescapes, always %-formatted with *variables*), with a words-only
    message's result kept per catalogue. A list's headers, data labels and badges repeat
    the same few words on every row; Jinja's own callable pays a context call, a Markup
    and a Markup %-format for each."""
    translations = _translations()
    autoescape = __context.eval_ctx.autoescape
    if not variables:
        try:
            cache = translations._trellis_words
        except AttributeError:
            cache = translations._trellis_words = {}
        key = (__string, autoescape)
        found = cache.get(key)
        if found is None:
            found = cache[key] = _format(translations.ugettext(__string), autoescape, {})
        return found
    return _format(translations.ugettext(__string), autoescape, variables)


def _format(text: str, autoescape: bool, variables: dict) -> str:
    return (Markup(text) if autoescape else text) % variables


def init_app(app) -> None:
    compile_catalogs()
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True)
    # ``_`` straight to the callable (Jinja's ``_`` resolves ``gettext`` on each call)
    app.jinja_env.globals["gettext"] = app.jinja_env.globals["_"] = _template_gettext
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["msg"] = render
    app.jinja_env.filters["sentences"] = sentences
    app.jinja_env.filters["label"] = param_text
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["shown_time"] = lambda: bool(g.get("trellis_shown_time"))
    app.jinja_env.globals["error_text"] = error_text
    # the colon after a label, as the reader's language writes it (全角 in Chinese)
    app.jinja_env.globals["colon"] = lambda: "：" if _locale().startswith("zh") else ": "
    # brackets and the comma inside a sentence, likewise (reader 12, G14: "(内置)",
    # "链 1, 区块 185"): "（" / "）" / "，" in Chinese; in English " (" / ")" / ", "
    app.jinja_env.globals["lp"] = lambda: "（" if _locale().startswith("zh") else " ("
    app.jinja_env.globals["rp"] = lambda: "）" if _locale().startswith("zh") else ")"
    app.jinja_env.globals["comma"] = lambda: "，" if _locale().startswith("zh") else ", "
