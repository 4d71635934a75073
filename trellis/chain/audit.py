"""The full audit: re-hash every anchored record from the database and check it against
its anchored leaf and the chain, so that a row edited after anchoring is caught.

For each document committed in the date range (by the day it was committed, UTC):

- ``source_changed``: the trade row (invoice, order, confirmation) read NOW no longer has
  the anchored content hash (edited after anchoring); ``source_missing``: the row is gone
  or no longer qualifies (a confirmation withdrawn);
- ``record_changed``: the stored canonical text no longer hashes to the content hash;
- ``leaf_mismatch``: (type, content hash, salt) no longer gives the anchored leaf;
and per batch:
- ``root_mismatch``: the stored leaves no longer rebuild the anchored root;
- ``not_anchored`` / ``block_mismatch``: the chain does not hold the root at the recorded
  block (or that block is no longer canonical);
- ``other_contract`` / ``foreign_anchorer`` / ``tx_mismatch``: the batch's proofs would
  not verify (recorded in another contract, anchored by an account that is not ours, or
  by another transaction than the recorded one);
- ``not_checked``: the chain could not be asked (node down): the report is incomplete.

Documents of types whose source the chain area cannot read (ledger entries, voucher
events) are checked against their stored record only, and counted as such. Batches not
yet on chain are counted, not reported as discrepancies.
"""

from __future__ import annotations

import io
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, func, select, update
from sqlmodel import Session, col

from trellis import clock, exports, tasks
from trellis.chain import canonical, commitments, merkle
from trellis.chain.anchoring import leaf_value
from trellis.chain.models import ON_CHAIN_STATES, AuditRun, Batch, BatchLeaf, Document
from trellis.clock import utcnow
from trellis.db import transaction
from trellis.errors import TrellisError, ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

    from trellis.chain.client import Chain
    from trellis.config import Settings
    from trellis.tasks import Progress

from trellis.messages import N_, Message, line, msg, new_reference, stored, unexpected

logger = logging.getLogger(__name__)

CSV_FIELDS = ("kind", "batch_id", "document_id", "doc_type", "doc_id", "detail")


@dataclass
class AuditReport:
    date_from: date
    date_to: date
    documents: int = 0
    batches: int = 0
    from_source: int = 0  # re-read from their trade rows
    record_only: int = 0  # checked against the stored record only
    #: documents of the period in a batch not on chain yet: not verified
    not_yet_anchored: int = 0
    #: documents of the period waiting for a batch: not verified either
    queued: int = 0
    discrepancies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the audit found no discrepancy."""
        return not self.discrepancies

    def add(self, kind: str, detail: str | Message, *, batch_id: int | None = None,
            doc: Document | None = None, english: str | None = None) -> None:
        """Record a discrepancy. *detail* as a message is shown in the reader's language
        (``message``); ``detail`` stays the English text (CSV, JSON, logs), with
        *english* when that says more than the message (the changed row itself)."""
        message = detail if isinstance(detail, Message) else Message(str(detail))
        detail = english or str(message)
        self.discrepancies.append({"message": message.to_json(),
            "kind": kind, "batch_id": batch_id,
            "document_id": doc.id if doc is not None else None,
            "doc_type": doc.doc_type if doc is not None else None,
            "doc_id": doc.doc_id if doc is not None else None, "detail": detail})

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON data (dates as ISO text), as an audit run keeps it."""
        return {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(),
                "ok": self.ok, "documents": self.documents, "batches": self.batches,
                "from_source": self.from_source, "record_only": self.record_only,
                "not_yet_anchored": self.not_yet_anchored, "queued": self.queued,
                "discrepancy_count": len(self.discrepancies),
                "discrepancies": self.discrepancies}

    def to_csv(self) -> str:
        """The discrepancies as CSV text (one row each, :data:`CSV_FIELDS`)."""
        return report_csv(self.discrepancies)


def report_csv(discrepancies: list[dict[str, Any]],
               headers: dict[str, str] | None = None) -> str:
    """*discrepancies* as CSV text with a header row, cells made spreadsheet-safe. The
    header names the :data:`CSV_FIELDS` by *headers* (field -> the reader's word) when
    given, else by the field names."""
    out = io.StringIO()
    writer = exports.SafeDictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
    if headers:
        writer.writerow({f: headers.get(f, f) for f in CSV_FIELDS})
    else:
        writer.writeheader()
    writer.writerows(discrepancies)
    return out.getvalue()


