"""Writing to the journal: the only code that inserts entries and postings.

:func:`post` validates an :class:`~trellis.ledger.journal.Entry`, and, holding the lock on
its shard's :class:`~trellis.ledger.models.LedgerHead`, gives it the next sequence
number of that shard and its chained hash, then inserts the entry and its postings.
:func:`append_bulk` does the same for an entry whose postings are produced by an
``INSERT ... SELECT`` (the daily accrual over every loan).

Shards. The journal is split into N hash chains, N being the number of head rows the
currency has (migrations ``0018l`` and ``0018n``: 32 on PostgreSQL, 1 on SQLite). An
entry of one loan (``Entry.loan_id`` set) goes to shard ``loan_id mod N``; an entry of no loan or of
several (the daily accrual, allowance runs, payouts) to shard 0 (:func:`shard_of`). So
postings for different loans wait on different rows, and each shard's chain is verified
and anchored on its own (:func:`trellis.ledger.reports.verify_chain`,
:mod:`trellis.ledger.anchoring`). Which shard an entry is in matters for throughput only:
it is stored on the entry and hashed into it, and every shard is checked.

Idempotency. The idempotency key is unique across the journal. A retried command goes
to the same shard (same kind, same loan), finds the original entry (looked up with the
shard's head lock, which serialises its writers) and gets it back instead of posting
twice; the same key for a different command (another kind or loan) raises
:class:`~trellis.ledger.errors.IdempotencyMismatch`. On PostgreSQL the look-up shares the
locking statement's snapshot, taken before any wait for the lock, so a key committed
meanwhile (by the holder, or by a writer of another shard) is caught by the insert
itself: ``ON CONFLICT (idempotency_key) DO NOTHING`` writes nothing and the entry that
holds the key is read back and compared.

Lock order: loan rows (by id) first, then shard heads in ascending shard order. Entries
of one loan go to that loan's shard and multi-loan entries to shard 0, so the servicing
calls and the daily job's steps (one transaction each) hold one head at a time. A
transaction that posts for several loans should lock their heads first, lowest shard
first (:func:`lock_heads`); one that does not (the settlement of a voucher's parts today)
can deadlock with another such; it is run again only where its transaction boundary
retries (:func:`trellis.db.run`, the web layer's retry). Nothing here updates or deletes
journal rows; the database refuses it too (see migration 0005).

Round trips under the head lock. Every writer of a shard waits on its head row until the
holder commits, so what happens while it is held sets that shard's throughput. On
PostgreSQL :func:`post` takes the lock and looks up the key in one statement, and writes
the entry, its postings and the new head in one more (a data-modifying ``WITH``); the row
it returns is attached to the session without reading it back. SQLite (one writer at a
time anyway) takes the plain path.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, func, insert, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlmodel import Session, col

from trellis.accounts.models import utcnow
from trellis.db import id_of
from trellis.ledger.chart import Acct
from trellis.ledger.errors import BadShardCount, IdempotencyMismatch, UnknownAccount
from trellis.ledger.journal import GENESIS_HASH, Entry, HashRow, entry_hash, validate
from trellis.ledger.models import JournalEntry, JournalPosting, LedgerAccount, LedgerHead
from trellis.messages import N_, msg

logger = logging.getLogger(__name__)

_Model = TypeVar("_Model")

# (database URL, currency) -> {code: id}. The chart's rows are seeded by the migration and
# never change or disappear (postings reference them), so the map can be kept per database.
_ACCOUNT_IDS: dict[tuple[str, str], dict[str, int]] = {}
# (database URL, currency) -> number of shards. Heads are only ever added; a process that
# has not seen a new head yet posts into fewer shards, which is as correct, only slower.
_SHARDS: dict[tuple[str, str], int] = {}


# engine -> its database URL as the caches above key it (rendering a URL costs about
# 0.2 ms, and a repayment asks four times)
_URLS: WeakKeyDictionary[Engine, str] = WeakKeyDictionary()


def _database(session: Session) -> str:
    engine = session.get_bind().engine
    url = _URLS.get(engine)
    if url is None:
        url = _URLS[engine] = engine.url.render_as_string(hide_password=True)
    return url


def account_ids(session: Session, currency: str = "CNY") -> dict[str, int]:
    """Map account code -> row id for *currency* (cached per database)."""
    key = (_database(session), currency)
    ids = _ACCOUNT_IDS.get(key)
    if ids is None:
        rows = session.execute(select(col(LedgerAccount.code), col(LedgerAccount.id))
                               .where(col(LedgerAccount.currency) == currency)).all()
        ids = {code: id_ for code, id_ in rows}
        if not ids:
            raise UnknownAccount(msg(N_("No chart of accounts for currency %(currency)s."),
                                     currency=currency))
        _ACCOUNT_IDS[key] = ids
    return ids


def account_codes(session: Session, currency: str = "CNY") -> dict[int, str]:
    """Map account row id -> code for *currency* (the inverse of :func:`account_ids`)."""
    return {v: k for k, v in account_ids(session, currency).items()}


def shard_count(session: Session, currency: str = "CNY") -> int:
    """How many shards (head rows, at least 1) *currency*'s journal has (cached)."""
    key = (_database(session), currency)
    n = _SHARDS.get(key)
    if n is None:
        n = session.scalar(select(func.count()).select_from(LedgerHead)
                           .where(col(LedgerHead.currency) == currency)) or 0
        if n == 0:
            return 1   # no head yet: the first posting creates shard 0's; not cached
        _SHARDS[key] = n
    return n


