"""The double-financing registry: keyed fingerprints of invoices and orders on chain.

A fingerprint is HMAC-SHA256, keyed with ``settings.fingerprint_key`` (shared among the
financiers that use the registry, secret from everyone else), over the normalised
invoice or order::

    v1|<kind>|<variant>|<seller USCC>|<buyer USCC>|<number>|<amount fen>|<ISO date>

Variants, so that a receivable re-presented with a changed number is still caught:

- ``full``: every field;
- ``no_number``: without the number (same parties, amount and date).

Numbers are normalised (NFKC, upper case, letters and digits only, leading zeros
dropped), so "INV-0042" and "inv 42" are the same number.

A voucher part (a fragment of a digital payable voucher) has one fingerprint::

    v1|fragment|full|<anchor USCC>|<original seller USCC>|<invoice number>|<path>|<amount fen>

where the path is the fragment ids from the voucher's root down to the part
(``"12/15/18"``). Financing a part also registers, for the voucher (subject type
``voucher``), the fingerprints of the invoice the voucher was issued from, shared by all
the voucher's parts: so the invoice financed directly (by Trellis or anyone) and through
a part is refused, whichever comes first. Before money is advanced,
:func:`register_financing` registers all fingerprints of the receivables in one
transaction; the contract refuses the whole list if any is already registered, by Trellis
or any other financier, and the refusal names the invoice.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from eth_utils import keccak
from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from trellis import clock
from trellis.chain import contract as contract_mod
from trellis.chain import nonces
from trellis.chain.errors import (
    ChainError,
    ChainMisconfigured,
    ChainUnavailable,
    DoubleFinancing,
    FeeCeilingReached,
    TransactionReverted,
    TxRefused,
)
from trellis.chain.models import ChainTx, Fingerprint, Instance, TxState
from trellis.clock import utcnow
from trellis.errors import NotFound, ValidationError
from trellis.messages import N_, msg
from trellis.trade import uscc as uscc_mod
from trellis.trade.models import Firm, Invoice, PurchaseOrder

if TYPE_CHECKING:
    from trellis.chain.client import Chain
    from trellis.chain.transactions import Receipt
    from trellis.config import Settings


logger = logging.getLogger(__name__)

VARIANTS = ("full", "no_number")
RECEIPT_TIMEOUT_SECONDS = 120
SEND_ATTEMPTS = 3


def normalise_number(number: str) -> str:
    """An invoice or order number as fingerprinted: NFKC, upper case, separators dropped and leading
    zeros of digit runs removed ("INV-007" and "inv 7" match)."""
    text = unicodedata.normalize("NFKC", str(number)).upper()
    runs = re.findall(r"[^\W_]+", text)  # letters and digits between separators
    return "".join(re.sub(r"(?<![0-9])0+(?=[0-9])", "", run) for run in runs)


def fingerprints(key: str, *, kind: str, seller_uscc: str, buyer_uscc: str, number: str,
                 amount_fen: int, issued_on: date) -> dict[str, str]:
    """The fingerprints of one receivable, by variant, as ``0x`` + 64 hex digits."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise ValidationError(N_("the amount must be a whole number of fen"), field="amount_fen")
    seller, buyer = uscc_mod.normalise(seller_uscc), uscc_mod.normalise(buyer_uscc)
    fields = {"full": [seller, buyer, normalise_number(number)],
              "no_number": [seller, buyer]}
    out = {}
    for variant in VARIANTS:
        message = "|".join(["v1", kind, variant, *fields[variant], str(amount_fen),
                            issued_on.isoformat()])
        out[variant] = "0x" + hmac.new(key.encode("utf-8"), message.encode("utf-8"),
                                       hashlib.sha256).hexdigest()
    return out


