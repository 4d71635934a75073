"""Chain documents and batch states in the reader's words.

A committed document is stored by type and key (``confirmation`` / ``order:16676``); a
person reads what it is: 确权 · 订单 PO-2026-0042, 发票 INV-…, 账簿分录 12. The number is
read from the committed text itself, so the words name the document that was anchored.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from flask import g
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from trellis.chain import scope as chain_scope
from trellis.chain.models import Batch
from trellis.platform.i18n import day, money, number, render

logger = logging.getLogger(__name__)

DOC_TYPES = {
    "invoice": _l("Invoice"), "order": _l("Order"), "confirmation": _l("Confirmation"),
    "ledger_entry": _l("Ledger entry"), "voucher_event": _l("Voucher event"),
}
SUBJECTS = {"invoice": _l("Invoice"), "order": _l("Order")}
FIELDS = {
    "subject": _l("Document"), "seller_uscc": _l("Seller's USCC"),
    "buyer_uscc": _l("Buyer's USCC"), "number": _l("Number"), "amount_fen": _l("Amount"),
    "issue_date": _l("Issue date"), "due_date": _l("Due date"),
    "order_number": _l("Order number"), "order_date": _l("Order date"),
    "decision": _l("Decision"), "confirmed_at": _l("Decided at"),
}
DECISIONS = {"confirmed": _l("Confirmed"), "rejected": _l("Refused")}

#: chains by id, as an auditor names them (an id not here reads "chain <id>"); the names
#: are the chain core's (:data:`trellis.chain.scope.CHAIN_NAMES`)
CHAINS = {chain_id: _l(name) for chain_id, name in chain_scope.CHAIN_NAMES.items()}


def chain_name(chain_id) -> str:
    """The chain a batch was anchored on, in words, with its id as digits."""
    if chain_id is None:
        return "—"
    name = CHAINS.get(int(chain_id))
    if name is None:
        return gettext("chain %(chain_id)s", chain_id=str(int(chain_id)))
    return gettext("%(name)s (chain id %(chain_id)s)", name=name, chain_id=str(int(chain_id)))


def short_chain_name(chain_id) -> str:
    """The chain's name without its id (``Sepolia test network (Ethereum)``), or ``chain
    <id>`` for one not in :data:`CHAINS` (:func:`trellis.chain.scope.chain_label`)."""
    return render(chain_scope.chain_label(None if chain_id is None else int(chain_id)))


@dataclass(frozen=True)
class ScopeWords:
    """What the pages may say about anchoring on the configured chain (see
    :mod:`trellis.chain.scope`): ``claim`` (the footer), ``badge`` (a document's "anchored"
    badge), ``check`` (how a proof bundle can be checked, before the command) and whether
    to show the command (``command``: not on the embedded chain, which nobody else can
    ask)."""

    kind: str
    claim: str
    badge: str
    check: str
    command: bool


def _recorded_chain_id(session) -> int | None:
    # the footer of every page asks, error pages included: a database that does not
    # answer leaves the chain unnamed rather than failing the page
    try:
        return session.scalars(select(Batch.chain_id).where(Batch.chain_id.is_not(None))
                               .order_by(Batch.id.desc()).limit(1)).first()
    except SQLAlchemyError:
        logger.warning("could not read the chain id of the latest batch", exc_info=True)
        return None


def found_scope(settings, session=None) -> chain_scope.ChainScope:
    """The scope of *settings*' chain. *session* is asked for the chain id of the latest
    anchored batch only when the settings pin none."""
    recorded = (_recorded_chain_id(session) if settings.chain_url and not settings.chain_id
                and session is not None else None)
    return chain_scope.scope(settings, recorded_chain_id=recorded)


def scope_json(found: chain_scope.ChainScope) -> dict:
    """The scope as the API and ``--json`` output carry it: the machine-readable fields
    (:func:`trellis.chain.scope.as_dict`), the chain's name and the claim, both in the
    reader's language."""
    return {**chain_scope.as_dict(found), "chain_name": short_chain_name(found.chain_id),
            "claim": render(chain_scope.claim(found))}


def request_scope_json() -> dict:
    """:func:`scope_json` of this app's chain, for an API answer that claims anchoring."""
    from trellis.platform.web import db, settings

    return scope_json(found_scope(settings(), db()))


def scope_headers() -> dict[str, str]:
    """The headers every proof bundle answer carries, the API's and the pages' downloads
    alike (reader 13, J15: the vendor's download had none): ``Trellis-Chain-Scope``
    (the kind, and ``; chain-id=N`` when known) and a ``Link`` to the scope's words."""
    from flask import url_for

    found = request_scope_json()
    chain_id = "" if found["chain_id"] is None else f"; chain-id={found['chain_id']}"
    return {"Trellis-Chain-Scope": found["kind"] + chain_id,
            "Link": f'<{url_for("chain_api.scope")}>; rel="describedby"'}