#: The most shards (head rows) a currency's journal may have.
MAX_SHARDS = 256


def set_shard_count(session: Session, shards: int, currency: str = "CNY") -> int:
    """Give *currency*'s journal *shards* hash chains (1 to :data:`MAX_SHARDS`) by adding
    the missing heads (sequence 0, the genesis hash); returns how many were added (0
    when it already has that many). Raises :class:`~trellis.ledger.errors.BadShardCount`
    for fewer than it has: a shard's chain holds entries and anchored history, and a
    process still posting into it would create its head again.

    Loans move to their new shard (``loan_id mod N``) with their next entry; each chain
    stays whole, so nothing already written moves. This process takes the new count at
    once; other running processes keep posting into the shards they counted when they
    started until they restart, which is as correct, only slower."""
    if type(shards) is not int or not 1 <= shards <= MAX_SHARDS:
        raise BadShardCount(msg(N_("The number of shards must be a whole number from 1 to "
                                   "%(count)s."), count=MAX_SHARDS), field="shards")
    lock_head(session, currency, 0)   # one change of the count at a time
    have = session.scalar(select(func.count()).select_from(LedgerHead)
                          .where(col(LedgerHead.currency) == currency)) or 0
    if shards < have:
        raise BadShardCount(msg(N_("The %(currency)s journal has %(have)s shards; shards are never "
                                   "removed (each holds its own hash chain)."),
                                currency=currency, have=have), field="shards")
    known = {s for (s,) in session.execute(select(col(LedgerHead.shard))
                                           .where(col(LedgerHead.currency) == currency))}
    missing = [s for s in range(shards) if s not in known]
    for shard in missing:
        session.add(LedgerHead(currency=currency, shard=shard, seq=0, hash=GENESIS_HASH))
    session.flush()
    _SHARDS.pop((_database(session), currency), None)
    logger.info("%s journal: %d shards (%d added)", currency, shards, len(missing))
    return len(missing)


def shard_of(loan_id: int | None, shards: int) -> int:
    """The shard (0 .. *shards* - 1) of an entry of loan *loan_id* (None: no single loan,
    shard 0)."""
    return 0 if loan_id is None else loan_id % shards


def lock_heads(session: Session, loan_ids: Iterable[int], currency: str = "CNY") -> None:
    """Lock, lowest shard first, the heads a transaction will post to for *loan_ids*: for
    one that posts entries of several loans, after locking the loans and before posting."""
    n = shard_count(session, currency)
    for shard in sorted({shard_of(i, n) for i in loan_ids}):
        lock_head(session, currency, shard)


def find_entry(session: Session, idempotency_key: str) -> JournalEntry | None:
    """The entry posted under *idempotency_key* (1 to 160 characters), or None."""
    return session.scalars(
        select(JournalEntry).where(col(JournalEntry.idempotency_key) == idempotency_key)).first()