def fragment_fingerprint(key: str, *, anchor_uscc: str, seller_uscc: str, number: str,
                         path: str, amount_fen: int) -> str:
    """The fingerprint of one voucher part (``0x`` + 64 hex digits); *path* is the
    fragment ids from the voucher's root down to the part, joined by ``/``."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise ValidationError(N_("the amount must be a whole number of fen"), field="amount_fen")
    message = "|".join(["v1", "fragment", "full", uscc_mod.normalise(anchor_uscc),
                        uscc_mod.normalise(seller_uscc), normalise_number(number), path,
                        str(amount_fen)])
    return "0x" + hmac.new(key.encode("utf-8"), message.encode("utf-8"),
                           hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Subject:
    kind: str  # invoice, order, fragment, voucher
    id: int
    label: str
    prints: dict[str, str]


def _subjects(session: Session, key: str, invoice_ids: Sequence[int],
              order_ids: Sequence[int]) -> list[Subject]:
    seller, buyer = aliased(Firm), aliased(Firm)
    out: list[Subject] = []
    sources: tuple[tuple[str, type[Invoice] | type[PurchaseOrder], Sequence[int], date], ...] = (
        ("invoice", Invoice, invoice_ids, Invoice.issue_date),
        ("order", PurchaseOrder, order_ids, PurchaseOrder.order_date))
    for kind, model, wanted, day in sources:
        ids = list(dict.fromkeys(wanted))
        if not ids:
            continue
        rows = {row[0]: row for row in session.execute(
            select(col(model.id), col(seller.uscc), col(seller.name), col(buyer.uscc),
                   col(buyer.name), col(model.number), col(model.amount_fen), col(day))
            .join(seller, col(seller.id) == col(model.seller_id))
            .join(buyer, col(buyer.id) == col(model.buyer_id))
            .where(col(model.id).in_(ids)))}
        for i in ids:
            if i not in rows:
                raise NotFound(msg(N_("invoice %(i)s does not exist") if kind == "invoice"
                                   else N_("order %(i)s does not exist"), i=i))
            _, s_uscc, s_name, b_uscc, b_name, number, amount, on = rows[i]
            label = (f"{kind} {number} from {s_name} ({s_uscc}) to {b_name} ({b_uscc}), "
                     f"{amount / 100:,.2f} CNY of {on.isoformat()}")
            out.append(Subject(kind, i, label, fingerprints(
                key, kind=kind, seller_uscc=s_uscc, buyer_uscc=b_uscc, number=number,
                amount_fen=amount, issued_on=on)))
    return out


PartSubjects = Callable[[Session, str, Sequence[int]], list[Subject]]
_part_subjects: PartSubjects | None = None


def provide_part_subjects(fn: PartSubjects) -> None:
    """Hand the registry the subjects of financed parts (``voucher_fragments.id``):
    ``fn(session, key, ids)`` returns each part's subject and one ``voucher`` subject per
    voucher with its invoice's fingerprints. ``trellis.vouchers`` provides it on import;
    the chain does not import the packages above it."""
    global _part_subjects
    _part_subjects = fn


def _fragment_subjects(session: Session, key: str,
                       fragment_ids: Sequence[int]) -> list[Subject]:
    if _part_subjects is None:
        raise ValidationError(msg(N_("voucher parts cannot be registered in this process: import "
                                     "%(module)s"),
                                  module="trellis.vouchers"), field="fragment_ids")
    return _part_subjects(session, key, fragment_ids)


def _refuse(subject: Subject, why: str) -> DoubleFinancing:
    return DoubleFinancing(f"Financing refused: {subject.label} {why}",
                           subjects=[subject.label])


def instance_id(session: Session) -> str:
    """This database's own identity (made by its migration, never changed)."""
    row = session.get(Instance, 1)
    if row is None:
        raise ChainMisconfigured(msg(N_("this database has no instance id: run %(command)s"),
                                     command="trellis db upgrade"))
    return row.instance_id


def claim_of(session: Session, financing_ref: str) -> str:
    """The claim a registration is made under: keccak256 of
    ``trellis-claim-v1|<instance id>|<financing ref>``, ``0x`` + 64 hex digits. Only this
    database, financing *financing_ref*, makes it; the chain shows it to everyone."""
    text = f"trellis-claim-v1|{instance_id(session)}|{financing_ref}"
    return "0x" + keccak(text.encode("utf-8")).hex()


