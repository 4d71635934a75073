"""Voucher settlement drill from outside, on PostgreSQL.

Made from the product decision only: "Vouchers settle one voucher per database
transaction, in a fixed lock order. One voucher that fails to settle does not roll back or
block the others, and a repayment on another loan is not held for the whole settlement
job. If any voucher fails, the job run is recorded as failed with an error named
SettlementIncomplete whose message, in the reader's language (Chinese by default) with
amounts in yuan, gives the number settled and each failed voucher's code, what it still
owes and why. A re-run settles nothing twice. The ledger always balances (`trellis ledger
check` is clean) after any of this, including if the settling process is killed with
SIGKILL mid-run."

The tester did not read ``trellis/vouchers``, ``trellis/ledger`` or their tests. What was
read: the README (jobs, the ledger's shards: "an entry of one loan goes to shard loan id
mod N"), ``trellis ... --help``, and the ``help()`` text (signatures and docstrings) of the
public services called here: ``trellis.vouchers.services.issue/split/pay_supplier``,
``trellis.vouchers.financing.quote/accept``, ``trellis.ledger.lifecycle.repay/lock_loan/
owed_by_borrower``, ``trellis.jobs.find/run_job`` and ``trellis.vouchers.jobs``. Table and
column names come from the PostgreSQL catalogue (``\\d``), not from the code.

The book is made once per session with public commands (``trellis db upgrade``, ``trellis
demo seed``), then public services: about 60 matured vouchers issued by the three demo
anchors on their confirmed, unpaid invoices (some split, some passed to a tier-2
supplier), 5 of them with a part financed through the receivable product (quoted and
accepted 30 days ago, paid out by ``trellis ledger disburse``), and 3 vouchers not yet
matured. The loans' id sequence is moved past 36 first, so the financed loans (37...) fall
on the same journal shards as the demo loans 5, 6 and 7 (id mod 32), as they would in a
book with more loans; nothing else is written by hand. Each test gets a copy of that
schema (``pg_dump`` into a new schema) and of the instance folder (the embedded chain).

A failure is made the way the settlement's own docstring names one ("a loan it repays is
closed"): the borrower repays, in full, the loan a voucher part is pledged to before the
voucher matures.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, _pg_answers, need
from tests.drills.conftest import ROOT, base_env, log_in, make_app, trellis
from trellis import clock

FINANCED = 5        # vouchers with a financed part
PLAIN = 58          # matured vouchers paid to their holders
FUTURE = 3          # vouchers that are not matured yet
LOCK_TIMEOUT_MS = 2000


# --- the database: a seeded template schema, copied per test ---------------------------

def _pg() -> dict[str, str]:
    u = make_url(PG_URL)
    return {"host": u.host or "127.0.0.1", "port": str(u.port or 5432),
            "user": u.username or "root", "db": u.database or "test"}


def _url(schema: str) -> str:
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


def _psql(sql_text: str) -> None:
    pg = _pg()
    subprocess.run(["psql", "-h", pg["host"], "-p", pg["port"], "-U", pg["user"], "-q",
                    "-v", "ON_ERROR_STOP=1", pg["db"]], input=sql_text, text=True,
                   capture_output=True, check=True)


def _env(folder: Path, schema: str) -> dict[str, str]:
    env = base_env(folder)
    env["TRELLIS_DATABASE_URL"] = _url(schema)
    env.pop("TRELLIS_DEFAULT_LOCALE", None)   # the product's default: Chinese
    return env


def _yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def _build_book(url: str) -> None:
    """Vouchers through the public services, as anchors and holders would make them."""
    from trellis import db
    from trellis.errors import TrellisError
    from trellis.ledger import origination
    from trellis.vouchers import financing, services

    engine = db.make_engine(url)
    factory = db.make_sessionmaker(engine)
    today = clock.today()
    issued, past = today - timedelta(days=60), today - timedelta(days=30)
    with db.transaction(factory) as s:
        # Later loans land on the demo loans' journal shards (loan id mod 32).
        s.execute(text("select setval('loans_id_seq', greatest(36, (select max(id) from loans)))"))
        approvers = [s.execute(text("select id from users where email = :e"), {"e": e}).scalar_one()
                     for e in ("rm@trellis.demo", "admin@trellis.demo")]
        invoices = s.execute(text(
            "select i.id, i.buyer_id, i.seller_id from invoices i "
            "join firms f on f.id = i.buyer_id "
            "where f.role = 'anchor' and i.status = 'confirmed' and i.paid_fen < i.amount_fen "
            "order by i.id")).all()
    financed, plain, future, used_holders = 0, 0, 0, set()
    for n, (invoice_id, anchor_id, seller_id) in enumerate(invoices):
        if financed >= FINANCED and plain >= PLAIN and future >= FUTURE:
            break
        want_financed = financed < FINANCED and n % 3 == 1 and seller_id not in used_holders
        want_future = not want_financed and future < FUTURE and n % 20 == 9
        if not (want_financed or want_future) and plain >= PLAIN:
            continue
        try:
            with db.transaction(factory) as s:
                maturity = today + timedelta(days=30) if want_future else \
                    today - timedelta(days=1 if want_financed or n % 3 else 8)
                voucher = services.issue(session=s, anchor_id=anchor_id, invoice_id=invoice_id,
                                         maturity_date=maturity, issued_on=issued)
                root = services.fragments(session=s, voucher_id=voucher.id)[0]
                if want_financed:
                    part = root
                    if financed == 0:   # the one made to fail holds a second, unpledged part
                        rest = root.amount_fen * 3 // 10
                        part = services.split(session=s, holder_id=seller_id, fragment_id=root.id,
                                              amounts=[root.amount_fen - rest, rest], as_of=past)[0]
                    application, offer = financing.quote(session=s, holder_id=seller_id,
                                                         fragment_id=part.id, as_of=past)
                    for approver in approvers:   # under review: the RM, then a second approver
                        if offer is None and application.status in ("review", "second_approval"):
                            application = origination.decide(
                                session=s, application_id=application.id, user_id=approver,
                                approve=True, as_of=past)
                            offer = origination.open_offer(s, application.id)
                    if offer is None:
                        raise LookupError(f"no offer: {application.status}")
                    financing.accept(session=s, holder_id=seller_id, offer_id=offer.id, as_of=past)
                    used_holders.add(seller_id)
                elif not want_future and n % 5 == 0:
                    services.split(session=s, holder_id=seller_id, fragment_id=root.id,
                                   amounts=[root.amount_fen - 2 * (root.amount_fen // 5),
                                            root.amount_fen // 5, root.amount_fen // 5],
                                   as_of=past)
                elif not want_future and n % 7 == 0:
                    suppliers = services.suppliers_of(session=s, firm_id=seller_id)
                    if suppliers:
                        services.pay_supplier(session=s, holder_id=seller_id,
                                              fragment_id=root.id, to_firm_id=suppliers[0].id,
                                              amount_fen=root.amount_fen // 2, as_of=past)
        except (TrellisError, LookupError):
            continue
        if want_financed:
            financed += 1
        elif want_future:
            future += 1
        else:
            plain += 1
    engine.dispose()
    assert financed == FINANCED and plain == PLAIN and future == FUTURE, \
        (financed, plain, future, len(invoices))


@pytest.fixture(scope="session")
def pg_template(tmp_path_factory):
    need(_pg_answers(PG_URL), f"no PostgreSQL server answers at {PG_URL}")
    schema = f"drillvt_{uuid.uuid4().hex[:10]}"
    folder = tmp_path_factory.mktemp("settle-template")
    _psql(f'create schema "{schema}";')
    try:
        env = _env(folder, schema)
        trellis(env, "db", "upgrade", check=True, timeout=1200)
        trellis(env, "demo", "seed", "--vendors", "30", "--no-score", check=True, timeout=1800)
        _build_book(env["TRELLIS_DATABASE_URL"])
        trellis(env, "ledger", "disburse", check=True, timeout=1200)
        check = trellis(env, "ledger", "check", timeout=1200)
        assert check.returncode == 0, f"the book is not clean before any settlement:\n" \
                                      f"{check.stdout[-2000:]}{check.stderr[-2000:]}"
        yield schema, folder
    finally:
        _psql(f'drop schema if exists "{schema}" cascade;')


@dataclass
class Book:
    env: dict[str, str]
    schema: str
    engine: object
    factory: object
    settings: object
    matured: list[int] = field(default_factory=list)    # voucher ids, by id
    future: list[int] = field(default_factory=list)
    financed: list[tuple[int, int, int]] = field(default_factory=list)  # voucher, part, loan

    def q(self, sql_text: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql_text), params).all()

    def scalar(self, sql_text: str, **params):
        return self.q(sql_text, **params)[0][0]

    def settled_count(self) -> int:
        return self.scalar("select count(*) from vouchers where status = 'settled'")


@pytest.fixture
def book(pg_template, tmp_path):
    from trellis import db
    from trellis.config import Settings

    template, template_folder = pg_template
    schema = f"drillv_{uuid.uuid4().hex[:10]}"
    pg = _pg()
    dump = subprocess.run(["pg_dump", "-h", pg["host"], "-p", pg["port"], "-U", pg["user"],
                           "-n", template, "--no-owner", "--no-privileges", pg["db"]],
                          capture_output=True, text=True, check=True).stdout
    _psql(dump.replace(template, schema))
    folder = tmp_path / "instance"
    shutil.copytree(template_folder, folder)
    env = _env(folder, schema)
    engine = db.make_engine(env["TRELLIS_DATABASE_URL"])
    settings = Settings.from_env(env)
    b = Book(env=env, schema=schema, engine=engine, factory=db.make_sessionmaker(engine),
             settings=settings)
    today = clock.today()
    b.matured = [r[0] for r in b.q("select id from vouchers where status = 'active' and "
                                   "maturity_date <= :d order by id", d=today)]
    b.future = [r[0] for r in b.q("select id from vouchers where maturity_date > :d", d=today)]
    b.financed = [tuple(r) for r in b.q(
        "select f.voucher_id, f.id, f.loan_id from voucher_fragments f join loans l "
        "on l.id = f.loan_id where f.status = 'financed' and l.status = 'active' "
        "order by f.voucher_id")]
    assert len(b.matured) == FINANCED + PLAIN and len(b.future) == FUTURE, b
    assert len(b.financed) == FINANCED, ("financed parts whose loan was paid out", b.financed)
    yield b
    engine.dispose()
    _psql(f'drop schema if exists "{schema}" cascade;')


# --- what happened: snapshots and the "exactly once" check ------------------------------

@dataclass
class Snapshot:
    vouchers: dict[int, tuple]          # id -> (code, issuer, invoice, status)
    live: dict[int, list[tuple]]        # voucher -> [(part, holder, amount, status, loan)]
    invoice_paid: dict[int, tuple]      # invoice -> (paid, amount)
    top: dict[str, int]


TABLES = ("payments", "loan_repayments", "voucher_events", "journal_entries", "job_runs")


def snapshot(b: Book) -> Snapshot:
    vouchers = {r[0]: tuple(r[1:]) for r in b.q(
        "select id, code, issuer_id, invoice_id, status from vouchers")}
    live: dict[int, list[tuple]] = {}
    for r in b.q("select voucher_id, id, holder_id, amount_fen, status, loan_id "
                 "from voucher_fragments where status in ('held', 'financed') order by id"):
        live.setdefault(r[0], []).append(tuple(r[1:]))
    invoices = {r[0]: (r[1], r[2]) for r in b.q(
        "select i.id, i.paid_fen, i.amount_fen from invoices i join vouchers v "
        "on v.invoice_id = i.id")}
    top = {t: b.scalar(f"select coalesce(max(id), 0) from {t}") for t in TABLES}
    return Snapshot(vouchers, live, invoices, top)


def owed_fen(snap: Snapshot, voucher_id: int) -> int:
    return sum(part[2] for part in snap.live[voucher_id])


def check_exactly_once(b: Book, before: Snapshot, settled: list[int], active: list[int]) -> None:
    """Every voucher in *settled* was paid once, part by part; nothing in *active* was."""
    status = dict(b.q("select id, status from vouchers"))
    assert [v for v in settled if status[v] != "settled"] == [], "vouchers left unsettled"
    assert [v for v in active if status[v] != "active"] == [], "vouchers settled wrongly"

    events = Counter(r[0] for r in b.q(
        "select fragment_id from voucher_events where kind = 'settle' and id > :top",
        top=before.top["voucher_events"]))
    doubled = {part: n for part, n in events.items() if n > 1}
    assert doubled == {}, f"parts with more than one settle event: {doubled}"
    expected_parts = {p[0] for v in settled for p in before.live.get(v, [])}
    assert set(events) == expected_parts, (
        f"settle events for parts not due: {sorted(set(events) - expected_parts)}; "
        f"parts settled without one: {sorted(expected_parts - set(events))}")
    part_status = dict(b.q("select id, status from voucher_fragments"))
    assert {p for p in expected_parts if part_status[p] != "settled"} == set()
    for v in active:
        for p in before.live.get(v, []):
            assert part_status[p[0]] == p[3], f"part {p[0]} of active voucher {v} changed"

    repaid = Counter(r[0] for r in b.q(
        "select loan_id from loan_repayments where source = 'anchor' and id > :top",
        top=before.top["loan_repayments"]))
    want_repaid = Counter(p[4] for v in settled for p in before.live.get(v, [])
                          if p[3] == "financed")
    assert repaid == want_repaid, f"anchor repayments per loan {dict(repaid)}, " \
                                  f"want one per financed part {dict(want_repaid)}"

    paid = Counter((r[0], r[1], r[2]) for r in b.q(
        "select payer_id, payee_id, amount_fen from payments where id > :top",
        top=before.top["payments"]))
    want_paid = Counter((before.vouchers[v][1], p[1], p[2]) for v in settled
                        for p in before.live.get(v, []) if p[3] == "held")
    wrong = {k: (paid[k], n) for k, n in want_paid.items() if paid[k] != n}
    assert wrong == {}, f"(payer, holder, fen): (payments made, parts held) {wrong}"
    for v in active:
        for p in before.live.get(v, []):
            key = (before.vouchers[v][1], p[1], p[2])
            assert paid[key] == want_paid[key], f"holder of active voucher {v} was paid"

    invoices = {r[0]: (r[1], r[2]) for r in b.q("select id, paid_fen, amount_fen from invoices")}
    for v in settled:
        inv = before.vouchers[v][2]
        assert invoices[inv][0] == invoices[inv][1], f"voucher {v}: invoice {inv} not paid"
    for v in active:
        inv = before.vouchers[v][2]
        assert invoices[inv][0] == before.invoice_paid[inv][0], f"invoice of active {v} moved"


def ledger_check(b: Book, when: str) -> None:
    run = trellis(b.env, "ledger", "check", timeout=1200)
    assert run.returncode == 0, f"`trellis ledger check` {when}:\n{run.stdout[-3000:]}" \
                                f"\n{run.stderr[-3000:]}"


def job_runs(b: Book, since: int) -> list[tuple]:
    return b.q("select id, ok, outcome from job_runs where job_id = 'settle_vouchers' "
               "and id > :top order by id", top=since)


def run_job_here(b: Book):
    from trellis.jobs import find, run_job

    return run_job(find("settle_vouchers"), session_factory=b.factory, settings=b.settings)


def close_loan(b: Book, loan_id: int) -> None:
    """The borrower repays the pledged loan in full before the voucher matures."""
    from trellis import db
    from trellis.ledger import lifecycle

    with db.transaction(b.factory) as s:
        loan = lifecycle.lock_loan(s, loan_id)
        lifecycle.repay(session=s, loan_id=loan_id, amount_fen=lifecycle.owed_by_borrower(loan),
                        paid_on=clock.today(), idempotency_key=f"drill-close-{loan_id}")
    status, closed_on = b.q("select status, closed_on from loans where id = :i", i=loan_id)[0]
    assert closed_on is not None, f"loan {loan_id} still {status} after a full repayment"


# --- a settling process of its own (for kill -9 and for concurrency) --------------------

CHILD = r"""
import os, sys, threading, time
from pathlib import Path
from trellis import db
from trellis.config import Settings
from trellis.jobs import find, run_job
go, ready, threads = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
settings = Settings.from_env()
engine = db.make_engine(settings.database_url)
factory = db.make_sessionmaker(engine)
with engine.connect() as c:
    pass