def _same_command(found: JournalEntry | None, kind: str, loan_id: int | None) -> JournalEntry:
    assert found is not None   # the key's entry: found by the caller, or just seen taken
    if found.kind != str(kind) or found.loan_id != loan_id:
        raise IdempotencyMismatch(
            msg(N_("The key %(idempotency_key)s was already used for a %(kind)s entry "
                   "(number %(seq)s); use a new key for a different operation."),
                idempotency_key=found.idempotency_key, kind=found.kind, seq=found.seq))
    return found


def lock_head(session: Session, currency: str, shard: int = 0) -> LedgerHead:
    """Lock and return the chain head of *currency*'s shard *shard* (created on first
    use)."""
    stmt = (select(LedgerHead).where(col(LedgerHead.currency) == currency,
                                     col(LedgerHead.shard) == shard).with_for_update()
            .execution_options(populate_existing=True))
    head = session.scalars(stmt).first()
    if head is None:
        head = LedgerHead(currency=currency, shard=shard, seq=0, hash="0" * 64)
        session.add(head)
        session.flush()
        head = session.scalars(stmt).first()
    assert head is not None   # just created
    return head


def post(*, session: Session, entry: Entry, posted_by: int | None = None) -> JournalEntry:
    """Append *entry* to the journal and return its row (or the original for a retried key).

    Raises :class:`~trellis.ledger.errors.UnbalancedEntry` /
    :class:`~trellis.ledger.errors.UnknownAccount` for a malformed entry and
    :class:`~trellis.ledger.errors.IdempotencyMismatch` for a key used by another command.
    """
    validate(entry)
    ids = account_ids(session, entry.currency)
    postings = entry.dated_postings()
    rows = cast(list[HashRow],   # dated_postings() dated every posting
                [(str(p.account), p.loan_id, p.value_date, p.amount_fen) for p in postings])
    shard = shard_of(entry.loan_id, shard_count(session, entry.currency))
    if session.get_bind().dialect.name == "postgresql":
        fast = _post_pg(session, entry, shard, rows, ids, posted_by)
        if fast is not None:
            return fast

    def insert_postings(entry_id: int) -> int:
        session.execute(insert(JournalPosting), [
            {"entry_id": entry_id, "account_id": ids[str(p.account)], "loan_id": p.loan_id,
             "value_date": p.value_date, "amount_fen": p.amount_fen} for p in postings])
        return len(postings)

    return append_bulk(session=session, kind=entry.kind, value_date=entry.value_date,
                       idempotency_key=entry.idempotency_key, currency=entry.currency,
                       loan_id=entry.loan_id, reverses_id=entry.reverses_id, memo=entry.memo,
                       hash_rows=rows, insert_postings=insert_postings, posted_by=posted_by,
                       shard=shard)


_LOCK_AND_FIND = (
    "SELECT h.seq, h.hash, (SELECT e.id FROM journal_entries e "
    "WHERE e.idempotency_key = :key) FROM ledger_heads h WHERE h.currency = :currency "
    "AND h.shard = :shard FOR UPDATE OF h")


@dataclass(frozen=True, slots=True)
class Rider:
    """One more data-modifying statement written with an entry (PostgreSQL), in the
    entry's own statement: *sql* is an ``INSERT`` or ``UPDATE`` ending in ``RETURNING``
    one column, which reads the new entry's id as ``e.id`` (``... FROM e``) or checks
    ``EXISTS (SELECT 1 FROM e)``, so that it writes nothing when no entry was written
    (the key was taken meanwhile). Its parameters (*params*) carry its own prefix."""

    name: str
    sql: str
    params: dict[str, Any]