def register_financing(*, session: Session, settings: Settings,
                       invoice_ids: Sequence[int] = (), order_ids: Sequence[int] = (),
                       financed_by: str = "trellis", fragment_ids: Sequence[int] = (),
                       financing_ref: str | None = None) -> list[str]:
    """Register on chain the fingerprints of the invoices, orders and voucher parts
    (``voucher_fragments.id``) about to be financed; returns every fingerprint of them
    (hex). Synchronous: waits for the
    transaction (call it from a job or CLI, not a fast web request).

    Every registration carries a claim (:func:`claim_of`) naming this database and the
    financing (*financing_ref*, e.g. ``loan:17:<created at>``; default: the receivables
    themselves). Idempotent for the same financing: a retry after a crash finds its own
    claim on chain and records it. Raises :class:`DoubleFinancing` naming the
    invoice/order if a fingerprint is registered under any other claim: another
    financier, another database sharing this anchoring key, this database for another
    financing (or before a restore); or if it is twice in the request (a voucher part
    whose invoice was financed directly is refused naming the voucher);
    :class:`~trellis.chain.errors.ChainUnavailable` if the node is down. Flushes only.
    """
    subjects = _subjects(session, settings.fingerprint_key, invoice_ids, order_ids)
    if fragment_ids:
        subjects += _fragment_subjects(session, settings.fingerprint_key, fragment_ids)
    if not subjects:
        raise ValidationError(N_("name at least one invoice or order to finance"),
                              field="invoice_ids")
    if financing_ref is None:
        financing_ref = "subjects:" + ",".join(sorted(f"{s.kind}:{s.id}" for s in subjects))
    claim = claim_of(session, financing_ref)
    owner: dict[str, Subject] = {}
    for subject in subjects:
        for fp in subject.prints.values():
            if fp in owner and owner[fp] is not subject:
                raise _refuse(subject, f"looks like the same receivable as {owner[fp].label}")
            owner[fp] = subject
    known = {row.fingerprint: row for row in session.scalars(
        select(Fingerprint).where(col(Fingerprint.fingerprint).in_(list(owner))))}
    for fp, row in known.items():
        subject = owner[fp]
        if (row.subject_type, row.subject_id) != (subject.kind, subject.id):
            raise _refuse(subject, f"is already financed: it matches {row.label} "
                          f"(financed by {row.financed_by} on "
                          f"{clock.day_of(row.registered_at).isoformat()})")
        # The same receivable recorded here is ours only for the same financing (a
        # retry) or, for a voucher's invoice prints, which all its parts share, for any
        # part. Another financing of the same invoice, order or part by this database
        # (two loans on one invoice) is refused like anyone else's: the registry is the
        # second line behind the database's own rule (trellis.ledger.claims). Records
        # from before claims were kept (claim NULL) stay ours.
        if subject.kind != "voucher" and row.claim is not None and row.claim != claim:
            raise _refuse(subject, f"is already financed by this platform under another "
                          f"financing (registered on "
                          f"{clock.day_of(row.registered_at).isoformat()})")
    # late: the node client imports web3 (seconds); the pages import this module
    from trellis.chain.client import get_chain

    chain = get_chain(settings)
    chain.check()
    new: list[str] = []
    for fp, subject in owner.items():
        if fp in known:
            continue
        registration = chain.registration_of(fp)
        if registration is None:
            new.append(fp)
        elif registration == (chain.address, claim):
            # Registered by this very financing in a run whose database record was lost
            # (a crash before the commit): only our key AND our claim prove that.
            logger.warning("fingerprint %s of %s was registered by this financing without "
                           "a record; recording it", fp, subject.label)
            _save(session, fp, subject, financed_by, chain, None, claim)
        else:
            raise _refuse(subject, _taken_by(chain, registration))
    for start in range(0, len(new), contract_mod.MAX_FINGERPRINTS):
        chunk = new[start:start + contract_mod.MAX_FINGERPRINTS]
        tx_hash = _send_register(session, chain, chunk, owner, claim, settings)
        for fp in chunk:
            _save(session, fp, owner[fp], financed_by, chain, tx_hash, claim)
    if new:
        chain.persist()
    session.flush()
    if new:
        logger.info("registered %s fingerprints for %s", len(new),
                    ", ".join(sorted({owner[fp].label for fp in new})))
    return [fp for subject in subjects for fp in subject.prints.values()]


