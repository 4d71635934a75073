"""Double financing from outside: one voucher part, one invoice, two tries.

Made from the product issue only: "an anchor firm confirms a payable; it can be issued as a
voucher and split into parts passed along the supply chain; a vendor holding a voucher part
(or an invoice/order the anchor confirmed) applies for financing; a relationship manager
(RM) approves applications the system refers to them; the vendor accepts the offer; the
loan is paid out after checks. A registry stops double financing: the same document or
voucher part can never back two live loans, whatever the timing. Bad, hostile or
concurrent input gets a clear message in the user's language (Chinese by default) and
loses nothing: never a 500, never a silent success."

The tester did not read ``trellis/`` (ledger, vouchers, chain, the platform's views) nor
its tests. What was read: README.md, the guides (DOMAIN, DRILLS), ``tests/conftest.py``,
``tests/platform/conftest.py`` and ``tests/drills/`` (how to build an app, log in, read a
CSRF token), ``trellis ... --help``, and the pages as served (forms, fields, links). Every
step a person takes goes through the pages with CSRF on: the anchor issues a voucher on
``/anchor/vouchers``, the vendor finances a part on ``/vendor/vouchers/parts/N/finance``
or applies on ``/vendor/apply``, the RM approves on ``/ledger/applications/N/decide``, the
vendor accepts on ``/vendor/applications/N/accept``, and payouts run with ``trellis ledger
disburse`` (README: "Pay out accepted loans now (after the chain registry accepts their
documents)"). A third vendor login (for the demo firm holding the anchor's largest
payables, whose applications the system refers to the RM) is made with ``trellis users
create``; its USCC is read from the RM's firm page.

The oracle counts loans by what backs them, read from the database with table and column
names taken from the schema itself (``loans``, ``loan_fragments``, ``loan_documents``,
``voucher_fragments``): a loan that is not cancelled or repaid is live. The invariant
checked is the specification's, not what the code happens to do:

- at most one loan is ever made (accepted) against one voucher part, one voucher's money,
  or one invoice (a second acceptance must be refused then and there, not accepted and
  cancelled at payout: that would be a silent success);
- every refused attempt answers 4xx (never 500) with a message in Chinese on the page;
- nothing is half-written: ``trellis ledger check`` is clean afterwards.

Each drill runs on SQLite and PostgreSQL: a demo book seeded once per session by public
commands (``trellis db upgrade``, ``trellis demo seed --vendors 30 --no-score``), copied per
test (a file copy; ``pg_dump`` into a new schema).
"""

from __future__ import annotations

import datetime
import html
import re
import shutil
import subprocess
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, _pg_answers, need
from tests.drills.conftest import PASSWORD, base_env, csrf_of, log_in, make_app, trellis

BIG = "big-vendor@example.cn"              # made per book with `trellis users create`
VENDOR = "vendor@trellis.demo"
VENDOR2 = "vendor2@trellis.demo"           # a supplier of the vendor above
# The firms' names, read from the seeded book (the demo park is simulated up to the day
# the tests run, so which firms the demo logins hold changes from day to day):
# FIRMS[VENDOR], FIRMS[VENDOR2], and FIRMS[BIG], the demo firm (not one of those two)
# with the anchor's largest open payables, given a vendor login by ``_prepare``.
FIRMS: dict[str, str] = {}
RM = "rm@trellis.demo"
ANCHOR = "anchor@trellis.demo"
LIVE = ("pending", "active", "overdue")
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- the books: seeded once per session, copied per test -----------------------------

def _pg() -> dict[str, str]:
    u = make_url(PG_URL)
    return {"host": u.host or "127.0.0.1", "port": str(u.port or 5432),
            "user": u.username or "root", "db": u.database or "test"}


def _psql(sql_text: str) -> None:
    pg = _pg()
    subprocess.run(["psql", "-h", pg["host"], "-p", pg["port"], "-U", pg["user"], "-q",
                    "-v", "ON_ERROR_STOP=1", pg["db"]], input=sql_text, text=True,
                   capture_output=True, check=True)


def _chinese(env: dict[str, str]) -> dict[str, str]:
    env = dict(env)
    env.pop("TRELLIS_DEFAULT_LOCALE", None)      # the product's default: Chinese
    return env


