"""Drills on a REAL anvil node for a misbehaving chain (issue 10): a node on another chain,
a node that is down, a send that fails, fees that climb, a chain that forgets, two
databases sharing one anchoring key."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest
import requests
from flask.cli import ScriptInfo
from sqlalchemy import select

from tests.chain.conftest import ANVIL_KEYS, deploy_registry, free_port
from trellis.chain import anchoring, client, commitments, jobs, registry
from trellis.chain.errors import ChainUnavailable
from trellis.chain.models import Batch, ChainTx
from trellis.db import transaction
from trellis.jobs import JobRun
from trellis.platform.cli import main
from trellis.trade.models import Invoice

pytestmark = pytest.mark.chain_node


def cli(app, *args):
    runner = app.test_cli_runner()
    return runner.invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


@pytest.fixture
def make_app(app_settings, session_factory):
    from trellis.platform import create_app

    def make(**chain):
        settings = dataclasses.replace(app_settings, **chain)
        return create_app({"TESTING": True}, settings=settings,
                          session_factory=session_factory)

    yield make
    client.reset_chains()


def test_deploy_refuses_a_node_on_another_chain(make_app, anvil):
    app = make_app(chain_url=anvil.url, chain_key=ANVIL_KEYS[0], chain_id=1)
    head = int(anvil.rpc("eth_blockNumber"), 16)
    out = cli(app, "chain", "deploy")
    assert out.exit_code != 0
    # the core says it in the deployment's language (Chinese by default); the chain id is named
    assert "TRELLIS_CHAIN_ID=1" in out.output and re.search(r"31,?337", out.output), out.output
    assert int(anvil.rpc("eth_blockNumber"), 16) == head  # nothing was deployed
    ok = cli(make_app(chain_url=anvil.url, chain_key=ANVIL_KEYS[0], chain_id=31337),
             "chain", "deploy")
    assert ok.exit_code == 0 and ok.output.startswith("0x")


@pytest.mark.parametrize("job", ["anchor_pending", "track_confirmations"])
@pytest.mark.parametrize("fault", ["node down", "wrong chain id"])
def test_chain_jobs_fail_when_the_chain_is_down_or_another(make_app, anvil, session, job,
                                                           fault):
    if fault == "node down":
        chain = {"chain_url": f"http://127.0.0.1:{free_port()}", "chain_key": ANVIL_KEYS[0],
                 "chain_contract": "0x" + "12" * 20}
        expected, said = "does not answer", "没有响应"
    else:
        chain = {"chain_url": anvil.url, "chain_key": ANVIL_KEYS[0], "chain_id": 1,
                 "chain_contract": deploy_registry(anvil.url)}
        expected, said = "not TRELLIS_CHAIN_ID=1", "而不是 TRELLIS_CHAIN_ID=1"
    out = cli(make_app(**chain), "jobs", "run", "--once", job)
    assert out.exit_code == 1, out.output
    # the operator reads the core's words in the deployment's language (Chinese by default)
    assert f"{job}: FAILED" in out.output and said in out.output, out.output
    run = session.scalars(select(JobRun).where(JobRun.job_id == job)
                          .order_by(JobRun.id.desc())).first()
    assert run is not None and run.ok is False and expected in run.text


# --- defect 4: a nonce gap after a failed send --------------------------------------------


def queue(session_factory, n, prefix):
    with transaction(session_factory) as s:
        for i in range(n):
            commitments.enqueue(session=s, doc_type="ledger_entry", doc_id=f"{prefix}-{i}",
                                payload={"amount_fen": 1 + i, "memo": prefix})


def all_batches(session_factory):
    with transaction(session_factory) as s:
        return list(s.scalars(select(Batch).order_by(Batch.id)))


@pytest.fixture
def invoice(session, make_firm):
    seller, buyer = make_firm(name="乙五金"), make_firm(role="anchor")

    def make(number="N-1"):
        inv = Invoice(seller_id=seller.id, buyer_id=buyer.id, number=number,
                      amount_fen=300_00, issue_date=date(2026, 4, 1),
                      due_date=date(2026, 7, 1))
        session.add(inv)
        session.flush()
        return inv

    return make


def pending(chain) -> int:
    return chain.w3.eth.get_transaction_count(chain.address, "pending")


def drop_one_send(chain):
    """The next eth_sendRawTransaction is lost on the way (the node never sees it)."""
    original = chain.w3.eth.send_raw_transaction
    calls = []

    def lossy(raw):
        if not calls:
            calls.append(raw)
            raise requests.ConnectionError("connection reset by a proxy")
        return original(raw)

    chain.w3.eth.send_raw_transaction = lossy
    return calls


def test_a_failed_registration_send_leaves_no_nonce_gap(session, session_factory,
                                                        anvil_settings, invoice):
    chain = client.get_chain(anvil_settings)
    before = pending(chain)
    inv = invoice("N-1")
    dropped = drop_one_send(chain)
    attempt = session.begin_nested()
    with pytest.raises(ChainUnavailable):
        registry.register_financing(session=session, settings=anvil_settings,
                                    invoice_ids=[inv.id])
    attempt.rollback()  # the caller's transaction is rolled back: no record of it
    assert dropped and pending(chain) == before
    queue(session_factory, 4, "G")
    jobs.anchor_pending(session_factory=session_factory, settings=anvil_settings)
    (b,) = all_batches(session_factory)
    assert b.state == "included" and b.nonce == before
    registry.register_financing(session=session, settings=anvil_settings,
                                invoice_ids=[inv.id])
    assert pending(chain) == before + 2


def test_a_gap_in_front_of_a_recorded_transaction_is_filled(session_factory, anvil_settings):
    chain = client.get_chain(anvil_settings)
    queue(session_factory, 4, "H")
    gap = pending(chain)
    with transaction(session_factory) as s:
        batch = anchoring.cut_batch(session=s, settings=anvil_settings)
        fn = chain.contract.functions.anchor(bytes.fromhex(batch.root[2:]), batch.leaf_count,
                                             bytes.fromhex(batch.manifest_hash[2:]))
        # Signed by an older process with a nonce one past a transaction that was lost.
        anchoring._record(s, batch, chain.sign(fn, nonce=gap + 1), chain)
    with transaction(session_factory) as s:
        assert anchoring.send(session=s, chain=chain, batch=s.get(Batch, batch.id))
    assert all_batches(session_factory)[0].state == "submitted"
    assert pending(chain) == gap  # the node keeps it waiting behind the gap
    outcome = jobs.track_confirmations(session_factory=session_factory,
                                       settings=anvil_settings)
    (b,) = all_batches(session_factory)
    assert b.state in ("included", "safe"), outcome
    assert pending(chain) == gap + 2
    with transaction(session_factory) as s:
        kinds = sorted((t.kind, t.nonce, t.state) for t in s.scalars(select(ChainTx)))
    assert kinds == [("anchor", gap + 1, "mined"), ("filler", gap, "sent")]


# --- defect 5: a fee ceiling ---------------------------------------------------------------


def test_replacements_stop_at_the_fee_ceiling_with_an_alert(session_factory, anvil_settings,
                                                            anvil, caplog):
    from decimal import Decimal

    from trellis.chain import health
    from trellis.clock import utcnow

    today = client.Chain.connect(anvil_settings).fees()[0]  # no ceiling
    ceiling = Decimal(today * 13 // 10) / 10**9  # room for one bump of 25%, not two
    settings = dataclasses.replace(anvil_settings, chain_max_fee_gwei=ceiling)
    chain = client.get_chain(settings)
    later = utcnow().replace(year=utcnow().year + 1)
    anvil.rpc("evm_setAutomine", [False])
    try:
        queue(session_factory, 4, "F")
        jobs.anchor_pending(session_factory=session_factory, settings=settings)
        (b,) = all_batches(session_factory)
        assert b.state == "submitted"
        bumps = []
        for step in range(4):  # a year stuck each time: every look wants a replacement
            with transaction(session_factory) as s:
                new = anchoring.track(session=s, chain=chain, batch=s.get(Batch, b.id),
                                      settings=settings, head=chain.head(),
                                      now=later.replace(second=step))
            if new is None:
                break
            bumps.append(new.max_fee_per_gas)
            with transaction(session_factory) as s:
                anchoring.send(session=s, chain=chain, batch=s.get(Batch, b.id))
        assert 1 <= len(bumps) < 4
        with transaction(session_factory) as s:
            fees = list(s.scalars(select(ChainTx.max_fee_per_gas)))
        assert max(fees) <= ceiling * 10**9
        with caplog.at_level("ERROR", logger="trellis.chain"):
            jobs.track_confirmations(session_factory=session_factory, settings=settings)
        assert "fee ceiling reached" in caplog.text
        with transaction(session_factory) as s:
            report = health.status(settings, session=s)
        assert report["ok"] is False and "fee ceiling reached" in report["error"]
        assert [a["key"] for a in report["alerts"]] == ["fee_ceiling"]
        anvil.rpc("evm_mine")
        jobs.track_confirmations(session_factory=session_factory, settings=settings)
        assert all_batches(session_factory)[0].state == "included"
        with transaction(session_factory) as s:
            report = health.status(settings, session=s)
        assert report["ok"] is True and report["alerts"] == []
    finally:
        anvil.rpc("evm_setAutomine", [True])


# --- defect 3: a chain that forgets finalized batches ------------------------------------


def test_drill_a_rewound_chain_is_noticed_and_every_batch_reanchored(anvil, tmp_path):
    """anchor, finalize, evm_revert below the anchoring blocks while the scheduler runs:
    health says so at once, the first tracking pass withholds the lost batches' proofs
    and re-anchors them, and within two tracking periods every batch is on chain again
    and every proof issued verifies."""
    import time

    from trellis import db, migrate
    from trellis import jobs as job_registry
    from trellis.chain import bundles, health, trust, verify
    from trellis.chain.errors import ProofNotReady
    from trellis.chain.models import Document
    from trellis.config import Settings

    url = f"sqlite:///{tmp_path / 'drill.db'}"
    migrate.upgrade(url)
    factory = db.make_sessionmaker(db.make_engine(url))
    settings = Settings(database_url=url, chain_url=anvil.url, chain_key=ANVIL_KEYS[0],
                        chain_contract=deploy_registry(anvil.url), batch_max_documents=4,
                        batch_max_wait_seconds=0, chain_confirmations_safe=2,
                        chain_confirmations_final=4, fingerprint_key="k")
    snapshot = anvil.rpc("evm_snapshot")
    queue(factory, 20, "R")
    jobs.anchor_pending(session_factory=factory, settings=settings)
    anvil.rpc("anvil_mine", [8])
    jobs.track_confirmations(session_factory=factory, settings=settings)
    # 8 confirmations are more than chain_confirmations_final, but the node's own
    # "finalized" block (64 behind its head on anvil) is what counts.
    assert "finalized" not in {b.state for b in all_batches(factory)}
    anvil.rpc("anvil_mine", [70])
    jobs.track_confirmations(session_factory=factory, settings=settings)
    before = all_batches(factory)
    assert [b.state for b in before] == ["finalized"] * 5

    def bundles_now():
        out = {}
        with transaction(factory) as s:
            for b in all_batches(factory):
                doc = s.scalars(select(Document).where(Document.batch_id == b.id)).first()
                try:
                    out[b.id] = bundles.make_bundle(session=s, document=doc)
                except ProofNotReady:
                    out[b.id] = None
        return out

    old = bundles_now()
    assert anvil.rpc("evm_revert", [snapshot]) is True
    chain = client.get_chain(settings)
    trusted = trust.of_instance(chain)
    assert [chain.anchored_at(b.root) for b in before] == [0] * 5
    with transaction(factory) as s:
        report = health.status(settings, session=s)
    assert report["ok"] is False and "no longer has the root" in report["error"]

    period = 2
    specs = tuple(dataclasses.replace(job_registry.find(j), args={"seconds": period})
                  for j in ("anchor_pending", "track_confirmations"))
    scheduler = job_registry.build_scheduler(session_factory=factory, settings=settings,
                                             jobs=specs)
    started = time.monotonic()
    scheduler.start()
    issued, verified = 0, []
    try:
        while time.monotonic() - started < 2 * period + 1:
            time.sleep(0.25)
            runs = _runs(factory, "track_confirmations")
            for batch_id, bundle in bundles_now().items():
                if bundle is None or not runs:
                    continue  # withheld, or issued before the first pass ended
                issued += 1
                result = verify.verify_bundle(bundle, rpc_url=anvil.url, trust=trusted)
                verified.append((batch_id, result.ok))
            after = all_batches(factory)
            if all(b.state != "pending" and b.block_number for b in after) and runs and \
                    [chain.anchored_at(b.root) for b in after] == \
                    [b.block_number for b in after]:
                break
        elapsed = time.monotonic() - started
    finally:
        scheduler.shutdown(wait=True)
    after = all_batches(factory)
    assert elapsed <= 2 * period + 1, elapsed
    assert [chain.anchored_at(b.root) for b in after] == [b.block_number for b in after]
    assert [b.anchor_count for b in after] == [2] * 5
    assert all(ok for _, ok in verified), verified
    for bundle in old.values():  # proofs of the lost anchoring no longer verify
        assert not verify.verify_bundle(bundle, rpc_url=anvil.url, trust=trusted).ok
    for bundle in bundles_now().values():
        assert verify.verify_bundle(bundle, rpc_url=anvil.url, trust=trusted).ok
    with transaction(factory) as s:
        assert health.status(settings, session=s)["ok"] is True


def _runs(factory, job_id):
    with transaction(factory) as s:
        return list(s.scalars(select(JobRun).where(JobRun.job_id == job_id)))


# --- defect 12: the tracking summary and the reorg log -----------------------------------


def test_the_summary_counts_each_reanchored_batch_once(session_factory, embedded,
                                                       chain_settings):
    queue(session_factory, 8, "S")
    jobs.anchor_pending(session_factory=session_factory, settings=chain_settings)
    fresh = client.Chain.embedded()  # the process restarted: a new, empty chain
    client.use_chain(chain_settings, fresh)
    outcome = jobs.track_confirmations(session_factory=session_factory,
                                       settings=chain_settings)
    assert "re-anchored 2" in outcome, outcome
    assert [b.anchor_count for b in all_batches(session_factory)] == [2, 2]


def test_a_reorg_is_logged_as_a_reorg(session_factory, anvil_settings, anvil, caplog):
    queue(session_factory, 4, "O")
    jobs.anchor_pending(session_factory=session_factory, settings=anvil_settings)
    anvil.rpc("anvil_reorg", [1, []])
    client.reset_chains()  # the jobs process restarted meanwhile
    with caplog.at_level("WARNING", logger="trellis.chain"):
        jobs.track_confirmations(session_factory=session_factory, settings=anvil_settings)
    assert "reorg: the root is no longer anchored" in caplog.text
    assert "restarted chain" not in caplog.text and "not on this chain" not in caplog.text


# --- defect 6: two databases sharing one anchoring key -----------------------------------


def _bank_database(path, number):
    """A second Trellis database of its own (own migration, own instance id), holding
    the very same invoice."""
    from trellis import db, migrate
    from trellis.trade.models import Firm

    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    factory = db.make_sessionmaker(db.make_engine(url))
    with transaction(factory) as s:
        seller = Firm(uscc="91330100MA00000010", name="丙五金", role="vendor",
                      industry="manufacturing", founded_on=date(2018, 1, 1))
        buyer = Firm(uscc="91330100MA00000029", name="丁建工", role="anchor",
                     industry="construction", founded_on=date(2010, 1, 1))
        s.add_all([seller, buyer])
        s.flush()
        inv = Invoice(seller_id=seller.id, buyer_id=buyer.id, number=number,
                      amount_fen=900_00, issue_date=date(2026, 5, 5),
                      due_date=date(2026, 8, 5))
        s.add(inv)
        s.flush()
        return factory, inv.id


def test_double_financing_across_two_databases_sharing_one_key(anvil_settings, tmp_path):
    from trellis.chain.errors import DoubleFinancing
    bank_a, inv_a = _bank_database(tmp_path / "a.db", "D-9")
    bank_b, inv_b = _bank_database(tmp_path / "b.db", "D-9")
    with transaction(bank_b) as s:  # B finances it first, with the shared key
        registry.register_financing(session=s, settings=anvil_settings, invoice_ids=[inv_b])
    with transaction(bank_a) as s, pytest.raises(DoubleFinancing) as err:
        registry.register_financing(session=s, settings=anvil_settings, invoice_ids=[inv_a])
    assert "invoice D-9" in err.value.message
    assert "another database sharing this anchoring key" in err.value.message
    with transaction(bank_b) as s:  # B's own retry is still its own
        registry.register_financing(session=s, settings=anvil_settings, invoice_ids=[inv_b])


def test_crash_recovery_recognises_only_its_own_registration(session, anvil_settings,
                                                             invoice):
    from sqlalchemy import delete

    from trellis.chain.errors import DoubleFinancing
    from trellis.chain.models import Fingerprint

    inv = invoice("R-1")
    registry.register_financing(session=session, settings=anvil_settings,
                                invoice_ids=[inv.id], financing_ref="loan:1:20260601000000")
    session.execute(delete(Fingerprint))  # the record is lost (a crash, a restore)
    with pytest.raises(DoubleFinancing, match="another financing"):
        registry.register_financing(session=session, settings=anvil_settings,
                                    invoice_ids=[inv.id],
                                    financing_ref="loan:1:20260909000000")
    again = registry.register_financing(session=session, settings=anvil_settings,
                                        invoice_ids=[inv.id],
                                        financing_ref="loan:1:20260601000000")
    assert len(again) == 2


# --- defect 9: stuck registrations, a failing log query, two submitters -------------------


def test_a_stuck_registration_is_replaced_with_higher_fees(session, anvil_settings, anvil,
                                                           invoice, monkeypatch):
    """The node holds transactions (no mining) and mines once a replacement comes."""
    settings = dataclasses.replace(anvil_settings, chain_stuck_seconds=1)
    monkeypatch.setattr(registry, "RECEIPT_TIMEOUT_SECONDS", 12)
    chain = client.get_chain(settings)
    original = chain.send_raw
    sends = []

    def send_raw(raw):
        sends.append(raw)
        out = original(raw)
        if len(sends) > 1:
            anvil.rpc("evm_mine")
        return out

    monkeypatch.setattr(chain, "send_raw", send_raw)
    inv = invoice("ST-1")
    anvil.rpc("evm_setAutomine", [False])
    try:
        registry.register_financing(session=session, settings=settings,
                                    invoice_ids=[inv.id])
    finally:
        anvil.rpc("evm_setAutomine", [True])
    rows = list(session.scalars(select(ChainTx).where(ChainTx.kind == "register")
                                .order_by(ChainTx.id)))
    assert len(rows) == 2 and rows[0].nonce == rows[1].nonce
    assert [r.state for r in rows] == ["replaced", "mined"]
    assert rows[1].max_fee_per_gas >= rows[0].max_fee_per_gas * 5 // 4


def test_one_failing_log_query_does_not_end_the_tracking_pass(session_factory,
                                                              anvil_settings, monkeypatch):
    from sqlalchemy import update
    from web3.exceptions import Web3RPCError

    chain = client.get_chain(anvil_settings)
    queue(session_factory, 8, "L")
    with transaction(session_factory) as s:
        cut = [anchoring.cut_batch(session=s, settings=anvil_settings) for _ in range(2)]
        roots = [(b.id, b.root, b.leaf_count, b.manifest_hash) for b in cut]
        # Anchored once, then the chain lost them: waiting to be re-anchored.
        s.execute(update(Batch).values(anchor_count=1, last_error="reorg"))
    for _, root, count, manifest in roots:  # ...but a lost process anchored them again
        fn = chain.contract.functions.anchor(bytes.fromhex(root[2:]), count,
                                             bytes.fromhex(manifest[2:]))
        chain.wait(chain.send_raw(chain.sign(fn).raw))
    original, calls = chain.w3.eth.get_logs, []

    def get_logs(params):
        calls.append(params)
        if len(calls) == 1:
            raise Web3RPCError("query returned more than 10000 results")
        return original(params)

    monkeypatch.setattr(chain.w3.eth, "get_logs", get_logs)
    outcome = jobs.track_confirmations(session_factory=session_factory,
                                       settings=anvil_settings)
    states = [b.state for b in all_batches(session_factory)]
    assert states == ["pending", "included"], outcome
    jobs.track_confirmations(session_factory=session_factory, settings=anvil_settings)
    assert [b.state for b in all_batches(session_factory)] == ["included", "included"]


@pytest.fixture
def pg_factory():
    """Sessions on a fresh, migrated PostgreSQL schema whose commits are real (two
    submitters need two transactions)."""
    import uuid

    from sqlalchemy import text

    from tests.conftest import PG_URL, _pg_answers, need
    from trellis import db, migrate

    need(_pg_answers(PG_URL), f"no PostgreSQL server answers at {PG_URL}")
    schema = f"lock_{uuid.uuid4().hex[:8]}"
    admin = db.make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    engine = db.make_engine(url)
    yield db.make_sessionmaker(engine)
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'drop schema "{schema}" cascade'))
    admin.dispose()


def test_two_submitters_cannot_prepare_one_batch(pg_factory, embedded, chain_settings):
    from sqlalchemy import text

    queue(pg_factory, 4, "P")
    with transaction(pg_factory) as s:
        batch_id = anchoring.cut_batch(session=s, settings=chain_settings).id
    first, second = pg_factory(), pg_factory()
    try:
        mine = anchoring.prepare(session=first, chain=embedded,
                                 batch=first.get(Batch, batch_id))
        assert mine is not None  # signed and recorded, not committed yet: row locked
        second.execute(text("set local lock_timeout = '3s'"))  # never wait for ever
        theirs = anchoring.prepare(session=second, chain=embedded,
                                   batch=second.get(Batch, batch_id))
        assert theirs is None
        second.rollback()
        first.commit()
    finally:
        first.close()
        second.close()
    with transaction(pg_factory) as s:
        assert len(list(s.scalars(select(ChainTx)))) == 1


# --- defect 11: the embedded chain across a restart ---------------------------------------


def test_the_embedded_chain_keeps_its_state_across_a_restart(session_factory, tmp_path,
                                                             caplog):
    from trellis.chain import health
    from trellis.config import Settings

    settings = Settings.from_env({}, instance_path=str(tmp_path / "instance"),
                                 batch_max_documents=4, batch_max_wait_seconds=3600,
                                 chain_confirmations_safe=2, chain_confirmations_final=4)
    client.reset_chains()
    try:
        queue(session_factory, 8, "M")
        jobs.anchor_pending(session_factory=session_factory, settings=settings)
        first = client.get_chain(settings)
        before = all_batches(session_factory)
        assert [b.state for b in before] == ["included", "included"]
        assert (tmp_path / "instance" / "chain" / "embedded.evm").exists()
        client.reset_chains()  # `make run` stopped and started again
        again = client.get_chain(settings)
        assert again is not first and again.contract_address == first.contract_address
        assert [again.anchored_at(b.root) for b in before] == \
            [b.block_number for b in before]
        with caplog.at_level("WARNING", logger="trellis.chain"):
            outcome = jobs.anchor_pending(session_factory=session_factory,
                                          settings=settings)
            jobs.track_confirmations(session_factory=session_factory, settings=settings)
        assert "re-anchored" not in outcome and "re-anchoring" not in caplog.text
        assert [b.anchor_count for b in all_batches(session_factory)] == [1, 1]
        with transaction(session_factory) as s:
            assert health.status(settings, session=s)["ok"] is True
    finally:
        client.reset_chains()