@lru_cache(maxsize=256)
def _append_sql(n: int, riders: tuple[tuple[str, str], ...] = ()) -> str:
    values = ", ".join(f"(CAST(:a{i} AS integer), CAST(:l{i} AS integer), "
                       f"CAST(:d{i} AS date), CAST(:m{i} AS bigint))" for i in range(n))
    extra = "".join(f", {name}(v) AS ({sql})" for name, sql in riders)
    picked = "".join(f", (SELECT min(v) FROM {name})" for name, _ in riders)
    # ON CONFLICT: the key was just taken by a writer of another shard (a different
    # command under the same key); nothing is written and the caller reports it.
    return (
        "WITH e AS (INSERT INTO journal_entries (seq, currency, shard, idempotency_key, "
        "kind, value_date, loan_id, reverses_id, memo, prev_hash, hash, posted_at, "
        "posted_by_id) VALUES (:seq, :currency, :shard, :key, :kind, :value_date, :loan_id, "
        ":reverses_id, :memo, :prev_hash, :hash, :posted_at, :posted_by) "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id), "
        "p AS (INSERT INTO journal_postings (entry_id, account_id, loan_id, value_date, "
        f"amount_fen) SELECT e.id, v.a, v.l, v.d, v.m FROM e, (VALUES {values}) "
        "AS v(a, l, d, m) RETURNING 1), "
        "h AS (UPDATE ledger_heads SET seq = :seq, hash = :hash WHERE currency = :currency "
        f"AND shard = :shard AND EXISTS (SELECT 1 FROM e) RETURNING 1){extra} "
        f"SELECT e.id, (SELECT count(*) FROM p), (SELECT count(*) FROM h){picked} FROM e")


def _post_pg(session: Session, entry: Entry, shard: int, rows: list[HashRow],
             ids: dict[str, int], posted_by: int | None) -> JournalEntry | None:
    """:func:`post` in two statements under the head lock (None: no head row yet)."""
    session.flush()   # the caller's pending changes (loan balances) before the lock
    head = fetch_one(session, _LOCK_AND_FIND, {"key": entry.idempotency_key,
                                               "currency": entry.currency, "shard": shard})
    if head is None:
        return None
    seq, prev, found_id = head
    if found_id is not None:
        return _same_command(session.get(JournalEntry, found_id), entry.kind, entry.loan_id)
    written = _write_pg(session, entry, shard, seq, prev, rows, ids, posted_by, ())
    if written is None:   # another shard's writer took the key meanwhile
        return _same_command(find_entry(session, entry.idempotency_key), entry.kind,
                             entry.loan_id)
    return attach_written(session, JournalEntry, {   # as written, not read back
        "id": written.entry_id, "seq": written.seq, "currency": entry.currency,
        "shard": shard, "idempotency_key": entry.idempotency_key, "kind": str(entry.kind),
        "value_date": entry.value_date, "loan_id": entry.loan_id,
        "reverses_id": entry.reverses_id, "memo": entry.memo, "prev_hash": prev,
        "hash": written.hash, "posted_at": written.posted_at, "posted_by_id": posted_by})


_COLUMN_KEYS: dict[type[Any], frozenset[str]] = {}   # mapped class -> its column keys


def _column_keys(cls: type[Any]) -> frozenset[str]:
    found = _COLUMN_KEYS.get(cls)
    if found is None:
        found = _COLUMN_KEYS[cls] = frozenset(
            str(attr.key) for attr in sa_inspect(cls).column_attrs)
    return found