def _bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """The period's ends in UTC: its days are Beijing days (the business day,
    :func:`trellis.clock.today`), as the auditor reads them on the pages."""
    zone = ZoneInfo(clock.DISPLAY_TZ)
    return (datetime.combine(date_from, time.min, zone).astimezone(UTC),
            datetime.combine(date_to + timedelta(days=1), time.min, zone).astimezone(UTC))


def count_documents(*, session: Session, date_from: date, date_to: date) -> int:
    """How many documents committed from *date_from* to *date_to* (inclusive, Beijing days)
    are in a batch."""
    lo, hi = _bounds(date_from, date_to)
    return int(session.execute(select(func.count()).select_from(Document).where(
        col(Document.batch_id).is_not(None), col(Document.created_at) >= lo,
        col(Document.created_at) < hi)).scalar_one())


def run_audit(*, session: Session, date_from: date, date_to: date, chain: Chain | None = None,
              progress: Callable[[int, int], None] | None = None) -> AuditReport:
    """Audit the documents committed from *date_from* to *date_to* (inclusive).

    *chain*: a :class:`~trellis.chain.client.Chain` for the on-chain checks (None: they
    are reported ``not_checked``). *progress(checked, total)* is called as it goes.
    """
    report = AuditReport(date_from, date_to)
    lo, hi = _bounds(date_from, date_to)
    batch_ids = list(session.scalars(
        select(col(Document.batch_id)).where(col(Document.batch_id).is_not(None),
                                             col(Document.created_at) >= lo,
                                             col(Document.created_at) < hi)
        .group_by(col(Document.batch_id)).order_by(col(Document.batch_id))))
    total = count_documents(session=session, date_from=date_from, date_to=date_to)
    checked = 0
    for batch_id in batch_ids:
        batch = session.get_one(Batch, batch_id)
        rows = list(session.execute(
            select(BatchLeaf, Document)
            .join(Document, col(Document.id) == col(BatchLeaf.document_id))
            .where(col(BatchLeaf.batch_id) == batch_id)
            .order_by(col(BatchLeaf.value_index))).tuples())
        in_range = [(leaf, doc) for leaf, doc in rows
                    if lo <= _aware(doc.created_at) < hi]
        if batch.state not in ON_CHAIN_STATES:
            report.not_yet_anchored += len(in_range)
        else:
            report.batches += 1
            _check_batch(report, batch, rows, chain)
            _check_documents(report, session, batch, in_range)
            report.documents += len(in_range)
        checked += len(in_range)
        if progress is not None:
            progress(checked, total)
    # documents of the period still waiting for a batch: not verified either, and said so
    # (reader 12, G22: "0 份尚未上链" while the chain page showed 3 waiting)
    report.queued = int(session.execute(
        select(func.count()).select_from(Document).where(
            col(Document.batch_id).is_(None), col(Document.created_at) >= lo,
            col(Document.created_at) < hi)).scalar_one())
    logger.info("audit %s..%s: %s documents, %s discrepancies", date_from, date_to,
                report.documents, len(report.discrepancies))
    return report


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _check_batch(report: AuditReport, batch: Batch, rows: list[tuple[BatchLeaf, Document]],
                 chain: Chain | None) -> None:
    values = [leaf_value(doc) for _, doc in rows]
    root = merkle.StandardMerkleTree.of(values).root if values else None
    if root != batch.root:
        report.add("root_mismatch", msg(N_("stored leaves rebuild root %(root)s, anchored "
                                           "root is %(anchored)s"), root=str(root),
                                        anchored=batch.root), batch_id=batch.id)
    if chain is None:
        report.add("not_checked", msg(N_("no chain given")), batch_id=batch.id)
        return
    try:
        at = chain.anchored_at(batch.root)
        if not at:
            report.add("not_anchored", msg(N_("the contract does not hold root %(root)s"),
                                           root=batch.root), batch_id=batch.id)
            return
        block_hash = chain.block_hash(at)
        if at != batch.block_number or block_hash != batch.block_hash:
            report.add("block_mismatch", msg(N_("anchored at block %(at)s (%(hash)s); "
                                                "recorded block %(block)s (%(recorded)s)"),
                                             at=str(at), hash=block_hash,
                                             block=str(batch.block_number),
                                             recorded=batch.block_hash), batch_id=batch.id)
        _check_anchoring(report, batch, chain, at)
    except TrellisError as exc:
        report.add("not_checked", Message(exc.template, exc.params), batch_id=batch.id)