def _uscc_of(app, firm_name: str) -> str:
    rm = app.test_client()
    log_in(rm, RM)
    for firm_id in range(1, 80):
        page = page_text(rm.get(f"/network/firms/{firm_id}").get_data(as_text=True))
        if page.startswith(f"{firm_name} · "):
            found = re.search(r"统一社会信用代码 ([0-9A-HJ-NPQRTUWXY]{18})\b", page)
            assert found, f"no USCC on the RM's page of {firm_name}"
            return found.group(1)
    raise AssertionError(f"the RM sees no firm page for {firm_name}")


def _firms_of_book(env: dict[str, str]) -> dict[str, str]:
    """The names of the demo logins' firms and of the firm with the anchor's largest open
    payables (confirmed, unpaid invoices to the anchor) other than those two."""
    from trellis import db

    engine = db.make_engine(env["TRELLIS_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            held = dict(conn.execute(text(
                "select u.email, f.name from users u join firms f on f.id = u.firm_id "
                "where u.email in (:a, :v, :v2)"), {"a": ANCHOR, "v": VENDOR, "v2": VENDOR2}
            ).all())
            big = conn.execute(text(
                "select f.name from invoices i join firms f on f.id = i.seller_id "
                "join firms a on a.id = i.buyer_id "
                "where a.name = :anchor and f.name not in (:v, :v2) "
                "and i.status = 'confirmed' and i.paid_fen = 0 "
                "group by f.name order by sum(i.amount_fen) desc, f.name limit 1"),
                {"anchor": held[ANCHOR], "v": held[VENDOR], "v2": held[VENDOR2]}).scalar_one()
    finally:
        engine.dispose()
    return {VENDOR: held[VENDOR], VENDOR2: held[VENDOR2], BIG: big}


def _prepare(env: dict[str, str]) -> None:
    """Seed the demo book and give the demo firm FIRMS[BIG] a vendor login."""
    trellis(env, "db", "upgrade", check=True, timeout=1200)
    trellis(env, "demo", "seed", "--vendors", "30", "--no-score", check=True, timeout=1800)
    names = _firms_of_book(env)
    assert FIRMS in ({}, names), f"the two books hold different demo firms: {FIRMS} {names}"
    FIRMS.update(names)
    uscc = _uscc_of(make_app(env), FIRMS[BIG])
    trellis(env, "users", "create", "--role", "vendor", "--email", BIG, "--firm", uscc,
            "--password", PASSWORD, check=True)


@pytest.fixture(scope="session")
def sqlite_book(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("df-sqlite")
    _prepare(_chinese(base_env(folder)))
    return folder


@pytest.fixture(scope="session")
def pg_book(tmp_path_factory):
    need(_pg_answers(PG_URL), f"no PostgreSQL server answers at {PG_URL}")
    schema = f"drilldf_{uuid.uuid4().hex[:10]}"
    folder = tmp_path_factory.mktemp("df-pg")
    _psql(f'create schema "{schema}";')
    try:
        env = _chinese(base_env(folder))
        env["TRELLIS_DATABASE_URL"] = f"{PG_URL}?options=-csearch_path%3D{schema}"
        _prepare(env)
        yield schema, folder
    finally:
        _psql(f'drop schema if exists "{schema}" cascade;')


@dataclass
class Site:
    env: dict[str, str]
    app: object
    engine: object

    def q(self, sql_text: str, **params) -> list[tuple]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql_text), params).all()]

    def client(self, email: str):
        c = self.app.test_client()
        r = log_in(c, email)
        assert r.status_code == 302, (email, r.status_code)
        return c


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request, tmp_path):
    from trellis import db

    folder = tmp_path / "instance"
    schema = None
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_book")
        shutil.copytree(template, folder)
        env = _chinese(base_env(folder))
    else:
        template_schema, template = request.getfixturevalue("pg_book")
        schema = f"drilldf_{uuid.uuid4().hex[:10]}"
        pg = _pg()
        dump = subprocess.run(["pg_dump", "-h", pg["host"], "-p", pg["port"], "-U", pg["user"],
                               "-n", template_schema, "--no-owner", "--no-privileges",
                               pg["db"]], capture_output=True, text=True, check=True).stdout
        _psql(dump.replace(template_schema, schema))
        shutil.copytree(template, folder)
        env = _chinese(base_env(folder))
        env["TRELLIS_DATABASE_URL"] = f"{PG_URL}?options=-csearch_path%3D{schema}"
    engine = db.make_engine(env["TRELLIS_DATABASE_URL"])
    yield Site(env=env, app=make_app(env), engine=engine)
    engine.dispose()
    if schema:
        _psql(f'drop schema if exists "{schema}" cascade;')