def attach_written(session: Session, cls: type[_Model], values: dict[str, Any]) -> _Model:
    """An object of the mapped class *cls* for the row this transaction has just written
    with *values* (every column: a missing one raises ``ValueError``), attached to
    *session* as persistent, as the ORM builds a row it loads: no ``SELECT``, no
    validation again (the values went through the database's types and constraints)
    and no flush. About a fifth of the client CPU of the model's own constructor."""
    missing = _column_keys(cast(type[Any], cls)) - values.keys()
    if missing:
        raise ValueError(f"{cls.__name__}: no value for {sorted(missing)}")
    obj = manager_of_class(cls).new_instance()
    instance_state(obj).dict.update(values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


class Written(NamedTuple):
    """What :func:`post_locked` wrote: the entry's id, sequence number, hash and posting
    time, and what each rider returned (in their order)."""

    entry_id: int
    seq: int
    hash: str
    posted_at: datetime
    riders: tuple[Any, ...]


def _write_pg(session: Session, entry: Entry, shard: int, seq: int, prev: str,
              rows: list[HashRow], ids: dict[str, int], posted_by: int | None,
              riders: Sequence[Rider]) -> Written | None:
    """Insert *entry* after head (*seq*, *prev*) of *shard*, held by this transaction,
    with its postings, the new head and *riders*, in one statement. None: its key was
    taken meanwhile by another shard's writer (nothing written)."""
    seq += 1
    digest = entry_hash(prev_hash=prev, seq=seq, currency=entry.currency,
                        kind=str(entry.kind), idempotency_key=entry.idempotency_key,
                        value_date=entry.value_date, loan_id=entry.loan_id,
                        reverses_id=entry.reverses_id, memo=entry.memo, postings=rows,
                        shard=shard)
    posted_at = utcnow()
    params = {"seq": seq, "currency": entry.currency, "shard": shard,
              "key": entry.idempotency_key, "kind": str(entry.kind),
              "value_date": entry.value_date, "loan_id": entry.loan_id,
              "reverses_id": entry.reverses_id, "memo": entry.memo, "prev_hash": prev,
              "hash": digest, "posted_at": posted_at, "posted_by": posted_by}
    for i, (code, loan_id, value_date, amount) in enumerate(rows):
        params.update({f"a{i}": ids[code], f"l{i}": loan_id, f"d{i}": value_date,
                       f"m{i}": amount})
    for rider in riders:
        params.update(rider.params)
    sql = _append_sql(len(rows), tuple((r.name, r.sql) for r in riders))
    written_row = fetch_one(session, sql, params)
    if written_row is None:
        return None
    entry_id, written, moved, *extra = written_row
    if written != len(rows) or moved != 1:
        raise RuntimeError(f"entry {entry.idempotency_key}: wrote {written} of {len(rows)} "
                           f"postings, moved {moved} heads")
    cached = session.identity_map.get(session.identity_key(LedgerHead,
                                                           (entry.currency, shard)))
    if cached is not None:             # keep a head already loaded in step with the row
        set_committed_value(cached, "seq", seq)
        set_committed_value(cached, "hash", digest)
    logger.debug("posted %s entry %s seq %s", entry.kind, entry.idempotency_key, seq)
    return Written(entry_id, seq, digest, posted_at, tuple(extra))


_NAMED = re.compile(r"(?<![:\w]):(\w+)")


@lru_cache(maxsize=256)
def _pyformat(sql: str) -> str:
    """*sql* with ``:name`` parameters in the driver's own style (psycopg's ``%(name)s``)."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


def fetch_one(session: Session, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """PostgreSQL: the first row (a plain tuple, or None) of *sql*, a statement with
    ``:name`` parameters taken from *params*, run in the session's transaction on its
    connection through the driver's own cursor.

    For the posting hot path: it skips SQLAlchemy's compilation, execution context and
    result set (about a third of a repayment's client CPU went there), while the driver
    still prepares a statement it sees often. A driver error comes back as SQLAlchemy's
    :class:`~sqlalchemy.exc.DBAPIError`, as from ``session.execute``, so that
    :func:`trellis.db.is_retryable` and the retries at the transaction boundary see a
    deadlock or a serialisation failure; a broken connection is invalidated first.
    SQLAlchemy's cursor events do not see these statements."""
    conn = session.connection()
    raw = conn.connection.driver_connection
    assert raw is not None   # a connection in a transaction has its driver connection
    stmt = _pyformat(sql)
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        with raw.cursor() as cursor:
            cursor.execute(stmt, params)
            return cast(tuple[Any, ...] | None, cursor.fetchone())
    except dbapi_error as exc:
        invalidated = conn.dialect.is_disconnect(exc, raw, None)
        if invalidated:
            conn.invalidate(exc)
        raise DBAPIError.instance(stmt, params, exc, dbapi_error,
                                  connection_invalidated=invalidated,
                                  dialect=conn.dialect) from exc


@lru_cache(maxsize=64)
def _head_with_sql(query: str) -> str:
    return ("SELECT h.seq, h.hash, x.* FROM ledger_heads h, (" + query + ") AS x "
            "WHERE h.currency = :currency AND h.shard = :shard FOR UPDATE OF h")


def lock_head_with(session: Session, *, currency: str, shard: int, query: str,
                   params: dict[str, Any]) -> tuple[int, str, tuple[Any, ...]] | None:
    """PostgreSQL: lock *shard*'s head and, in the same statement, run *query* (a
    ``SELECT`` returning exactly one row, with ``:name`` parameters from *params*).
    Returns the head's sequence number and hash and *query*'s row, or None when the
    shard has no head row yet (then post through :func:`post`, which creates it).

    *query* reads the snapshot taken when the statement started, before any wait for
    the head: read only what the caller's own locks (taken in earlier statements) keep
    still, or what a later unique constraint guards."""
    row = fetch_one(session, _head_with_sql(query),
                    {**params, "currency": currency, "shard": shard})
    if row is None:
        return None
    return row[0], row[1], row[2:]


def post_locked(*, session: Session, entry: Entry, head: tuple[int, str],
                riders: Sequence[Rider] = (), posted_by: int | None = None
                ) -> Written | None:
    """PostgreSQL: append *entry* to its shard, whose head (sequence number, hash) this
    transaction locked with :func:`lock_head_with`, and write *riders* in the same
    statement. Returns what was written, or None when the same command (kind, loan)
    posted under the entry's key meanwhile (nothing was written). Validates as
    :func:`post` does and raises :class:`~trellis.ledger.errors.IdempotencyMismatch`
    when the key was taken meanwhile by another command."""
    validate(entry)
    ids = account_ids(session, entry.currency)
    rows = cast(list[HashRow], [(str(p.account), p.loan_id, p.value_date, p.amount_fen)
                                for p in entry.dated_postings()])   # all dated
    shard = shard_of(entry.loan_id, shard_count(session, entry.currency))
    written = _write_pg(session, entry, shard, head[0], head[1], rows, ids, posted_by, riders)
    if written is None:   # a writer of another shard took the key meanwhile
        _same_command(find_entry(session, entry.idempotency_key), entry.kind, entry.loan_id)
    return written


def append_bulk(*, session: Session, kind: str, value_date: date, idempotency_key: str,
                hash_rows: Iterable[HashRow], insert_postings: Callable[[int], int],
                currency: str = "CNY", loan_id: int | None = None,
                reverses_id: int | None = None, memo: str = "",
                posted_by: int | None = None, presorted: bool = False,
                shard: int = 0) -> JournalEntry:
    """Append an entry whose postings *insert_postings(entry_id)* writes, to *shard*'s
    chain (0 .. the number of shards - 1; 0 for entries of several loans).

    *hash_rows* are the (account code, loan id, value date, amount) tuples that the
    insert will write; they are hashed into the chain (*presorted*: they already are in
    the canonical order of :func:`~trellis.ledger.journal.entry_hash`). The callback
    returns the number of postings inserted, which must equal ``len(hash_rows)``:
    anything else is a bug and raises ``RuntimeError`` before the transaction can commit.
    """
    head = lock_head(session, currency, shard)
    found = find_entry(session, idempotency_key)   # checked under the lock: no race
    if found is not None:
        return _same_command(found, kind, loan_id)
    hash_rows = list(hash_rows)
    seq = head.seq + 1
    digest = entry_hash(prev_hash=head.hash, seq=seq, currency=currency, kind=str(kind),
                        idempotency_key=idempotency_key, value_date=value_date,
                        loan_id=loan_id, reverses_id=reverses_id, memo=memo,
                        postings=hash_rows, presorted=presorted, shard=shard)
    row = JournalEntry(seq=seq, currency=currency, shard=shard,
                       idempotency_key=idempotency_key,
                       kind=str(kind), value_date=value_date, loan_id=loan_id,
                       reverses_id=reverses_id, memo=memo, prev_hash=head.hash, hash=digest,
                       posted_by_id=posted_by)
    session.add(row)
    session.flush()
    written = insert_postings(id_of(row))
    if written != len(hash_rows):
        raise RuntimeError(f"entry {idempotency_key}: hashed {len(hash_rows)} postings but "
                           f"inserted {written}")
    head.seq, head.hash = seq, digest
    session.flush()
    logger.debug("posted %s entry %s seq %s", kind, idempotency_key, seq)
    return row


__all__ = ["Acct", "Rider", "Written", "account_codes", "account_ids", "append_bulk",
           "attach_written", "fetch_one", "find_entry", "lock_head", "lock_head_with",
           "lock_heads", "post", "post_locked", "set_shard_count", "shard_count", "shard_of"]