def _check_anchoring(report: AuditReport, batch: Batch, chain: Chain, at: int) -> None:
    """What a verifier of this batch's bundles checks beyond the root: the recorded
    contract is ours, the root was anchored by our account, by the recorded transaction."""
    ours = (chain.contract_address or "").lower()
    if (batch.contract_address or "").lower() != ours:
        report.add("other_contract", msg(N_("recorded contract %(recorded)s is not the "
                                            "configured registry %(ours)s: its proofs do not "
                                            "verify"), recorded=str(batch.contract_address),
                                         ours=str(chain.contract_address)), batch_id=batch.id)
    submitter, tx_hash = chain.anchoring_event(batch.root, at) or (None, None)
    if submitter is None or submitter.lower() != chain.address.lower():
        report.add("foreign_anchorer", msg(N_("root anchored by %(who)s, not by this "
                                              "instance's account %(ours)s: its proofs do not "
                                              "verify"), who=str(submitter),
                                           ours=chain.address), batch_id=batch.id)
    elif (tx_hash or "").lower() != (batch.tx_hash or "").lower():
        report.add("tx_mismatch", msg(N_("anchored by transaction %(tx)s; recorded "
                                         "%(recorded)s: its proofs do not verify"),
                                      tx=str(tx_hash), recorded=str(batch.tx_hash)),
                   batch_id=batch.id)


def _check_documents(report: AuditReport, session: Session, batch: Batch,
                     rows: list[tuple[BatchLeaf, Document]]) -> None:
    by_source: dict[tuple[str, str], list[Document]] = defaultdict(list)
    for leaf, doc in rows:
        data = doc.canonical.encode("utf-8")
        if canonical.content_hash(data) != doc.content_hash:
            report.add("record_changed", msg(N_("the stored canonical text no longer has the "
                                                "anchored content hash")),
                       batch_id=batch.id, doc=doc)
        expected = merkle.to_hex(merkle.leaf_hash(merkle.LEAF_ENCODING, leaf_value(doc)))
        if expected != leaf.leaf:
            report.add("leaf_mismatch", msg(N_("leaf is %(leaf)s, anchored leaf %(anchored)s"),
                                            leaf=expected, anchored=leaf.leaf),
                       batch_id=batch.id, doc=doc)
        if doc.source and commitments.source_for(doc.doc_type, doc.source):
            by_source[(doc.doc_type, doc.source)].append(doc)
        else:
            report.record_only += 1
    for (doc_type, table), docs in by_source.items():
        now = commitments.read_sources(session=session, doc_type=doc_type, table=table,
                                       ids=[d.source_id for d in docs
                                            if d.source_id is not None])
        for doc in docs:
            report.from_source += 1
            rebuilt = now.get(doc.source_id) if doc.source_id is not None else None
            if rebuilt is None:
                report.add("source_missing", msg(N_("its source row is gone or no longer "
                                                    "qualifies")), batch_id=batch.id, doc=doc,
                           english=f"{table} row {doc.source_id} is gone or no longer "
                                   "qualifies")
            elif canonical.content_hash(rebuilt) != doc.content_hash:
                report.add("source_changed", msg(N_("its source row changed after anchoring: "
                                                    "the document no longer matches what was "
                                                    "anchored")), batch_id=batch.id, doc=doc,
                           english=f"{table} row {doc.source_id} changed after anchoring: "
                                   f"now {rebuilt.decode('utf-8')}")


# --- audits run in the background (pages) ---------------------------------------------


def queue_run(*, session: Session, date_from: date, date_to: date,
              requested_by_id: int | None = None, now: datetime | None = None) -> AuditRun:
    """Record an audit to run in the background; the caller enqueues the ``chain_audit``
    task (``run_id=run.id``) in the same transaction and commits. Refuses (with
    :class:`ValidationError`) a period ending before it starts, and one that starts after
    *now* (default: the clock), in which no document can have been committed yet."""
    if date_to < date_from:
        raise ValidationError(N_("the audit's end date is before its start date"),
                              field="date_to")
    # the days are Beijing days; a day's grace keeps a clock a little ahead from refusing
    if _bounds(date_from, date_to)[0] - timedelta(days=1) > (now or utcnow()):
        raise ValidationError(msg(N_("The period starts on %(day)s, in the future: no "
                                     "document can have been committed in it yet. Choose a "
                                     "start date of today or earlier."),
                                  day=date_from.isoformat()), field="date_from")
    run = AuditRun(date_from=date_from, date_to=date_to, requested_by_id=requested_by_id,
                   total=count_documents(session=session, date_from=date_from,
                                         date_to=date_to))
    session.add(run)
    session.flush()
    return run


