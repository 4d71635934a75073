"""Messages for people, kept as a template and typed parameters until the last moment.

A core never knows the reader's language. It says what happened as an English template
with ``%(name)s`` placeholders, marked for extraction with :func:`N_`, and the values as
parameters. The web layer (``trellis.platform.i18n.render``) looks the template up in the
reader's catalogue and formats each parameter for the locale: a :class:`Money` in yuan
(``¥610,443.00``), a date in the locale, a number with separators. ``str()`` of a message
stays English, for logs and the command line.

Messages that are stored (a decision's reasons, an import's result) are kept as plain
JSON by :meth:`Message.to_json`; :func:`Message.from_json` reads them back, and a legacy
plain string reads as a template with no parameters.

No Flask here: the cores import this module.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

_NUMBER_PLACEHOLDER = re.compile(r"%\((\w+)\)[dif]")


def as_text_placeholders(template: str) -> str:
    """``%(n)d`` -> ``%(n)s``: parameters arrive formatted for the locale, as text."""
    return _NUMBER_PLACEHOLDER.sub(r"%(\1)s", template)


def N_(template: str) -> str:
    """Mark ``template`` for extraction into the catalogues; return it unchanged."""
    return template


class Money(int):
    """An amount in integer fen, shown to people in yuan with the currency sign."""

    def __repr__(self) -> str:
        return f"Money({int(self)})"


class Ident(int):
    """A number that names something (a record's id, a chain id, a block number): shown as
    its digits in every locale, never grouped like an amount (31337, not 31,337)."""

    def __repr__(self) -> str:
        return f"Ident({int(self)})"


#: parameter names that hold an identifier, whatever their type (see :func:`is_ident_name`)
IDENT_NAMES = frozenset({"id", "ids", "chain", "block", "nonce", "year", "port", "batch",
                         "reference", "record", "version"})


def is_ident_name(name: str) -> bool:
    """Whether a parameter called *name* names something rather than counts it: ``id``,
    ``*_id``, ``*_ids``, ``chain_id``, ``block``, ``block_number``, ``nonce``, a year or a
    port. Such a parameter is never grouped with thousands separators (see :func:`render`)."""
    low = name.lower()
    return (low in IDENT_NAMES or low.endswith(("_id", "_ids")) or low.startswith("block")
            or low.endswith(("_block", "_nonce", "_year", "_port")))


class Percent(Decimal):
    """A fraction (0.1258 for 12.58%) shown as a percentage."""


def english(value: Any) -> str:
    """A parameter as plain English text, for logs and the command line."""
    if isinstance(value, Money):
        sign = "-" if value < 0 else ""
        return f"{sign}¥{abs(int(value)) / 100:,.2f}" if abs(value) < 10**15 else f"{value} fen"
    if isinstance(value, Percent):
        return f"{value * 100:.2f}%"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Message):
        return str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(english(v) for v in value)
    if isinstance(value, dict) and "en" in value:   # a label in both languages
        return str(value["en"])
    return str(value)


def _encode(value: Any) -> Any:
    if isinstance(value, Money):
        return {"fen": int(value)}
    if isinstance(value, Ident):
        return {"ident": int(value)}
    if isinstance(value, Percent):
        return {"percent": str(value)}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, Message):
        return {"message": value.to_json()}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (kind, raw), = value.items()
        if kind == "fen":
            return Money(raw)
        if kind == "ident":
            return Ident(raw)
        if kind == "percent":
            return Percent(raw)
        if kind == "datetime":
            return datetime.fromisoformat(raw)
        if kind == "date":
            return date.fromisoformat(raw)
        if kind == "message":
            return Message.from_json(raw)
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


@dataclass(frozen=True)
class Message:
    """An English ``template`` with ``%(name)s`` placeholders and its ``params``."""

    template: str
    params: dict = field(default_factory=dict)

    def __str__(self) -> str:
        if not self.params:
            return self.template
        return as_text_placeholders(self.template) % {k: english(v)
                                                      for k, v in self.params.items()}

    def to_json(self) -> dict:
        """The message as stored: template and parameters, Money and dates encoded."""
        return {"t": self.template, "p": {k: _encode(v) for k, v in self.params.items()}}

    def dumps(self, limit: int | None = None) -> str:
        """As text for a string column: the template alone when it has no parameters,
        else compact JSON; past *limit* characters, the English text cut to fit."""
        if not self.params:
            return self.template[:limit] if limit else self.template
        text = json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))
        if limit and len(text) > limit:
            return str(self)[:limit]
        return text

    @classmethod
    def loads(cls, text: str | None) -> Message:
        """Read back :meth:`dumps` (and any plain string)."""
        if text and text.startswith('{"t":'):
            try:
                return cls.from_json(json.loads(text))
            except ValueError:
                pass
        return cls(text or "")

    @classmethod
    def from_json(cls, raw: Any) -> Message:
        """Read back :meth:`to_json`; a plain string is a template with no parameters."""
        if isinstance(raw, Message):
            return raw
        if isinstance(raw, str):
            return cls.loads(raw) if raw.startswith('{"t":') else cls(raw)
        if isinstance(raw, dict) and "t" in raw:
            return cls(raw["t"], {k: _decode(v) for k, v in (raw.get("p") or {}).items()})
        if isinstance(raw, dict) and "en" in raw:   # already in both languages (scoring)
            return cls(str(raw["en"]))
        return cls(str(raw))


def msg(template: str, **params: Any) -> Message:
    """A :class:`Message`; mark the template with :func:`N_` at the call site or here."""
    return Message(template, params)


class Line(str):
    """A one-line outcome (a job's, a task's): the English text itself, for logs, the
    command line and tests, that keeps its :class:`Message` so a page can show it in the
    reader's language (see :func:`stored`)."""

    message: Message

    def __new__(cls, template: str, **params: Any) -> Line:
        message = Message(template, params)
        line = super().__new__(cls, str(message))
        line.message = message
        return line


def line(template: str, **params: Any) -> Line:
    """A :class:`Line`; mark the template with :func:`N_` at the call site."""
    return Line(template, **params)


def stored(outcome: Any, limit: int | None = None) -> str:
    """*outcome* as a text column keeps it: a :class:`Line` or :class:`Message` as its
    message (JSON when it has parameters, :meth:`Message.dumps`), which a page renders in
    the reader's language; other text as it is. Cut to *limit* characters."""
    if isinstance(outcome, Line):
        return outcome.message.dumps(limit)
    if isinstance(outcome, Message):
        return outcome.dumps(limit)
    text = str(outcome)
    return text[:limit] if limit else text


#: what people read when work stopped on an error Trellis did not foresee (a driver's, a
#: library's): plain words and a reference; the exception's own text is the ``detail``
#: parameter, which the template never shows (an admin's technical section and the log do)
UNEXPECTED = N_("Stopped by an unexpected error (reference %(reference)s). The work is "
                "tried again as scheduled; if it keeps failing, give an administrator the "
                "reference.")
DETAIL_LIMIT = 800   # characters of an exception's text kept beside its message (the
# stored JSON stays under a job run's 2,000)


def unexpected(exc: BaseException, reference: str | None = None) -> Message:
    """*exc*, an error that is not a :class:`~trellis.errors.TrellisError`, as a message a
    person reads (:data:`UNEXPECTED`): a short *reference* (made when not given) to quote,
    and the technical text (``"OperationalError: ..."``) as the ``detail`` parameter, cut
    to :data:`DETAIL_LIMIT` characters. Log the reference with the traceback."""
    reference = reference or new_reference()
    detail = f"{type(exc).__name__}: {exc}"[:DETAIL_LIMIT]
    return Message(UNEXPECTED, {"reference": reference, "detail": detail})


def new_reference() -> str:
    """A short reference for one failure (``E-3F9A12C4``), quoted by people and in the log."""
    return f"E-{secrets.token_hex(4).upper()}"


def technical_detail(message) -> str:
    """The technical text an unexpected failure keeps (see :func:`unexpected`), or ""."""
    found = Message.from_json(message) if not isinstance(message, Message) else message
    detail = found.params.get("detail") if isinstance(found.params, dict) else None
    return str(detail) if detail else ""


def texts(items) -> list[str]:
    """Stored messages (see :meth:`Message.to_json`) as English text, for logs and tests."""
    return [str(Message.from_json(item)) for item in items or ()]


_SENTENCE_END = ("。", "！", "？", ".", "!", "?")


def _join(items: list[str], zh: bool) -> str:
    """A list in running text: names with 、 (", "); sentences (any item ends like one,
    e.g. two decline reasons) with ； ("; ") and one full stop at the end, never "。、"."""
    items = [i.strip() for i in items]
    if not any(i.endswith(_SENTENCE_END) for i in items):
        return ("、" if zh else ", ").join(items)
    bare = [i.rstrip("。.") for i in items if i.rstrip("。.")]
    last = "" if bare and bare[-1].endswith(_SENTENCE_END) else ("。" if zh else ".")
    return ("；" if zh else "; ").join(bare) + last


def render(message, *, locale: str, gettext: Callable[[str], str] = lambda s: s) -> str:
    """*message* (a :class:`Message`, its stored form, or a ``{"en", "zh"}`` pair) in
    *locale*: the template through *gettext*, each parameter formatted for the locale
    (a :class:`Money` in yuan, a :class:`Percent`, dates, numbers, nested messages).
    The one formatter: the web layer passes Flask-Babel's gettext, e-mail a catalogue's."""
    # late: `trellis --help` imports this module and loads no babel otherwise
    from babel.numbers import format_currency, format_decimal, format_percent

    zh = locale.startswith("zh")
    if message is None:
        return ""
    if isinstance(message, dict) and "en" in message and "t" not in message:
        return str(message.get("zh") or message["en"]) if zh else str(message["en"])

    def param(value, ident: bool = False) -> str:
        if isinstance(value, Ident) or (ident and isinstance(value, int)
                                        and not isinstance(value, (bool, Money))):
            return str(int(value))   # an id is its digits in every locale
        if isinstance(value, Money):
            return format_currency(Decimal(int(value)) / 100, "CNY", locale=locale)
        if isinstance(value, Percent):
            return format_percent(value, format="#,##0.00%", locale=locale)
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, (Message, dict)) and not (isinstance(value, dict)
                                                        and "en" in value and "t" not in value):
            return render(value, locale=locale, gettext=gettext)
        if isinstance(value, dict) and "en" in value:
            return str(value.get("zh") or value["en"]) if zh else str(value["en"])
        if isinstance(value, bool):
            return gettext("yes") if value else gettext("no")
        if isinstance(value, (int, Decimal)):
            return format_decimal(value, locale=locale)
        if isinstance(value, (list, tuple)):
            return _join([param(v, ident) for v in value], zh)
        return str(value)

    found = Message.from_json(message)
    text = gettext(found.template) if found.template else ""
    if not found.params:
        return text
    try:
        return as_text_placeholders(text) % {k: param(v, is_ident_name(k))
                                             for k, v in found.params.items()}
    except (KeyError, ValueError, TypeError):   # a catalogue entry with a bad placeholder
        return str(found)