def scope_words(settings, session=None) -> ScopeWords:
    """The words for *settings*' chain, in the reader's language. *session* is asked for
    the chain id of the latest anchored batch only when the settings pin none."""
    found = found_scope(settings, session)
    claim = render(chain_scope.claim(found))
    if found.kind == chain_scope.EMBEDDED:
        return ScopeWords(
            found.kind, claim,
            gettext("Anchored on the test chain inside this server"),
            gettext("This proof is anchored on the test chain inside this server: only this "
                    "platform can read that chain, so nobody outside it can check the bundle "
                    "against the chain. Where Trellis anchors on a public network, anyone can "
                    "check a bundle with the command-line verifier against any node of that "
                    "network."),
            False)
    name = short_chain_name(found.chain_id)
    if found.kind == chain_scope.LOCAL:
        return ScopeWords(
            found.kind, claim,
            gettext("Anchored on the development chain"),
            gettext("This proof is anchored on a development chain (%(chain)s) whose node is "
                    "at %(node)s: only those who can reach that node can check the bundle, "
                    "with the command-line verifier, against the registries this bank "
                    "publishes:", chain=name, node=found.host),
            True)
    return ScopeWords(
        found.kind, claim,
        gettext("Anchored on %(chain)s", chain=name),
        gettext("Anyone can check the bundle without signing in to this platform: the "
                "command-line verifier asks any node of %(chain)s, against the registries "
                "this bank publishes:", chain=name),
        True)


def request_scope_words() -> ScopeWords:
    """:func:`scope_words` of this app's settings, worked out once a request (the footer
    of every page asks)."""
    from trellis.platform.web import db, settings

    found = g.get("trellis_scope_words")
    if found is None:
        found = g.trellis_scope_words = scope_words(settings(), db())
    return found


def fee_words(gas_used, price_wei, fee_wei) -> str:
    """An anchoring's network fee as an auditor reads it: the gas the transaction used,
    the price per unit in gwei and the fee in ether (the chain's unit, ETH), said to be
    the network's charge to the platform's anchoring account, not money anyone owes."""
    gwei = f"{int(price_wei) / 10**9:.9f}".rstrip("0").rstrip(".") if price_wei else "0"
    eth = f"{int(fee_wei) / 10**18:.12f}".rstrip("0").rstrip(".")
    return gettext("%(gas)s units of gas at %(gwei)s gwei a unit: %(eth)s ether (ETH), the "
                   "network's fee paid by the platform's anchoring account, not an amount "
                   "anyone owes", gas=number(int(gas_used or 0)), gwei=gwei, eth=eth)


def _field(doc, name: str):
    """A document's *name*, from a stored document or a proof bundle's ``document``."""
    return doc.get(name) if isinstance(doc, dict) else getattr(doc, name, None)


def _payload(doc) -> dict:
    try:
        data = json.loads(_field(doc, "canonical"))
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def payload_of(doc) -> dict:
    """The committed fields of a stored document or a bundle's ``document`` ({} if none)."""
    return _payload(doc)


def doc_words(doc) -> str:
    """What a committed document is, e.g. ``确权 · 订单 PO-42`` or ``账簿分录 12``."""
    doc_type = _field(doc, "doc_type")
    kind = str(DOC_TYPES.get(doc_type, _l("Document")))
    data = _payload(doc)
    number = data.get("number")
    doc_id = _field(doc, "doc_id") or ""
    if doc_type == "confirmation":
        subject = data.get("subject") or str(doc_id).partition(":")[0]
        what = str(SUBJECTS.get(subject, _l("Document")))
        return f"{kind} · {what} {number or ''}".strip()
    if number:
        return f"{kind} {number}"
    key = str(doc_id).rpartition(":")[2]   # ledger CNY:12 -> 12; voucher event id
    return f"{kind} {key}".strip()


def field_rows(canonical: dict) -> list[tuple[str, str]]:
    """The committed fields as (label, value) in words; amounts in yuan, codes as words.
    The exact committed text is the download beside it."""
    rows = []
    for key, value in canonical.items():
        if key == "doc_type":
            continue
        label = str(FIELDS.get(key, _l("Other field")))
        if key.endswith("_fen") and isinstance(value, int):
            shown = money(value)
        elif key == "subject":
            shown = str(SUBJECTS.get(value, value))
        elif key == "decision":
            shown = str(DECISIONS.get(value, value))
        elif key.endswith("_at") and isinstance(value, str):
            shown = day(value)   # 2026-12-02T06:00:00Z -> 2026-12-02 14:00, Beijing time
        else:
            shown = "—" if value is None else str(value)
        rows.append((label, shown))
    return rows


def field_labels(message):
    """*message* (a core :class:`~trellis.messages.Message` or its stored form) with each
    ``field`` parameter, here or in a nested message, named by its label in the reader's
    language instead of the document's key (``seller_uscc`` -> 卖方统一社会信用代码)."""
    from trellis.messages import Message

    found = Message.from_json(message)

    def one(key, value):
        if isinstance(value, Message) or (isinstance(value, dict) and "t" in value):
            return field_labels(value)
        if isinstance(value, list):
            return [one(key, v) for v in value]
        if key == "field" and isinstance(value, str) and value in FIELDS:
            return str(FIELDS[value])
        return value

    return Message(found.template, {k: one(k, v) for k, v in found.params.items()})
