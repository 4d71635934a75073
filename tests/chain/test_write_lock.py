"""The anchoring job leaves SQLite's write lock free while it hashes and builds trees
(speed13: reader 12 waited 2.5-4 s for a confirmation, an approval, an acceptance and an
upload while the demo's first anchoring ran in the web process; its transactions began
IMMEDIATE and held the lock through the hashing of 5,000 documents a chunk and the trees
of the whole cut).

Each test probes the lock from another connection that does not wait (busy timeout 0)
at the moment the job is computing: a page's write would get in."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import select

from trellis import db, migrate
from trellis.chain import anchoring, canonical, commitments, jobs
from trellis.chain.models import Batch, Document, DocumentStatus
from trellis.trade.models import Firm, Invoice

from .conftest import make_settings


@pytest.fixture
def file_db(tmp_path):
    """A migrated SQLite file (real transactions, as the served instance has) with a
    vendor and its anchor; (path, session factory)."""
    path = tmp_path / "lock.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = db.make_engine(url)
    factory = db.make_sessionmaker(engine)
    with db.transaction(factory) as s:
        anchor = Firm(uscc="91330110MA2H0A001F", name="锚定", role="anchor")
        vendor = Firm(uscc="91330110MA2H0A002J", name="供应商", role="vendor")
        s.add_all([anchor, vendor])
        s.flush()
        s.add_all(Invoice(seller_id=vendor.id, buyer_id=anchor.id, number=f"LOCK-{i}",
                          amount_fen=100_000 + i, issue_date=date(2026, 3, 1),
                          due_date=date(2026, 5, 1)) for i in range(10))
    yield path, factory
    engine.dispose()


class Probe:
    """Tries to take the write lock from another connection, without waiting."""

    def __init__(self, path):
        self.path, self.free, self.taken = path, 0, 0

    def __call__(self) -> None:
        other = sqlite3.connect(path := str(self.path), timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            self.free += 1
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc), (path, exc)
            self.taken += 1
        finally:
            other.close()


def test_collecting_hashes_the_documents_outside_the_write_lock(file_db, monkeypatch):
    path, factory = file_db
    probe, hash_of = Probe(path), canonical.content_hash

    def hashing(data):
        probe()
        return hash_of(data)

    monkeypatch.setattr(canonical, "content_hash", hashing)
    with db.transaction(factory) as s:
        counts = commitments.collect(session=s, commit_chunks=True)
    assert counts == {"invoice": 10}
    assert (probe.free, probe.taken) == (10, 0)
    with db.transaction(factory) as s:
        assert commitments.queue_length(session=s) == 10


def test_collecting_skips_documents_another_writer_collected_meanwhile(file_db, monkeypatch):
    path, factory = file_db
    real = commitments._documents
    done = []

    def and_another_collector(src, rows):
        values = real(src, rows)
        if not done:   # another run collects the same rows between the read and the write
            done.append(1)
            with db.transaction(factory) as other:
                commitments.collect(session=other)
        return values

    monkeypatch.setattr(commitments, "_documents", and_another_collector)
    with db.transaction(factory) as s:
        assert commitments.collect(session=s, commit_chunks=True) == {}
    with db.transaction(factory) as s:
        assert commitments.queue_length(session=s) == 10   # once each, not twice


def test_the_cut_builds_its_trees_outside_the_write_lock(file_db, embedded, chain_settings,
                                                         monkeypatch):
    path, factory = file_db
    with db.transaction(factory) as s:
        commitments.collect(session=s)
    probe, tree_of = Probe(path), anchoring.StandardMerkleTree.of

    def building(values, encoding):
        probe()
        return tree_of(values, encoding)

    monkeypatch.setattr(anchoring.StandardMerkleTree, "of", staticmethod(building))
    outcome = jobs.anchor_all(session_factory=factory, settings=chain_settings, force=True)
    # 10 documents in batches of 4: three trees, each built with the lock free
    assert outcome["batches_cut"] == 3 and outcome["sent"] == 3
    assert (probe.free, probe.taken) == (3, 0)
    with db.transaction(factory) as s:
        assert s.exec(select(func.count()).select_from(Batch)).one() == 3
        assert set(s.exec(select(Document.status))) == {DocumentStatus.BATCHED}


def test_a_cut_planned_from_documents_batched_meanwhile_writes_nothing(file_db):
    _, factory = file_db
    settings = make_settings()
    with db.transaction(factory) as s:
        commitments.collect(session=s)
        cuts = anchoring.plan_cuts(session=s, settings=settings, force=True)
    with db.transaction(factory) as s:   # another run, cutting batches of 3
        anchoring.cut_all(session=s, settings=make_settings(batch_max_documents=3),
                          force=True)
    with pytest.raises(anchoring.ChainError), db.transaction(factory) as s:
        anchoring.write_cuts(session=s, cuts=cuts)
    with db.transaction(factory) as s:   # the other run's 4 batches, nothing twice
        assert s.exec(select(func.count()).select_from(Batch)).one() == 4


def test_a_write_waiting_for_the_lock_gets_it_between_batches(file_db, embedded,
                                                              monkeypatch):
    """The job's per-batch transactions (each holding the lock while the chain mines,
    0.2-0.7 s on a loaded machine) came back to back: a page's write, whose busy handler
    retries every 100 ms, rarely found the lock free and waited seconds."""
    import threading
    import time

    path, factory = file_db
    settings = make_settings(batch_max_documents=1)   # 10 batches, 10 transactions
    with db.transaction(factory) as s:
        commitments.collect(session=s)
    send, waited = anchoring.send, {}

    def page_write():
        started = time.monotonic()
        other = sqlite3.connect(str(path), timeout=1.5, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            waited["seconds"] = time.monotonic() - started
        except sqlite3.OperationalError:
            waited["seconds"] = None
        finally:
            other.close()

    def slow_send(**kw):
        time.sleep(0.3)   # a loaded machine's mining, inside the batch's transaction
        if not waited:
            waited["thread"] = threading.Thread(target=page_write)
            waited["thread"].start()
        return send(**kw)

    monkeypatch.setattr(anchoring, "send", slow_send)
    outcome = jobs.anchor_all(session_factory=factory, settings=settings, force=True)
    waited["thread"].join()
    assert outcome["sent"] == 10
    assert waited["seconds"] is not None and waited["seconds"] < 1.0, waited