# --- reading pages --------------------------------------------------------------------

def page_text(body: str) -> str:
    body = re.sub(r"<script.*?</script>|<style.*?</style>", "", body, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


_MESSAGE = re.compile(
    r'<(\w+)[^>]*(?:role="alert"|class="[^"]*(?:error|flash)[^"]*")[^>]*>(.*?)</\1>', re.S)


def messages(body: str) -> list[str]:
    """What the page tells the person: alerts, flashes, error messages."""
    return [t for t in (page_text(m.group(2)) for m in _MESSAGE.finditer(body)) if t]


def assert_refused(resp, what: str) -> str:
    """A refusal as the spec wants it: 4xx, never 500, a message in Chinese."""
    body = resp.get_data(as_text=True)
    assert resp.status_code != 500, f"{what}: a server error:\n{page_text(body)[:600]}"
    assert 400 <= resp.status_code < 500, \
        f"{what}: expected a refusal (4xx), got {resp.status_code} {resp.headers.get('Location')}"
    said = " ".join(messages(body))
    assert CJK.search(said), f"{what}: no message in Chinese on the page: {said!r}"
    return said


def follow(client, resp) -> str:
    """The page a redirect leads to (flash messages included)."""
    if resp.status_code in (301, 302, 303):
        return client.get(resp.headers["Location"]).get_data(as_text=True)
    return resp.get_data(as_text=True)


# --- what a person does ----------------------------------------------------------------

def issue_voucher(site: Site, firm_name: str) -> int:
    """The anchor issues a voucher on one of *firm_name*'s confirmed payables; its id."""
    anchor = site.client(ANCHOR)
    body = anchor.get("/anchor/vouchers").get_data(as_text=True)
    options = [(v, t) for v, t in re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', body)
               if firm_name in t]
    assert options, f"the anchor has no payable of {firm_name} to issue"
    amount = lambda t: float(re.search(r"¥([\d,.]+)", t).group(1).replace(",", ""))  # noqa: E731
    today = datetime.datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the business day
    maturity = (today + datetime.timedelta(days=90)).isoformat()
    for value, _label in sorted(options, key=lambda o: -amount(o[1])):
        r = anchor.post("/anchor/vouchers", data={
            "csrf_token": csrf_of(anchor, "/anchor/vouchers"), "invoice_id": value,
            "maturity_date": maturity})
        assert r.status_code != 500, page_text(r.get_data(as_text=True))[:600]
        if r.status_code in (302, 303):
            return int(re.search(r"/anchor/vouchers/(\d+)", r.headers["Location"]).group(1))
    raise AssertionError(f"no payable of {firm_name} could be issued as a voucher")


def held_parts(client, voucher_id: int) -> list[int]:
    body = client.get(f"/vendor/vouchers/{voucher_id}").get_data(as_text=True)
    return [int(p) for p in re.findall(r"/vendor/vouchers/parts/(\d+)/split", body)]


def finance_part(client, part_id: int, token: str):
    return client.post(f"/vendor/vouchers/parts/{part_id}/finance", data={"csrf_token": token})


def apply_invoice(client, invoice_id: str, token: str):
    return client.post("/vendor/apply", data={"csrf_token": token, "product": "RF-STD",
                                              "doc_ids": [invoice_id], "amount": ""})


def application_of(resp) -> int | None:
    found = re.search(r"/vendor/applications/(\d+)", resp.headers.get("Location") or "")
    return int(found.group(1)) if found else None


def to_offer(site: Site, vendor, application_id: int, rm=None) -> bool:
    """Bring an application to an open offer: the RM approves it if it was referred.
    True when the vendor's page offers it for acceptance."""
    url = f"/vendor/applications/{application_id}"
    body = vendor.get(url).get_data(as_text=True)
    if f"{url}/accept" not in body and ("待审批" in page_text(body)
                                          or "待第二人审批" in page_text(body)):
        rm = rm or site.client(RM)
        r = rm.post(f"/ledger/applications/{application_id}/decide", data={
            "csrf_token": csrf_of(rm, f"/ledger/applications/{application_id}"),
            "reasons": "核心企业已确权，单据真实", "decision": "approve"})
        assert r.status_code != 500, page_text(r.get_data(as_text=True))[:600]
        body = vendor.get(url).get_data(as_text=True)
    return f"{url}/accept" in body


def accept(client, application_id: int, token: str):
    return client.post(f"/vendor/applications/{application_id}/accept",
                       data={"csrf_token": token, "read": "y"})


def pass_form(client, part_id: int, voucher_id: int) -> dict[str, str]:
    """The pass form of a part as the voucher page shows it now (a tab opened now)."""
    page = client.get(f"/vendor/vouchers/{voucher_id}").get_data(as_text=True)
    form = re.search(rf'action="/vendor/vouchers/parts/{part_id}/pass".*?</form>', page, re.S)
    assert form, f"no pass form for part {part_id}"
    prefix = re.search(r'name="(\w+)-csrf_token"', form.group(0)).group(1)
    token = re.search(r'name="\w+-csrf_token"[^>]*value="([^"]+)"', form.group(0)).group(1)
    firm = re.search(rf'<option value="(\d+)">{re.escape(FIRMS[VENDOR2])}</option>', form.group(0))
    assert firm, f"{FIRMS[VENDOR2]} is not offered as a supplier to pass part {part_id} to"
    return {"prefix": prefix, "token": token, "firm": firm.group(1)}


def submit_pass(client, part_id: int, form: dict[str, str], amount_yuan: str):
    p = form["prefix"]
    return client.post(f"/vendor/vouchers/parts/{part_id}/pass", data={
        f"{p}-csrf_token": form["token"], f"{p}-to_firm_id": form["firm"],
        f"{p}-amount": amount_yuan})


def pass_part(client, part_id: int, amount_yuan: str, voucher_id: int):
    """Pass *amount_yuan* of a part to FIRMS[VENDOR2] from its voucher page."""
    return submit_pass(client, part_id, pass_form(client, part_id, voucher_id), amount_yuan)


def part_amount_yuan(client, voucher_id: int, part_id: int) -> str:
    # the heading before the part's forms: "您持有的第 n 号份额：¥x" (n: its place in
    # the voucher, not the number in the form's address)
    page = client.get(f"/vendor/vouchers/{voucher_id}").get_data(as_text=True)
    found = re.search(rf"号份额：¥([\d,.]+)</h2>(?:(?!</section>).)*"
                      rf"/vendor/vouchers/parts/{part_id}/pass", page, re.S)
    assert found, f"part {part_id} is not shown as held: {page_text(page)[:400]}"
    return found.group(1).replace(",", "")


def disburse(site: Site) -> subprocess.CompletedProcess:
    return trellis(site.env, "ledger", "disburse", timeout=900)


def run_together(*calls):
    """Run the calls at the same moment from threads; their results (or exceptions)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as exc:   # noqa: BLE001 - reported by the drill
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


# --- the oracle -------------------------------------------------------------------------

def loans_on_parts(site: Site, part_ids) -> list[tuple[int, str]]:
    ids = sorted(set(part_ids))
    if not ids:
        return []
    return site.q("select distinct l.id, l.status from loans l join loan_fragments lf "
                  f"on lf.loan_id = l.id where lf.fragment_id in ({','.join(map(str, ids))}) "
                  "order by l.id")


def loans_on_voucher(site: Site, voucher_id: int) -> list[tuple[int, str]]:
    parts = [r[0] for r in site.q("select id from voucher_fragments where voucher_id = :v",
                                  v=voucher_id)]
    return loans_on_parts(site, parts)


def loans_on_invoice(site: Site, invoice_id: int) -> list[tuple[int, str]]:
    direct = site.q("select distinct l.id, l.status from loans l join loan_documents d "
                    "on d.loan_id = l.id where d.invoice_id = :i", i=invoice_id)
    vouchers = [r[0] for r in site.q("select id from vouchers where invoice_id = :i",
                                     i=invoice_id)]
    via = [loan for v in vouchers for loan in loans_on_voucher(site, v)]
    return sorted(set(direct) | set(via))


def assert_one_loan(loans: list[tuple[int, str]], what: str) -> None:
    made = [lid for lid, _ in loans]
    live = [(lid, s) for lid, s in loans if s in LIVE]
    assert len(live) <= 1, f"{what}: {len(live)} live loans {live} (all: {loans})"
    assert len(made) <= 1, (f"{what}: {len(made)} loans made (accepted), {loans}: the second "
                            "acceptance was taken, not refused with a message")


def assert_books_clean(site: Site) -> None:
    check = trellis(site.env, "ledger", "check", timeout=900)
    assert check.returncode == 0, f"ledger check:\n{check.stdout[-2000:]}{check.stderr[-2000:]}"


def assert_no_pending(site: Site, loans) -> None:
    """After a payout run nothing accepted is left waiting half-way."""
    pending = [lid for lid, s in loans if s == "pending"]
    assert pending == [], f"loans still waiting for payout after `ledger disburse`: {pending}"


# --- (a) two tabs of one vendor ---------------------------------------------------------

def test_two_tabs_one_voucher_part_rm_approves_both(site):
    """Two tabs opened on the part's page; each files; the RM approves whatever it is
    referred; the vendor accepts every offer; payout runs. One loan at most."""
    voucher = issue_voucher(site, FIRMS[BIG])
    tab1, tab2 = site.client(BIG), site.client(BIG)
    [part] = held_parts(tab1, voucher)
    token1 = csrf_of(tab1, f"/vendor/vouchers/{voucher}")
    token2 = csrf_of(tab2, f"/vendor/vouchers/{voucher}")

    filed, refused = [], []
    for tab, token in ((tab1, token1), (tab2, token2)):
        r = finance_part(tab, part, token)
        assert r.status_code != 500
        if r.status_code in (302, 303) and application_of(r):
            filed.append((tab, application_of(r)))
        else:
            refused.append(assert_refused(r, "second filing on one part"))
    assert filed, "the first filing on a held part was not taken"

    rm = site.client(RM)
    offers = [(tab, a) for tab, a in filed if to_offer(site, tab, a, rm)]
    assert offers, "no offer came out of the first filing"

    accepted = 0
    for tab, a in offers:
        r = accept(tab, a, csrf_of(tab, f"/vendor/applications/{a}"))
        if r.status_code in (302, 303):
            accepted += 1
        else:
            assert_refused(r, f"accepting a second offer on part {part}")
    assert accepted == 1, f"{accepted} acceptances taken on one part"
    assert_one_loan(loans_on_parts(site, [part]), f"part {part}")

    run = disburse(site)
    assert run.returncode == 0, run.stdout[-1500:] + run.stderr[-1500:]
    loans = loans_on_parts(site, [part])
    assert_one_loan(loans, f"part {part} after payout")
    assert_no_pending(site, loans)
    assert [s for _, s in loans] == ["active"], f"the one loan was not paid out: {loans}"
    assert_books_clean(site)


def _an_invoice_to_apply_on(client) -> str:
    body = client.get("/vendor/apply").get_data(as_text=True)
    ids = re.findall(r'name="doc_ids" value="(\d+)"', body)
    assert ids, "the vendor has no confirmed invoice to apply on"
    return ids[-1]          # the latest due: priced within the cap on its own


def test_two_tabs_one_invoice_rm_approves_both(site):
    tab1, tab2 = site.client(BIG), site.client(BIG)
    invoice = _an_invoice_to_apply_on(tab1)
    token1, token2 = csrf_of(tab1, "/vendor/apply"), csrf_of(tab2, "/vendor/apply")
    filed = []
    for tab, token in ((tab1, token1), (tab2, token2)):
        r = apply_invoice(tab, invoice, token)
        assert r.status_code != 500
        if application_of(r):
            filed.append((tab, application_of(r)))
        else:
            assert_refused(r, "second application on one invoice")
    assert filed

    rm = site.client(RM)
    offers = [(tab, a) for tab, a in filed if to_offer(site, tab, a, rm)]
    accepted = 0
    for tab, a in offers:
        r = accept(tab, a, csrf_of(tab, f"/vendor/applications/{a}"))
        if r.status_code in (302, 303):
            accepted += 1
        else:
            assert_refused(r, f"accepting a second offer on invoice {invoice}")
    assert accepted == 1, f"{accepted} acceptances taken on one invoice"
    disburse(site)
    loans = loans_on_invoice(site, int(invoice))
    assert_one_loan(loans, f"invoice {invoice}")
    assert_no_pending(site, loans)
    assert_books_clean(site)


# --- (b) at the same moment ---------------------------------------------------------------

def _accept_all_at_once(site: Site, email: str, applications: list[int]):
    clients = [site.client(email) for _ in applications]
    tokens = [csrf_of(c, f"/vendor/applications/{a}")
              for c, a in zip(clients, applications, strict=True)]
    return run_together(*[
        (lambda c=c, a=a, t=t: accept(c, a, t))
        for c, a, t in zip(clients, applications, tokens, strict=True)])


@pytest.mark.parametrize("who", [VENDOR, BIG])
def test_concurrent_filings_and_acceptances_on_one_part(site, who):
    """Four devices file on one part at once; every offer is accepted at once; two payout
    runs at once. One loan at most, every refusal a 4xx in Chinese."""
    voucher = issue_voucher(site, FIRMS[VENDOR] if who == VENDOR else FIRMS[BIG])
    devices = [site.client(who) for _ in range(4)]
    [part] = held_parts(devices[0], voucher)
    tokens = [csrf_of(d, f"/vendor/vouchers/{voucher}") for d in devices]
    results = run_together(*[(lambda d=d, t=t: finance_part(d, part, t))
                             for d, t in zip(devices, tokens, strict=True)])
    assert [r.status_code for r in results if r.status_code >= 500] == []
    applications = [application_of(r) for r in results if application_of(r)]
    for r in results:
        if not application_of(r):
            assert_refused(r, "a filing at the same moment on one part")
    assert applications, [r.status_code for r in results]

    rm = site.client(RM)
    vendor = site.client(who)
    offered = [a for a in applications if to_offer(site, vendor, a, rm)]
    assert offered, "no offer out of the filings"
    if len(offered) == 1:
        offered = offered * 2       # the same offer accepted from two devices at once
    answers = _accept_all_at_once(site, who, offered)
    assert [r.status_code for r in answers if r.status_code >= 500] == [], \
        [(r.status_code, page_text(r.get_data(as_text=True))[:300]) for r in answers]
    taken = [r for r in answers if r.status_code in (302, 303)]
    for r in answers:
        if r.status_code not in (302, 303):
            assert_refused(r, "an acceptance at the same moment on one part")
    assert len({r.headers["Location"] for r in taken}) <= 1, \
        f"acceptances led to different loans: {[r.headers['Location'] for r in taken]}"
    assert_one_loan(loans_on_parts(site, [part]), f"part {part}")

    runs = run_together(lambda: disburse(site), lambda: disburse(site))
    assert [r.returncode for r in runs if r.returncode not in (0, 1)] == [], \
        [r.stderr[-800:] for r in runs]
    loans = loans_on_parts(site, [part])
    assert_one_loan(loans, f"part {part} after two payout runs")
    assert_no_pending(site, loans)
    assert_books_clean(site)


def test_concurrent_applications_and_acceptances_on_one_invoice(site):
    devices = [site.client(BIG) for _ in range(4)]
    invoice = _an_invoice_to_apply_on(devices[0])
    tokens = [csrf_of(d, "/vendor/apply") for d in devices]
    results = run_together(*[(lambda d=d, t=t: apply_invoice(d, invoice, t))
                             for d, t in zip(devices, tokens, strict=True)])
    assert [r.status_code for r in results if r.status_code >= 500] == []
    for r in results:
        if not application_of(r):
            assert_refused(r, "an application at the same moment on one invoice")
    applications = [application_of(r) for r in results if application_of(r)]
    rm, vendor = site.client(RM), site.client(BIG)
    offered = [a for a in applications if to_offer(site, vendor, a, rm)]
    assert offered
    if len(offered) == 1:
        offered = offered * 2
    answers = _accept_all_at_once(site, BIG, offered)
    assert [r.status_code for r in answers if r.status_code >= 500] == []
    for r in answers:
        if r.status_code not in (302, 303):
            assert_refused(r, "an acceptance at the same moment on one invoice")
    assert_one_loan(loans_on_invoice(site, int(invoice)), f"invoice {invoice}")
    disburse(site)
    loans = loans_on_invoice(site, int(invoice))
    assert_one_loan(loans, f"invoice {invoice} after payout")
    assert_no_pending(site, loans)
    assert_books_clean(site)


def test_invoice_and_its_voucher_part_at_once(site):
    """One payable, two roads at the same moment: the vendor accepts an offer on the
    invoice while the anchor issues it as a voucher, and then the vendor finances the part.
    The invoice's money backs one loan at most."""
    vendor = site.client(VENDOR)
    invoice = _an_invoice_to_apply_on(vendor)
    r = apply_invoice(vendor, invoice, csrf_of(vendor, "/vendor/apply"))
    application = application_of(r)
    assert application and to_offer(site, vendor, application), "no offer on the invoice"
    token = csrf_of(vendor, f"/vendor/applications/{application}")
    anchor = site.client(ANCHOR)
    anchor_token = csrf_of(anchor, "/anchor/vouchers")
    today = datetime.datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the business day
    maturity = (today + datetime.timedelta(days=90)).isoformat()
    took, issued = run_together(
        lambda: accept(vendor, application, token),
        lambda: anchor.post("/anchor/vouchers", data={
            "csrf_token": anchor_token, "invoice_id": invoice, "maturity_date": maturity}))
    for resp, what in ((took, "accepting the invoice's offer"), (issued, "issuing the voucher")):
        assert resp.status_code != 500, f"{what}: {page_text(resp.get_data(as_text=True))[:400]}"
        if resp.status_code not in (302, 303):
            assert_refused(resp, what)
    voucher_loc = issued.headers.get("Location") or ""
    if "/anchor/vouchers/" in voucher_loc:
        voucher = int(re.search(r"/anchor/vouchers/(\d+)", voucher_loc).group(1))
        for part in held_parts(vendor, voucher):
            r = finance_part(vendor, part, csrf_of(vendor, f"/vendor/vouchers/{voucher}"))
            a = application_of(r)
            if a is None:
                assert_refused(r, "financing the part of an invoice already financed")
            elif to_offer(site, vendor, a):
                r = accept(vendor, a, csrf_of(vendor, f"/vendor/applications/{a}"))
                if r.status_code not in (302, 303):
                    assert_refused(r, "accepting on the part of an invoice already financed")
    disburse(site)
    loans = loans_on_invoice(site, int(invoice))
    assert_one_loan(loans, f"invoice {invoice} (directly or through its voucher)")
    assert_no_pending(site, loans)
    assert_books_clean(site)


# --- (c) passing a part along the chain -------------------------------------------------------

def test_pass_the_part_away_then_apply_on_it(site):
    """The vendor passes its whole part to its supplier, then files on it from a tab
    opened before the pass; the supplier files on what it received. One loan at most on
    the voucher's money, and the vendor's try is refused with a message."""
    voucher = issue_voucher(site, FIRMS[VENDOR])
    vendor, stale_tab = site.client(VENDOR), site.client(VENDOR)
    [part] = held_parts(vendor, voucher)
    stale_token = csrf_of(stale_tab, f"/vendor/vouchers/{voucher}")
    r = pass_part(vendor, part, part_amount_yuan(vendor, voucher, part), voucher)
    assert r.status_code in (302, 303), page_text(r.get_data(as_text=True))[:600]
    assert held_parts(vendor, voucher) == [], "the vendor still holds a part after passing it all"

    r = finance_part(stale_tab, part, stale_token)
    if application_of(r):
        a = application_of(r)
        got_offer = to_offer(site, stale_tab, a)
        r2 = accept(stale_tab, a, csrf_of(stale_tab, f"/vendor/applications/{a}"))
        pytest.fail(f"the vendor could file on a part it passed away (application {a}, offer "
                    f"{got_offer}, acceptance {r2.status_code}); its loans: "
                    f"{loans_on_voucher(site, voucher)}")
    assert_refused(r, "financing a part passed away")

    supplier = site.client(VENDOR2)
    [new_part] = held_parts(supplier, voucher)
    r = finance_part(supplier, new_part, csrf_of(supplier, f"/vendor/vouchers/{voucher}"))
    a = application_of(r)
    assert a, f"the new holder cannot file on what it received: {r.status_code}"
    if to_offer(site, supplier, a):     # else declined on its own credit (e.g. grade E)
        r = accept(supplier, a, csrf_of(supplier, f"/vendor/applications/{a}"))
        assert r.status_code in (302, 303), page_text(r.get_data(as_text=True))[:600]
    disburse(site)
    loans = loans_on_voucher(site, voucher)
    assert_one_loan(loans, f"voucher {voucher}")
    assert_no_pending(site, loans)
    assert_books_clean(site)


@pytest.mark.parametrize("stage", ["offered", "accepted"])
def test_apply_then_pass_the_part_away(site, stage):
    """The vendor files on its part (and, at `accepted`, accepts the offer), then passes
    the whole part to its supplier, who files and accepts too; then the vendor accepts its
    old offer. Payout runs. The voucher's money backs one loan at most; every refusal is a
    4xx in Chinese."""
    voucher = issue_voucher(site, FIRMS[VENDOR])
    vendor, earlier_tab = site.client(VENDOR), site.client(VENDOR)
    [part] = held_parts(vendor, voucher)
    amount = part_amount_yuan(vendor, voucher, part)
    stale_form = pass_form(earlier_tab, part, voucher)      # opened before filing
    r = finance_part(vendor, part, csrf_of(vendor, f"/vendor/vouchers/{voucher}"))
    a = application_of(r)
    assert a and to_offer(site, vendor, a)
    if stage == "accepted":
        r = accept(vendor, a, csrf_of(vendor, f"/vendor/applications/{a}"))
        assert r.status_code in (302, 303), page_text(r.get_data(as_text=True))[:600]

    r = submit_pass(earlier_tab, part, stale_form, amount)
    assert r.status_code != 500, page_text(r.get_data(as_text=True))[:600]
    passed = r.status_code in (302, 303) and held_parts(vendor, voucher) == []
    if not passed:
        assert_refused(r, "passing away a part with a live financing")

    supplier = site.client(VENDOR2)
    for p in held_parts(supplier, voucher):
        r = finance_part(supplier, p, csrf_of(supplier, f"/vendor/vouchers/{voucher}"))
        b = application_of(r)
        if b is None:
            assert_refused(r, "the new holder financing a part already financed")
        elif to_offer(site, supplier, b):
            r = accept(supplier, b, csrf_of(supplier, f"/vendor/applications/{b}"))
            if r.status_code not in (302, 303):
                assert_refused(r, "the new holder accepting on a part already financed")
    if stage == "offered":
        r = accept(vendor, a, csrf_of(vendor, f"/vendor/applications/{a}"))
        if r.status_code not in (302, 303):
            assert_refused(r, "accepting an offer on a part passed away")
        elif passed:
            pytest.fail(f"the vendor accepted an offer on a part it had passed away: "
                        f"{r.headers.get('Location')}; loans {loans_on_voucher(site, voucher)}")

    assert_one_loan(loans_on_voucher(site, voucher), f"voucher {voucher} before payout")
    disburse(site)
    loans = loans_on_voucher(site, voucher)
    assert_one_loan(loans, f"voucher {voucher}")
    assert_no_pending(site, loans)
    assert_books_clean(site)


def test_pass_and_accept_at_the_same_moment(site):
    """The vendor's offer on its part is accepted in one tab while the part is passed away
    in another. Either may win, never both."""
    voucher = issue_voucher(site, FIRMS[VENDOR])
    tab1, tab2 = site.client(VENDOR), site.client(VENDOR)
    [part] = held_parts(tab1, voucher)
    amount = part_amount_yuan(tab1, voucher, part)
    # tab 2 opened before filing: a part in a live application has no pass form since
    # reader Q13 (ninth session)
    form = pass_form(tab2, part, voucher)
    r = finance_part(tab1, part, csrf_of(tab1, f"/vendor/vouchers/{voucher}"))
    a = application_of(r)
    assert a and to_offer(site, tab1, a)
    token = csrf_of(tab1, f"/vendor/applications/{a}")
    took, passed = run_together(lambda: accept(tab1, a, token),
                                lambda: submit_pass(tab2, part, form, amount))
    for resp, what in ((took, "accepting"), (passed, "passing the part")):
        assert resp.status_code != 500, f"{what}: {page_text(resp.get_data(as_text=True))[:400]}"
        if resp.status_code not in (302, 303):
            assert_refused(resp, what)
    both = took.status_code in (302, 303) and passed.status_code in (302, 303)
    loans = loans_on_voucher(site, voucher)
    supplier_parts = held_parts(site.client(VENDOR2), voucher)
    assert not (both and loans and supplier_parts), \
        (f"the part was financed for the vendor (loans {loans}) and also passed to its "
         f"supplier, who holds parts {supplier_parts}")
    disburse(site)
    assert_one_loan(loans_on_voucher(site, voucher), f"voucher {voucher}")
    assert_books_clean(site)