def registered_subjects(kind: str) -> Any:
    """A select of the ids of the invoices (*kind* ``"invoice"``) or orders (``"order"``)
    this database registered for financing under a claim: what :func:`register_financing`
    refuses for any other financing, ever (the contract has no release), for a list to
    leave out. Records from before claims were kept (claim NULL) are not refused, so not
    in it."""
    return (select(col(Fingerprint.subject_id))
            .where(col(Fingerprint.subject_type) == kind, col(Fingerprint.claim).is_not(None)))


def registered(session: Session, *, invoice_ids: Sequence[int] = (),
               order_ids: Sequence[int] = ()) -> set[tuple[str, int]]:
    """Those of these invoices and orders (``("invoice", id)``, ``("order", id)``) this
    database registered for financing under a claim (see :func:`registered_subjects`)."""
    out: set[tuple[str, int]] = set()
    for kind, ids in (("invoice", invoice_ids), ("order", order_ids)):
        if ids:
            out |= {(kind, int(i)) for i in session.scalars(
                registered_subjects(kind).where(col(Fingerprint.subject_id).in_(list(ids))))}
    return out


def _taken_by(chain: Chain, registration: tuple[str, str]) -> str:
    registrant, _ = registration
    if registrant == chain.address:
        return ("is already registered for financing under another claim: another "
                "database sharing this anchoring key, or this one for another financing "
                f"(account {registrant})")
    return f"is already registered for financing by another financier (account {registrant})"


def _save(session: Session, fp: str, subject: Subject, financed_by: str, chain: Chain,
          tx_hash: str | None, claim: str) -> None:
    variant = next(v for v, p in subject.prints.items() if p == fp)
    session.add(Fingerprint(fingerprint=fp, variant=variant, subject_type=subject.kind,
                            subject_id=subject.id, label=subject.label[:200],
                            financed_by=financed_by, registrant=chain.address,
                            chain_id=chain.chain_id, tx_hash=tx_hash, claim=claim))


def _send_register(session: Session, chain: Chain, chunk: list[str],
                   owner: dict[str, Subject], claim: str,
                   settings: Settings) -> str:
    fn = chain.contract.functions.register([bytes.fromhex(fp[2:]) for fp in chunk],
                                           bytes.fromhex(claim[2:]))
    for attempt in range(1, SEND_ATTEMPTS + 1):
        with chain.lock:
            try:
                signed = chain.sign(fn, held=lambda floor: nonces.held(session, chain,
                                                                        floor))
            except TransactionReverted as exc:
                _raise_if_taken(chain, chunk, owner, claim)
                raise exc
            record = ChainTx(kind="register", chain_id=signed.chain_id,
                             sender=signed.sender, nonce=signed.nonce,
                             tx_hash=signed.tx_hash, raw=signed.raw,
                             max_fee_per_gas=signed.max_fee_per_gas,
                             max_priority_fee_per_gas=signed.max_priority_fee_per_gas,
                             state=TxState.SIGNED)
            session.add(record)
            session.flush()
            try:
                chain.send_raw(signed.raw)
            except TxRefused as exc:
                record.state, record.error = TxState.DROPPED, exc.message
                session.flush()
                if attempt == SEND_ATTEMPTS:
                    raise
                continue
            except TransactionReverted:
                _raise_if_taken(chain, chunk, owner, claim)
                raise
            except ChainUnavailable:
                # Our caller rolls the record back: release the nonce, or every later
                # transaction would wait behind it.
                chain.forget_nonce(signed.nonce)
                raise
            record.state, record.sent_at = TxState.SENT, utcnow()
            session.flush()
        tx, receipt = _await_mined(session, chain, fn, record, settings)
        tx.state = TxState.MINED if receipt.status == 1 else TxState.FAILED
        session.flush()
        if receipt.status != 1:
            _raise_if_taken(chain, chunk, owner, claim)
            raise TransactionReverted(msg(N_("registering fingerprints failed in transaction "
                                             "%(tx_hash)s"), tx_hash=tx.tx_hash), reason="reverted")
        return tx.tx_hash
    raise AssertionError("unreachable")


