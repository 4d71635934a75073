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
import unicodedata
from dataclasses import dataclass
from datetime import date

from eth_utils import keccak
from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from trellis.accounts.models import utcnow
from trellis.chain import contract as contract_mod
from trellis.chain import nonces
from trellis.chain.client import TxRefused, get_chain
from trellis.chain.errors import (
    ChainMisconfigured,
    ChainUnavailable,
    DoubleFinancing,
    TransactionReverted,
)
from trellis.chain.models import ChainTx, Fingerprint, Instance, TxState
from trellis.errors import NotFound, ValidationError
from trellis.trade import uscc as uscc_mod
from trellis.trade.models import Firm, Invoice, PurchaseOrder

logger = logging.getLogger(__name__)

VARIANTS = ("full", "no_number")
RECEIPT_TIMEOUT_SECONDS = 120
SEND_ATTEMPTS = 3


def normalise_number(number: str) -> str:
    text = unicodedata.normalize("NFKC", str(number)).upper()
    runs = re.findall(r"[^\W_]+", text)  # letters and digits between separators
    return "".join(re.sub(r"(?<![0-9])0+(?=[0-9])", "", run) for run in runs)


def fingerprints(key: str, *, kind: str, seller_uscc: str, buyer_uscc: str, number: str,
                 amount_fen: int, issued_on: date) -> dict[str, str]:
    """The fingerprints of one receivable, by variant, as ``0x`` + 64 hex digits."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise ValidationError("amount_fen must be integer fen", field="amount_fen")
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
        raise ValidationError("amount_fen must be integer fen", field="amount_fen")
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


def _subjects(session: Session, key: str, invoice_ids, order_ids) -> list[Subject]:
    seller, buyer = aliased(Firm), aliased(Firm)
    out: list[Subject] = []
    for kind, model, ids, day in (("invoice", Invoice, invoice_ids, Invoice.issue_date),
                                  ("order", PurchaseOrder, order_ids,
                                   PurchaseOrder.order_date)):
        ids = list(dict.fromkeys(ids))
        if not ids:
            continue
        rows = {row[0]: row for row in session.execute(
            select(model.id, seller.uscc, seller.name, buyer.uscc, buyer.name, model.number,
                   model.amount_fen, day)
            .join(seller, seller.id == model.seller_id)
            .join(buyer, buyer.id == model.buyer_id)
            .where(model.id.in_(ids)))}
        for i in ids:
            if i not in rows:
                raise NotFound(f"{kind} {i} does not exist")
            _, s_uscc, s_name, b_uscc, b_name, number, amount, on = rows[i]
            label = (f"{kind} {number} from {s_name} ({s_uscc}) to {b_name} ({b_uscc}), "
                     f"{amount / 100:,.2f} CNY of {on.isoformat()}")
            out.append(Subject(kind, i, label, fingerprints(
                key, kind=kind, seller_uscc=s_uscc, buyer_uscc=b_uscc, number=number,
                amount_fen=amount, issued_on=on)))
    return out


def _fragment_subjects(session: Session, key: str, fragment_ids) -> list[Subject]:
    """The parts' subjects, then one ``voucher`` subject per voucher holding the
    fingerprints of the invoice it was issued from."""
    from trellis.vouchers.models import Voucher, VoucherFragment  # no import cycle

    out: list[Subject] = []
    vouchers: dict[int, Subject] = {}
    for i in dict.fromkeys(fragment_ids):
        frag = session.get(VoucherFragment, i)
        if frag is None:
            raise NotFound(f"voucher part {i} does not exist")
        voucher = session.get(Voucher, frag.voucher_id)
        invoice = session.get(Invoice, voucher.invoice_id)
        anchor, seller = session.get(Firm, voucher.issuer_id), session.get(Firm,
                                                                          invoice.seller_id)
        buyer = session.get(Firm, invoice.buyer_id)
        path, node = [], frag
        while node is not None:
            path.append(str(node.id))
            node = session.get(VoucherFragment, node.parent_id) if node.parent_id else None
        path_text = "/".join(reversed(path))
        label = (f"voucher {voucher.code} part #{frag.id} ({frag.amount_fen / 100:,.2f} CNY, "
                 f"anchor {anchor.uscc}, invoice {invoice.number} of {seller.uscc})")
        out.append(Subject("fragment", frag.id, label, {"full": fragment_fingerprint(
            key, anchor_uscc=anchor.uscc, seller_uscc=seller.uscc, number=invoice.number,
            path=path_text, amount_fen=frag.amount_fen)}))
        if voucher.id not in vouchers:
            vouchers[voucher.id] = Subject(
                "voucher", voucher.id,
                f"voucher {voucher.code} issued from invoice {invoice.number} from "
                f"{seller.name} ({seller.uscc}) to {buyer.name} ({buyer.uscc}), "
                f"{invoice.amount_fen / 100:,.2f} CNY of {invoice.issue_date.isoformat()}",
                fingerprints(key, kind="invoice", seller_uscc=seller.uscc,
                             buyer_uscc=buyer.uscc, number=invoice.number,
                             amount_fen=invoice.amount_fen, issued_on=invoice.issue_date))
    return out + list(vouchers.values())


def _refuse(subject: Subject, why: str) -> DoubleFinancing:
    return DoubleFinancing(f"Financing refused: {subject.label} {why}",
                           subjects=[subject.label])


def instance_id(session: Session) -> str:
    """This database's own identity (made by its migration, never changed)."""
    row = session.get(Instance, 1)
    if row is None:
        raise ChainMisconfigured("this database has no instance id (chain_instance): run "
                                 "`trellis db upgrade`")
    return row.instance_id