def execute_run(run_id: int, *, session_factory: sessionmaker[Session], settings: Settings,
                progress: Progress | None = None, resume: bool = False) -> str:
    """Run the audit *run_id*, committing progress after every batch; return its state.

    Runs only a ``queued`` audit, or with *resume* also one left ``running`` by a worker
    that died (the task queue guarantees one attempt at a time), starting it over: an
    audit only reads, so running it again is harmless. The audit's reads and its progress
    share one session that commits after each batch: on SQLite, where every transaction
    takes the write lock, a second session writing progress while the first still holds
    its transaction would wait for it and fail with "database is locked". *progress*: a
    :class:`trellis.tasks.Progress` to mirror the counts into (optional).
    """
    states = ("queued", "running") if resume else ("queued",)
    session = session_factory()
    try:
        claimed = cast(CursorResult[Any], session.execute(
            update(AuditRun).where(col(AuditRun.id) == run_id, col(AuditRun.state).in_(states))
            .values(state="running", started_at=utcnow(), checked=0, error=None))).rowcount
        session.commit()
        if claimed != 1:
            return "skipped"
        run = session.get_one(AuditRun, run_id)
        # late: the node client imports web3 (seconds); the auditor's pages import this
        from trellis.chain.client import get_chain

        try:
            chain = get_chain(settings)
        except TrellisError:
            chain = None

        def step(checked: int, total: int) -> None:
            run.checked, run.total = checked, total
            session.commit()  # ends the read transaction too: writers get their turn
            if progress is not None:
                progress.set(done=checked, total=total)

        report = run_audit(session=session, date_from=run.date_from, date_to=run.date_to,
                           chain=chain, progress=step)
        run.state, run.finished_at = "done", utcnow()
        run.checked = run.total = report.documents + report.not_yet_anchored
        run.discrepancy_count = len(report.discrepancies)
        run.report = report.as_dict()
        session.commit()
        if progress is not None:
            progress.set(done=run.checked, total=run.total, errors=run.discrepancy_count)
        return "done"
    except Exception as exc:
        # the auditor reads plain words (and a reference); the technical text stays in
        # the log and in the stored message's detail (the admin's technical section)
        reference = new_reference()
        logger.exception("audit run %s failed (reference %s)", run_id, reference)
        session.rollback()
        error = (Message(exc.template, exc.params) if isinstance(exc, TrellisError)
                 else unexpected(exc, reference))
        session.execute(update(AuditRun).where(col(AuditRun.id) == run_id)
                        .values(state="failed", error=stored(error, 2000),
                                finished_at=utcnow()))
        session.commit()
        return "failed"
    finally:
        session.close()


def audit_task(*, session_factory: sessionmaker[Session], settings: Settings,
               progress: Progress | None, run_id: int) -> str:
    """Task ``chain_audit``: run the queued audit *run_id* (again after a worker died)."""
    state = execute_run(run_id, session_factory=session_factory, settings=settings,
                        progress=progress, resume=True)
    return line(AUDIT_STATES.get(state, N_("audit %(run)s: %(state)s")), run=run_id, state=state)


#: how an audit task ended, as the jobs page says it
AUDIT_STATES = {"done": N_("audit %(run)s: done"), "failed": N_("audit %(run)s: failed"),
                "skipped": N_("audit %(run)s: skipped (taken elsewhere or finished)")}


def run_queued_audits(*, session_factory: sessionmaker[Session], settings: Settings,
                      older_than_seconds: int = 300) -> str:
    """Job: enqueue audits still ``queued`` after *older_than_seconds* (their message was
    lost, or they were queued by older code); the task skips one already taken."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with transaction(session_factory) as session:
        ids = list(session.scalars(select(col(AuditRun.id)).where(
            col(AuditRun.state) == "queued", col(AuditRun.created_at) < cutoff)
            .order_by(col(AuditRun.id))))
        for run_id in ids:
            tasks.enqueue("chain_audit", session=session, run_id=run_id)
    return line(N_("queued %(n)s waiting audits"), n=len(ids))
