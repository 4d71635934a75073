"""Committing documents: the queue of documents waiting to be anchored.

:func:`enqueue` is how other areas (ledger entries, voucher events) commit a document.
Invoices, orders and confirmations are picked up by :func:`collect`, which the anchoring
job runs: one anti-join per source finds the trade rows that have no document yet, and
one bulk insert commits them. The same readers (:data:`SOURCES`) rebuild a trade
document from its row for the audit.

Each document gets a random 32-byte salt, kept in the database: the leaf on chain is a
hash of (type, content hash, salt), so nothing about a document can be guessed from the
chain, not even by hashing every plausible invoice.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, and_, func, insert, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from trellis.chain import canonical
from trellis.chain.errors import CanonicalFormError, DocumentChanged
from trellis.chain.models import Document, DocumentStatus
from trellis.clock import utcnow
from trellis.db import reset_reading, set_reading
from trellis.messages import N_, msg
from trellis.trade.models import DocStatus, Firm, Invoice, PurchaseOrder

logger = logging.getLogger(__name__)

COLLECT_CHUNK = 5000


def new_salt() -> str:
    """32 random bytes as 64 hex digits."""
    return secrets.token_hex(32)


def enqueue(*, session: Session, doc_type: str, doc_id: str, payload: dict[str, Any],
            source: str | None = None, source_id: int | None = None) -> Document:
    """Queue a document for anchoring and return its row (flushed).

    *doc_type* is a short lower-case name ("ledger_entry", "voucher_event", ...); *doc_id*
    is the caller's id for it, unique per type. Queuing the same (type, id) again with the
    same content returns the existing row; with other content it raises
    :class:`DocumentChanged` (an anchored record is immutable: record a correction as a
    new document). Raises :class:`~trellis.chain.errors.CanonicalFormError` for a payload
    that has no canonical form (a float, a bad USCC, a missing field).
    """
    data = canonical.canonical_bytes(doc_type, payload)
    digest = canonical.content_hash(data)
    doc_id = str(doc_id)
    existing = session.scalars(select(Document).where(col(Document.doc_type) == doc_type,
                                                      col(Document.doc_id) == doc_id)).first()
    if existing is not None:
        if existing.content_hash == digest:
            return existing
        raise DocumentChanged(
            msg(N_("%(doc_type)s %(doc_id)s was already committed with other content; an anchored "
                   "record cannot change: commit the correction as a new document"),
                doc_type=doc_type, doc_id=doc_id))
    doc = Document(doc_type=doc_type, doc_id=doc_id, source=source, source_id=source_id,
                   canonical=data.decode("utf-8"), content_hash=digest, salt=new_salt(),
                   status=DocumentStatus.QUEUED, created_at=utcnow())
    session.add(doc)
    session.flush()
    return doc


# --- trade sources ------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """How to read one kind of trade document: ``query()`` selects ``(row id, payload
    columns...)``; ``payload(row)`` turns a result row into the canonical payload."""

    doc_type: str
    table: str
    model: Any  # the table class (Invoice or PurchaseOrder); its columns are used in SQL
    query: Callable[[], Select[Any]]
    payload: Callable[[Row[Any]], dict[str, Any]]
    doc_id: Callable[[int], str]


def _invoice_query() -> Select[Any]:
    seller, buyer = aliased(Firm), aliased(Firm)
    return (select(col(Invoice.id), col(seller.uscc), col(buyer.uscc), col(Invoice.number),
                   col(Invoice.amount_fen), col(Invoice.issue_date), col(Invoice.due_date),
                   col(PurchaseOrder.number))
            .join(seller, col(seller.id) == col(Invoice.seller_id))
            .join(buyer, col(buyer.id) == col(Invoice.buyer_id))
            .outerjoin(PurchaseOrder, col(PurchaseOrder.id) == col(Invoice.order_id)))


def _invoice_payload(row: Row[Any]) -> dict[str, Any]:
    return {"seller_uscc": row[1], "buyer_uscc": row[2], "number": row[3],
            "amount_fen": row[4], "issue_date": row[5], "due_date": row[6],
            "order_number": row[7]}


def _order_query() -> Select[Any]:
    seller, buyer = aliased(Firm), aliased(Firm)
    return (select(col(PurchaseOrder.id), col(buyer.uscc), col(seller.uscc),
                   col(PurchaseOrder.number), col(PurchaseOrder.amount_fen),
                   col(PurchaseOrder.order_date))
            .join(seller, col(seller.id) == col(PurchaseOrder.seller_id))
            .join(buyer, col(buyer.id) == col(PurchaseOrder.buyer_id)))


def _order_payload(row: Row[Any]) -> dict[str, Any]:
    return {"buyer_uscc": row[1], "seller_uscc": row[2], "number": row[3],
            "amount_fen": row[4], "order_date": row[5]}


def _confirmation_query(model: type[Invoice] | type[PurchaseOrder]) -> Select[Any]:
    seller, buyer = aliased(Firm), aliased(Firm)
    return (select(col(model.id), col(seller.uscc), col(buyer.uscc), col(model.number),
                   col(model.amount_fen), col(model.status), col(model.confirmed_at))
            .join(seller, col(seller.id) == col(model.seller_id))
            .join(buyer, col(buyer.id) == col(model.buyer_id))
            .where(col(model.status) == DocStatus.CONFIRMED,
                   col(model.confirmed_at).is_not(None)))


def _confirmation_payload(subject: str) -> Callable[[Row[Any]], dict[str, Any]]:
    def payload(row: Row[Any]) -> dict[str, Any]:
        return {"subject": subject, "seller_uscc": row[1], "buyer_uscc": row[2],
                "number": row[3], "amount_fen": row[4], "decision": row[5],
                "confirmed_at": row[6]}
    return payload


SOURCES: tuple[Source, ...] = (
    Source("invoice", "invoices", Invoice, _invoice_query, _invoice_payload, str),
    Source("order", "purchase_orders", PurchaseOrder, _order_query, _order_payload, str),
    Source("confirmation", "invoices", Invoice, lambda: _confirmation_query(Invoice),
           _confirmation_payload("invoice"), lambda i: f"invoice:{i}"),
    Source("confirmation", "purchase_orders", PurchaseOrder,
           lambda: _confirmation_query(PurchaseOrder), _confirmation_payload("order"),
           lambda i: f"order:{i}"),
)


def source_for(doc_type: str, table: str | None) -> Source | None:
    """The source of documents of *doc_type* read from *table*, or None."""
    for src in SOURCES:
        if src.doc_type == doc_type and src.table == table:
            return src
    return None


def read_sources(*, session: Session, doc_type: str, table: str,
                 ids: Iterable[int]) -> dict[int, bytes]:
    """Rebuild the canonical bytes of trade documents from their rows now (for the
    audit). Rows that are gone, or no longer qualify (a confirmation withdrawn), are
    missing from the result."""
    src = source_for(doc_type, table)
    if src is None:
        return {}
    out: dict[int, bytes] = {}
    ids = list(ids)
    for start in range(0, len(ids), COLLECT_CHUNK):
        chunk = ids[start:start + COLLECT_CHUNK]
        for row in session.execute(src.query().where(src.model.id.in_(chunk))):
            out[row[0]] = canonical.canonical_bytes(src.doc_type, src.payload(row))
    return out


def _documents(src: Source, rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    """The document rows (canonical form, hash, salt) of *src*'s *rows*; a row whose data
    has no canonical form (an invalid USCC) is skipped and logged."""
    now = utcnow()
    values = []
    for row in rows:
        try:
            data = canonical.canonical_bytes(src.doc_type, src.payload(row))
        except CanonicalFormError as exc:
            logger.warning("not committing %s %s: %s", src.table, row[0], exc.message)
            continue
        values.append({"doc_type": src.doc_type, "doc_id": src.doc_id(row[0]),
                       "source": src.table, "source_id": row[0],
                       "canonical": data.decode("utf-8"),
                       "content_hash": canonical.content_hash(data),
                       "salt": new_salt(), "status": DocumentStatus.QUEUED.value,
                       "created_at": now})
    return values


def collect(*, session: Session, limit: int | None = None,
            commit_chunks: bool = False) -> dict[str, int]:
    """Commit every invoice, order and confirmation that has no document yet.

    Set-based: per source, one anti-join query (in chunks of :data:`COLLECT_CHUNK`) and
    one bulk insert. Returns the count added per doc type. A row whose data has no
    canonical form (an invalid USCC) is skipped and logged, not allowed to block the rest.
    *commit_chunks*: the session is committed after each chunk (a crash keeps what was
    collected; the next run takes the rest), so other writers get their turn.
    """
    counts: dict[str, int] = {}
    remaining = limit
    for src in SOURCES:
        last_id = 0
        while remaining is None or remaining > 0:
            chunk = COLLECT_CHUNK if remaining is None else min(COLLECT_CHUNK, remaining)
            query = (src.query()
                     .outerjoin(Document, and_(col(Document.doc_type) == src.doc_type,
                                               col(Document.source) == src.table,
                                               Document.source_id == src.model.id))
                     .where(col(Document.id).is_(None), src.model.id > last_id)
                     .order_by(src.model.id).limit(chunk))
            # committing chunk by chunk, the rows are read and hashed outside the write
            # lock (on SQLite a reading transaction does not take it; hashing a chunk
            # took up to 5 s on a loaded machine while every page's write waited)
            token = set_reading(True) if commit_chunks else None
            try:
                rows = session.execute(query).all()
                values = _documents(src, rows) if rows else []
                if commit_chunks:
                    session.commit()
            finally:
                if token is not None:
                    reset_reading(token)
            if not rows:
                break
            if commit_chunks and values:   # another writer may have collected some since
                taken = set(session.scalars(select(col(Document.source_id)).where(
                    col(Document.doc_type) == src.doc_type, col(Document.source) == src.table,
                    col(Document.source_id).in_([v["source_id"] for v in values]))))
                values = [v for v in values if v["source_id"] not in taken]
            last_id = rows[-1][0]
            if values:
                session.execute(insert(Document), values)
                counts[src.doc_type] = counts.get(src.doc_type, 0) + len(values)
                if commit_chunks:
                    session.commit()
            if remaining is not None:
                remaining -= len(rows)
            if len(rows) < chunk:
                break
    session.flush()
    if counts:
        logger.info("committed trade documents: %s", counts)
    return counts


def queue_length(*, session: Session) -> int:
    """How many documents wait to be put in a batch."""
    return int(session.execute(select(func.count()).select_from(Document)
                           .where(col(Document.status) == DocumentStatus.QUEUED)).scalar_one())