def claim_of(session: Session, financing_ref: str) -> str:
    """The claim a registration is made under: keccak256 of
    ``trellis-claim-v1|<instance id>|<financing ref>``, ``0x`` + 64 hex digits. Only this
    database, financing *financing_ref*, makes it; the chain shows it to everyone."""
    text = f"trellis-claim-v1|{instance_id(session)}|{financing_ref}"
    return "0x" + keccak(text.encode("utf-8")).hex()


def register_financing(*, session: Session, settings, invoice_ids: list[int] = (),
                       order_ids: list[int] = (), financed_by: str = "trellis",
                       fragment_ids: list[int] = (),
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
        raise ValidationError("name at least one invoice or order to finance",
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
        select(Fingerprint).where(Fingerprint.fingerprint.in_(list(owner))))}
    for fp, row in known.items():
        subject = owner[fp]
        # The same receivable recorded here (a retry, or another part of one voucher,
        # whose invoice fingerprints all its parts share) is ours; a record of this
        # database is the proof, whatever the claim it was registered under.
        if (row.subject_type, row.subject_id) != (subject.kind, subject.id):
            raise _refuse(subject, f"is already financed: it matches {row.label} "
                          f"(financed by {row.financed_by} on "
                          f"{row.registered_at.date().isoformat()})")
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
    session.flush()
    if new:
        logger.info("registered %s fingerprints for %s", len(new),
                    ", ".join(sorted({owner[fp].label for fp in new})))
    return [fp for subject in subjects for fp in subject.prints.values()]


def _taken_by(chain, registration: tuple[str, str]) -> str:
    registrant, _ = registration
    if registrant == chain.address:
        return ("is already registered for financing under another claim: another "
                "database sharing this anchoring key, or this one for another financing "
                f"(account {registrant})")
    return f"is already registered for financing by another financier (account {registrant})"


def _save(session, fp, subject: Subject, financed_by, chain, tx_hash, claim) -> None:
    variant = next(v for v, p in subject.prints.items() if p == fp)
    session.add(Fingerprint(fingerprint=fp, variant=variant, subject_type=subject.kind,
                            subject_id=subject.id, label=subject.label[:200],
                            financed_by=financed_by, registrant=chain.address,
                            chain_id=chain.chain_id, tx_hash=tx_hash, claim=claim))


def _send_register(session: Session, chain, chunk: list[str], owner, claim: str,
                   settings) -> str:
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
        receipt = chain.wait(signed.tx_hash, RECEIPT_TIMEOUT_SECONDS)
        tx = session.scalars(select(ChainTx).where(ChainTx.tx_hash == signed.tx_hash)).one()
        tx.state = TxState.MINED if receipt.status == 1 else TxState.FAILED
        session.flush()
        if receipt.status != 1:
            _raise_if_taken(chain, chunk, owner, claim)
            raise TransactionReverted(f"registering fingerprints failed in transaction "
                                      f"{signed.tx_hash}", reason="reverted")
        return signed.tx_hash
    raise AssertionError("unreachable")


def _raise_if_taken(chain, chunk, owner, claim) -> None:
    for fp in chunk:
        registration = chain.registration_of(fp)
        if registration is not None and registration != (chain.address, claim):
            raise _refuse(owner[fp], _taken_by(chain, registration) + " (a moment ago)")