ready.write_text(str(os.getpid()))
while not go.exists():
    time.sleep(0.005)
runs = [threading.Thread(target=run_job, args=(find("settle_vouchers"),),
                         kwargs={"session_factory": factory, "settings": settings})
        for _ in range(threads)]
for t in runs: t.start()
for t in runs: t.join()
"""


def start_settlers(b: Book, folder: Path, processes: int, threads: int = 1):
    """Processes that each run the settlement job in *threads* threads, started together."""
    go = folder / "go"
    procs, readies = [], []
    for i in range(processes):
        ready = folder / f"ready-{i}"
        readies.append(ready)
        procs.append(subprocess.Popen([sys.executable, "-c", CHILD, str(go), str(ready),
                                       str(threads)], env=b.env, cwd=str(ROOT),
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 600
    while not all(r.exists() for r in readies):
        assert time.monotonic() < deadline, "settling processes never got ready"
        assert all(p.poll() is None for p in procs), [p.communicate()[0][-2000:] for p in procs]
        time.sleep(0.05)
    go.write_text("go")
    return procs


# --- (1) one voucher fails, the others settle, the message says so ---------------------

def _outcome_row(page_html: str, code: str) -> str:
    table = page_html[page_html.find('data-list="job-runs"'):]
    rows = re.findall(r"<tr>.*?</tr>", table, flags=re.S)
    row = next((r for r in rows if code in r), None)
    assert row is not None, f"no run on /admin/jobs names {code}:\n{table[:3000]}"
    cell = next((c for c in re.findall(r"<td[^>]*>.*?</td>", row, flags=re.S) if code in c), "")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()


def test_one_failing_voucher_leaves_the_others_settled_and_is_reported(book):
    from trellis.vouchers.errors import SettlementIncomplete
    from trellis.vouchers.jobs import settle_vouchers

    failing, _, loan_id = book.financed[0]
    close_loan(book, loan_id)
    before = snapshot(book)
    owed = owed_fen(before, failing)
    code = before.vouchers[failing][0]
    assert len(before.live[failing]) == 2, "the failing voucher holds a financed and a held part"

    run = trellis(book.env, "jobs", "run", "--once", "settle_vouchers", timeout=1200)
    others = [v for v in book.matured if v != failing]
    check_exactly_once(book, before, settled=others, active=[failing] + book.future)
    runs = job_runs(book, before.top["job_runs"])
    assert [r[1] for r in runs] == [False], f"the run is not recorded as failed: {runs}"
    assert run.returncode != 0, "`jobs run --once` exits 0 on an incomplete settlement"

    # The reader's language: the admin's page, Chinese by default, amounts in yuan.
    app = make_app(book.env)
    client = app.test_client()
    assert log_in(client, "admin@trellis.demo").status_code in (302, 303)
    said = _outcome_row(client.get("/admin/jobs").get_data(as_text=True), code)
    assert re.search(r"[\u4e00-\u9fff]{4}", said), f"not Chinese: {said}"
    assert not re.search(r"\b(Settled|could not|voucher|Loan)\b", said), f"English left: {said}"
    assert _yuan(owed) in said, f"what {code} still owes ({_yuan(owed)}) is not said: {said}"
    assert str(owed) not in said, f"an amount in fen is shown: {said}"
    assert re.search(rf"(?<![\d,.]){len(others)}(?![\d,.])", said), \
        f"the number settled ({len(others)}) is not said: {said}"
    assert re.search(rf"(?<![\d,.]){loan_id}(?![\d,.])", said), \
        f"why (the closed loan {loan_id}) is not said: {said}"

    # An English reader (the header's language switch) reads the same run in English.
    page = client.get("/admin/jobs").get_data(as_text=True)
    token = re.search(r'action="/locale".*?name="csrf_token" value="([^"]+)"', page, re.S)
    assert token, "no language switch on /admin/jobs"
    client.post("/locale", data={"csrf_token": token.group(1), "locale": "en",
                                 "next": "/admin/jobs"})
    said_en = _outcome_row(client.get("/admin/jobs").get_data(as_text=True), code)
    assert not re.search(r"[\u4e00-\u9fff]", said_en), f"Chinese for an English reader: {said_en}"
    assert _yuan(owed) in said_en and str(owed) not in said_en, said_en
    assert re.search(rf"(?<![\d,.]){len(others)}(?![\d,.])", said_en), said_en
    print(f"/admin/jobs, zh: {said}\n/admin/jobs, en: {said_en}")

    # A re-run: the job's error is SettlementIncomplete, it names the same voucher again,
    # and settles nothing twice.
    again = snapshot(book)
    with pytest.raises(SettlementIncomplete) as raised:
        settle_vouchers(session_factory=book.factory, settings=book.settings)
    assert code in str(raised.value) and _yuan(owed) in str(raised.value), str(raised.value)
    check_exactly_once(book, again, settled=[], active=[failing] + book.future)
    recorded = run_job_here(book)
    assert recorded.ok is False
    check_exactly_once(book, again, settled=[], active=[failing] + book.future)
    ledger_check(book, "after a run with a failed voucher and two re-runs")


def test_cli_reader_gets_the_incomplete_settlement_in_chinese_by_default(book):
    """Found by this drill: `trellis jobs run --once settle_vouchers` printed the message in
    English ('Settled 62 matured voucher(s); 1 could not be settled ...') with
    TRELLIS_DEFAULT_LOCALE unset (Chinese by default); /admin/jobs showed it in Chinese."""
    failing, _, loan_id = book.financed[0]
    close_loan(book, loan_id)
    before = snapshot(book)
    code = before.vouchers[failing][0]
    env = dict(book.env, LANG="zh_CN.UTF-8", LC_ALL="zh_CN.UTF-8")
    run = trellis(env, "jobs", "run", "--once", "settle_vouchers", timeout=1200)
    assert run.returncode != 0
    lines = [ln for ln in run.stdout.splitlines() if code in ln]
    assert lines, f"stdout does not name {code}:\n{run.stdout[-2000:]}"
    said = lines[0]
    assert _yuan(owed_fen(before, failing)) in said, said
    assert re.search(r"[\u4e00-\u9fff]{4}", said), f"not Chinese: {said}"
    assert not re.search(r"\b(Settled|could not|voucher|Loan)\b", said), f"English: {said}"


# --- (2) settlement run concurrently: nothing twice ------------------------------------

def test_concurrent_runs_settle_each_voucher_once(book, tmp_path):
    before = snapshot(book)
    procs = start_settlers(book, tmp_path, processes=2, threads=2)
    outputs = [p.communicate(timeout=1200)[0].decode(errors="replace") for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    check_exactly_once(book, before, settled=book.matured, active=book.future)
    runs = job_runs(book, before.top["job_runs"])
    assert len(runs) == 4, runs
    assert [r for r in runs if not r[1]] == [], f"a concurrent run failed: {runs}"
    ledger_check(book, "after four concurrent settlement runs")


# --- (3) a repayment on another loan is not held by the job ----------------------------

def test_repayment_on_another_loan_goes_through_while_settlement_runs(book, tmp_path):
    from trellis import db
    from trellis.ledger import lifecycle

    shards = {loan % 32 for _, _, loan in book.financed}
    others = [r[0] for r in book.q("select id from loans where status in ('active', 'overdue') "
                                   "and id < 37 order by id")]
    same_shard = [loan for loan in others if loan % 32 in shards]
    assert same_shard, ("no other loan shares a journal shard with a settled one", others)
    before = snapshot(book)
    total = len(book.matured)
    procs = start_settlers(book, tmp_path, processes=1)
    # (loan, seconds, error, vouchers settled at its start, at its end)
    tries: list[tuple[int, float, str, int, int]] = []
    n = 0
    while procs[0].poll() is None and book.settled_count() == 0:
        time.sleep(0.005)
    while procs[0].poll() is None and len(tries) < 400:
        for loan in same_shard + [x for x in others if x not in same_shard]:
            n += 1
            at_start = book.settled_count()
            t0 = time.monotonic()
            error = ""
            try:
                with db.transaction(book.factory) as s:
                    s.execute(text(f"set local lock_timeout = '{LOCK_TIMEOUT_MS}ms'"))
                    lifecycle.repay(session=s, loan_id=loan, amount_fen=100, paid_on=clock.today(),
                                    idempotency_key=f"drill-during-{loan}-{n}")
            except Exception as exc:   # noqa: BLE001 - any failure is the finding
                error = f"{type(exc).__name__}: {str(exc)[:300]}"
            tries.append((loan, time.monotonic() - t0, error, at_start, book.settled_count()))
    out = procs[0].communicate(timeout=1200)[0].decode(errors="replace")
    assert procs[0].returncode == 0, out[-3000:]
    mid = [t for t in tries if 0 < t[3] and t[4] < total]
    print(f"{len(tries)} repayments during the run, {len(mid)} strictly mid-run "
          f"({len([t for t in mid if t[0] in same_shard])} on loans {same_shard} sharing a "
          f"shard with a settled loan); slowest {max(t[1] for t in tries):.3f} s")
    assert [t for t in mid if t[0] in same_shard], \
        f"no repayment on a same-shard loan happened mid-run ({len(tries)} tries); {tries[:5]}"
    failed = [t for t in tries if t[2]]
    assert failed == [], f"repayments refused or timed out while settling: {failed[:5]}"
    slow = [t for t in tries if t[1] > LOCK_TIMEOUT_MS / 1000]
    assert slow == [], f"repayments held longer than {LOCK_TIMEOUT_MS} ms: {slow[:5]}"
    check_exactly_once(book, before, settled=book.matured, active=book.future)
    ledger_check(book, "after repayments made during settlement")


# --- (4) kill -9 mid-run, then a re-run ------------------------------------------------

def test_sigkill_mid_run_then_rerun_settles_each_voucher_once(book, tmp_path):
    before = snapshot(book)
    total = len(book.matured)
    # Kill when every voucher before a financed one is settled: the process is then most
    # likely inside the transaction that repays a loan through the ledger.
    target = book.financed[2][0]
    kill_at = book.matured.index(target)
    procs = start_settlers(book, tmp_path, processes=1)
    while procs[0].poll() is None and book.settled_count() < kill_at:
        time.sleep(0.002)
    os.kill(procs[0].pid, signal.SIGKILL)
    procs[0].wait(timeout=60)
    assert procs[0].returncode == -signal.SIGKILL, "the settling process ended before the kill"
    time.sleep(0.5)
    done = [v for v in book.matured if book.scalar("select status from vouchers where id = :i",
                                                   i=v) == "settled"]
    assert 0 < len(done) < total, f"not killed mid-run: {len(done)} of {total} settled"
    print(f"killed with {len(done)} of {total} vouchers settled (aimed at voucher {target})")
    check_exactly_once(book, before, settled=done,
                       active=[v for v in book.matured if v not in done] + book.future)
    ledger_check(book, "after the settling process was killed with SIGKILL")

    rerun = run_job_here(book)
    assert rerun.ok, rerun.outcome
    check_exactly_once(book, before, settled=book.matured, active=book.future)
    ledger_check(book, "after the re-run that followed the SIGKILL")


# --- (5) a re-run after success settles nothing ----------------------------------------

def test_rerun_after_success_settles_nothing(book):
    before = snapshot(book)
    first = run_job_here(book)
    assert first.ok, first.outcome
    check_exactly_once(book, before, settled=book.matured, active=book.future)
    after = snapshot(book)
    run = trellis(book.env, "jobs", "run", "--once", "settle_vouchers", timeout=1200)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    check_exactly_once(book, after, settled=[], active=book.future)
    again = snapshot(book)
    moved = {t: (after.top[t], again.top[t]) for t in TABLES
             if t != "job_runs" and after.top[t] != again.top[t]}
    assert moved == {}, f"a re-run after success wrote: {moved}"
    runs = job_runs(book, after.top["job_runs"])
    assert [r[1] for r in runs] == [True], runs