def _await_mined(session: Session, chain: Chain, fn: Any, first: ChainTx,
                 settings: Settings) -> tuple[ChainTx, Receipt]:
    """Wait for the registration *first* (or a replacement of it) to be mined. Stuck for
    ``chain_stuck_seconds`` (at most a quarter of RECEIPT_TIMEOUT_SECONDS: the caller
    waits), it is replaced: same nonce and call, fees raised 25% up to the ceiling (at
    the ceiling it is left waiting, logged). Returns (the mined record, its receipt);
    raises ChainError after RECEIPT_TIMEOUT_SECONDS."""
    stuck_after = min(getattr(settings, "chain_stuck_seconds", 180),
                      RECEIPT_TIMEOUT_SECONDS // 4)
    started = last_sent = time.monotonic()
    sent = [first]
    while True:
        for tx in reversed(sent):
            receipt = chain.receipt(tx.tx_hash)
            if receipt is not None:
                for other in sent:
                    if other is not tx:
                        other.state = TxState.REPLACED
                return tx, receipt
        now = time.monotonic()
        if now - started > RECEIPT_TIMEOUT_SECONDS:
            raise ChainError(msg(N_("registration transaction %(tx_hash)s (nonce "
                                    "%(nonce)s) was not mined in %(seconds)s s"),
                                 tx_hash=first.tx_hash, nonce=first.nonce,
                                 seconds=RECEIPT_TIMEOUT_SECONDS))
        if now - last_sent >= stuck_after:
            last_sent = now
            newest = sent[-1]
            try:
                fees = chain.bumped(newest.max_fee_per_gas, newest.max_priority_fee_per_gas,
                                    chain.fees())
                signed = chain.sign(fn, nonce=first.nonce, fees=fees)
            except FeeCeilingReached as exc:
                logger.error("registration %s: %s", first.tx_hash, exc.message)
                continue
            except TransactionReverted:
                continue  # mined meanwhile: the receipt shows it next time round
            record = ChainTx(kind="register", chain_id=signed.chain_id, sender=signed.sender,
                             nonce=signed.nonce, tx_hash=signed.tx_hash, raw=signed.raw,
                             max_fee_per_gas=signed.max_fee_per_gas,
                             max_priority_fee_per_gas=signed.max_priority_fee_per_gas,
                             state=TxState.SIGNED)
            session.add(record)
            session.flush()
            try:
                chain.send_raw(signed.raw)
            except TxRefused as exc:  # the nonce is used: one of ours was mined
                record.state, record.error = TxState.DROPPED, exc.message
                session.flush()
                continue
            logger.warning("registration %s stuck; replaced with %s (max fee %s -> %s)",
                           newest.tx_hash, signed.tx_hash, newest.max_fee_per_gas,
                           signed.max_fee_per_gas)
            record.state, record.sent_at = TxState.SENT, utcnow()
            newest.state = TxState.REPLACED
            session.flush()
            sent.append(record)
        time.sleep(0.2 if chain.kind == "rpc" else 0.01)


def _raise_if_taken(chain: Chain, chunk: list[str], owner: dict[str, Subject],
                    claim: str) -> None:
    for fp in chunk:
        registration = chain.registration_of(fp)
        if registration is not None and registration != (chain.address, claim):
            raise _refuse(owner[fp], _taken_by(chain, registration) + " (a moment ago)")
