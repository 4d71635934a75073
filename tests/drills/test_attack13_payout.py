"""The vendor's payout account under attack: set by others, forged at acceptance, raced.

Written from the specification without reading ``trellis/`` (README, the pages of a
running demo, ``tests/conftest.py`` and ``tests/drills/``); see ``attack13_kit``.

The claim: a loan's payout goes only to a bank account the vendor itself declared and
consented to (``/vendor/bank-account``: ``bank_name``, ``new_account``, ``account_name``,
``consent``, ``password``, after the ``bank_account`` consent on ``/vendor/consent``);
anyone else (RM, admin, another vendor) cannot set or change it; a change after the vendor
accepted an offer needs the vendor's confirmation; the offer and loan pages show the
account masked ("招商银行 ····1234"). The offer's accept form carries a hidden
``payout_account_id``. Payouts run with ``trellis ledger disburse``. The oracle: the
tables ``payout_accounts`` (firm_id, account_number, consented_at, replaced_at),
``bank_account_changes``, ``loans.payout_account_id``, ``loan_disbursements``, and
``trellis ledger check``.
"""

from __future__ import annotations

import io
import re
import subprocess

import pytest

from tests.drills.attack13_kit import (
    ADMIN,
    ANCHOR,
    AUDITOR,
    RM,
    THREADS,
    VENDOR,
    VENDOR2,
    ledger_clean,
    login,
    me,
    no_server_error,
    page_text,
    run_together,
    token,
)
from tests.drills.conftest import CLI, PASSWORD, trellis

NEW_ACCOUNT = "6214830571926384"


def firm_of(site, email: str) -> tuple[int, str]:
    return site.q("select f.id, f.name from users u join firms f on f.id = u.firm_id "
                  "where u.email = :e", e=email)[0]


def accounts(site, firm_id: int) -> list[tuple]:
    return site.q("select id, replace(account_number, ' ', ''), consented_at is not null, "
                  "replaced_at is not null from payout_accounts where firm_id = :f order by id",
                  f=firm_id)


def changes(site, firm_id: int) -> list[tuple]:
    return site.q("select id, new_account, status from bank_account_changes where firm_id = :f",
                  f=firm_id)


def offer(site) -> tuple[object, int]:
    """The demo vendor files an application on its best-priced invoice for ¥100,000 and
    the RM approves it when it is referred; (vendor client, application id)."""
    vendor = login(site, VENDOR)
    body = vendor.get("/vendor/apply").get_data(as_text=True)
    priced = set(re.findall(r'data-apr="(\d+)">[\d.]+%', body))
    receive = {d: float(v.replace(",", "")) for d, v in
               re.findall(r'data-receive="(\d+)">¥([\d,.]+)<', body) if d in priced}
    assert receive, f"no priced invoice on the apply page: {page_text(body)[:600]}"
    best = max(receive, key=lambda d: receive[d])
    answer = vendor.post("/vendor/apply", data={
        "csrf_token": token(vendor, "/vendor/apply"), "product": "RF-STD",
        "doc_ids": [best], "amount": ""})
    found = re.search(r"/vendor/applications/(\d+)", answer.headers.get("Location") or "")
    assert found, page_text(answer.get_data(as_text=True))[:600]
    application = int(found.group(1))
    url = f"/vendor/applications/{application}"
    if f"{url}/accept" not in vendor.get(url).get_data(as_text=True):
        rm = login(site, RM)
        rm.post(f"/ledger/applications/{application}/decide", data={
            "csrf_token": token(rm, f"/ledger/applications/{application}"),
            "reasons": "核心企业已确权，单据真实", "decision": "approve"})
    body = vendor.get(url).get_data(as_text=True)
    assert f"{url}/accept" in body, f"no offer to accept: {page_text(body)[:800]}"
    return vendor, application


def accept_form(client, application: int) -> dict[str, str]:
    body = client.get(f"/vendor/applications/{application}").get_data(as_text=True)
    form = re.search(r'action="/vendor/applications/\d+/accept".*?</form>', body, re.S)
    assert form, "no accept form"
    fields = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', form.group(0)))
    fields["read"] = "y"
    return fields


def loans_of(site, application: int) -> list[tuple]:
    return site.q("select id, status, payout_account_id from loans where application_id = :a",
                  a=application)


def declare(client, site, firm_name: str, account: str = NEW_ACCOUNT, extra=None):
    """The vendor consents to the use of its bank details, then declares *account*."""
    client.post("/vendor/consent", data={"csrf_token": token(client, "/vendor/consent"),
                                         "trade_data": "y", "bank_account": "y"})
    return client.post("/vendor/bank-account", data={
        "csrf_token": token(client, "/vendor/bank-account"), "bank_name": "招商银行宁波分行",
        "new_account": account, "account_name": firm_name, "consent": "y",
        "password": PASSWORD, **(extra or {})})


# --- nobody else sets it ---------------------------------------------------------------

@pytest.mark.parametrize("who", [RM, ADMIN, ANCHOR, AUDITOR, VENDOR2])
def test_nobody_else_sets_the_vendors_account(a13_sqlite_site, who):
    site = a13_sqlite_site
    firm, name = firm_of(site, VENDOR)
    before, before_changes = accounts(site, firm), changes(site, firm)
    other = login(site, who)
    extra = {"firm_id": str(firm), "firm": str(firm), "uscc": "", "user_id": "1"}
    answer = declare(other, site, name, extra=extra)
    assert answer.status_code < 500, answer.status_code
    assert accounts(site, firm) == before, f"{who} changed the vendor's payout account"
    assert changes(site, firm) == before_changes, f"{who} filed a change for the vendor"


def test_the_rms_firm_import_cannot_change_it(a13_sqlite_site):
    site = a13_sqlite_site
    firm, name = firm_of(site, VENDOR)
    [(uscc,)] = site.q("select uscc from firms where id = :f", f=firm)
    [(cluster,)] = site.q("select c.code from clusters c join firms f on f.cluster_id = c.id "
                          "where f.id = :f", f=firm)
    before = accounts(site, firm)
    rm = login(site, RM)
    url = f"/network/{cluster}/import"
    csv = (f"uscc,name,role,industry,bank_account\n"
           f"{uscc},{name},vendor,manufacturing,{NEW_ACCOUNT}\n")
    answer = rm.post(url, data={"csrf_token": token(rm, url), "kind": "firms", "source": "a13",
                                "file": (io.BytesIO(csv.encode("utf-8-sig")), "firms.csv")},
                     content_type="multipart/form-data", follow_redirects=True)
    assert answer.status_code < 500
    assert accounts(site, firm) == before
    assert NEW_ACCOUNT not in str(site.q("select bank_account from firms where id = :f", f=firm))


# --- forged acceptance ------------------------------------------------------------------

def test_accept_naming_another_firms_account_is_refused(a13_sqlite_site):
    site = a13_sqlite_site
    vendor, application = offer(site)
    firm, _ = firm_of(site, VENDOR)
    [(foreign,)] = site.q("select min(id) from payout_accounts where firm_id <> :f", f=firm)
    fields = accept_form(vendor, application)
    fields["payout_account_id"] = str(foreign)
    answer = vendor.post(f"/vendor/applications/{application}/accept", data=fields)
    assert 400 <= answer.status_code < 500, answer.status_code
    assert [lo for lo in loans_of(site, application) if lo[2] == foreign] == []
    assert all(lo[2] != foreign for lo in loans_of(site, application))


def test_refusal_does_not_reveal_another_firms_account(a13_sqlite_site):
    site = a13_sqlite_site
    vendor, application = offer(site)
    firm, _ = firm_of(site, VENDOR)
    [(foreign, number, bank)] = site.q(
        "select id, replace(account_number, ' ', ''), bank_name from payout_accounts "
        "where firm_id <> :f order by id limit 1", f=firm)
    fields = accept_form(vendor, application)
    fields["payout_account_id"] = str(foreign)
    said = page_text(vendor.post(f"/vendor/applications/{application}/accept",
                                 data=fields).get_data(as_text=True))
    assert number[-4:] not in said, f"another firm's account tail shown: {said[:500]}"


def test_offer_and_loan_pages_show_the_account_masked(a13_sqlite_site):
    site = a13_sqlite_site
    vendor, application = offer(site)
    firm, _ = firm_of(site, VENDOR)
    live = [a for a in accounts(site, firm) if a[2] and not a[3]]
    assert len(live) == 1, accounts(site, firm)
    number = live[0][1]
    page = page_text(vendor.get(f"/vendor/applications/{application}").get_data(as_text=True))
    assert f"····{number[-4:]}" in page, page[:800]
    assert number not in page.replace(" ", ""), "the full account number is on the offer page"
    answer = vendor.post(f"/vendor/applications/{application}/accept",
                         data=accept_form(vendor, application))
    assert answer.status_code in (302, 303), page_text(answer.get_data(as_text=True))[:600]
    [(loan, _, _)] = loans_of(site, application)
    for url in (f"/vendor/loans/{loan}", "/vendor/loans"):
        page = page_text(vendor.get(url).get_data(as_text=True))
        assert number not in page.replace(" ", ""), f"full account number on {url}"
    page = page_text(vendor.get(f"/vendor/loans/{loan}").get_data(as_text=True))
    assert f"····{number[-4:]}" in page, page[:800]


# --- races ------------------------------------------------------------------------------

def test_sixteen_accepts_make_one_loan(a13_site):
    site = a13_site
    vendor, application = offer(site)
    tabs = [login(site, VENDOR) for _ in range(THREADS)]
    forms = [accept_form(t, application) for t in tabs]
    answers = run_together([
        (lambda t=t, f=f: t.post(f"/vendor/applications/{application}/accept", data=f))
        for t, f in zip(tabs, forms, strict=True)])
    no_server_error(answers, "16 acceptances")
    assert len(loans_of(site, application)) == 1, loans_of(site, application)
    ledger_clean(site)


def test_change_after_acceptance_is_not_paid_without_confirmation(a13_sqlite_site):
    site = a13_sqlite_site
    vendor, application = offer(site)
    firm, name = firm_of(site, VENDOR)
    assert vendor.post(f"/vendor/applications/{application}/accept",
                       data=accept_form(vendor, application)).status_code in (302, 303)
    [(loan, _, accepted_account)] = loans_of(site, application)
    answer = declare(vendor, site, name)
    assert answer.status_code < 500
    assert changes(site, firm), "the vendor's own change was not recorded"
    trellis(site.env, "ledger", "disburse", timeout=900)
    [(_, status, paid_to)] = loans_of(site, application)
    numbers = {a[0]: a[1] for a in accounts(site, firm)}
    assert paid_to in numbers, f"loan {loan} points at account {paid_to}, not its firm's"
    if status not in ("pending", "accepted"):
        assert numbers[paid_to] != NEW_ACCOUNT, "paid to the new account, never confirmed"
        assert paid_to == accepted_account
    ledger_clean(site)


def test_account_change_while_payout_runs(a13_site):
    """`trellis ledger disburse` runs while the vendor files account changes from 16 tabs:
    the loan is paid once, to the account it was accepted with (or waits), never to an
    account the vendor did not confirm for it; the books balance."""
    site = a13_site
    vendor, application = offer(site)
    firm, name = firm_of(site, VENDOR)
    assert vendor.post(f"/vendor/applications/{application}/accept",
                       data=accept_form(vendor, application)).status_code in (302, 303)
    [(loan, _, accepted_account)] = loans_of(site, application)
    vendor.post("/vendor/consent", data={"csrf_token": token(vendor, "/vendor/consent"),
                                         "trade_data": "y", "bank_account": "y"})
    tabs = [login(site, VENDOR) for _ in range(THREADS)]
    tokens = [token(t, "/vendor/bank-account") for t in tabs]
    payout = subprocess.Popen([*CLI, "ledger", "disburse"], env=site.env,
                              cwd=site.env["TRELLIS_INSTANCE_PATH"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    answers = run_together([
        (lambda t=t, k=k, i=i: t.post("/vendor/bank-account", data={
            "csrf_token": k, "bank_name": "招商银行宁波分行",
            "new_account": f"62148305719{i:05d}", "account_name": name, "consent": "y",
            "password": PASSWORD}))
        for i, (t, k) in enumerate(zip(tabs, tokens, strict=True))])
    out, err = payout.communicate(timeout=900)
    no_server_error(answers, "16 account changes during payout")
    [(_, status, paid_to)] = loans_of(site, application)
    paid = site.q("select count(*), coalesce(sum(amount_fen), 0) from loan_disbursements "
                  "where loan_id = :l", l=loan)[0]
    assert paid[0] <= 1, f"loan {loan} paid out {paid[0]} times"
    if paid[0]:
        assert paid_to == accepted_account, (
            f"paid to account {paid_to}, accepted with {accepted_account}: {accounts(site, firm)}")
    waiting = [c for c in changes(site, firm) if c[2] not in ("cancelled", "superseded")]
    assert len(waiting) <= 1 or all(c[2] != "applied" for c in waiting[1:]), changes(site, firm)
    ledger_clean(site)


# --- IDOR -------------------------------------------------------------------------------

def test_another_vendor_sees_none_of_it(a13_sqlite_site):
    site = a13_sqlite_site
    vendor, application = offer(site)
    fields = accept_form(vendor, application)
    other = login(site, VENDOR2)
    got = other.post(f"/vendor/applications/{application}/accept",
                     data={**fields, "csrf_token": token(other, "/vendor/")})
    assert got.status_code in (403, 404), f"another vendor accepts the offer: {got.status_code}"
    assert loans_of(site, application) == []
    assert vendor.post(f"/vendor/applications/{application}/accept",
                       data=fields).status_code in (302, 303)
    [(loan, _, _)] = loans_of(site, application)
    assert me(other)["firm_id"] != me(vendor)["firm_id"]
    for url in (f"/vendor/applications/{application}", f"/vendor/loans/{loan}",
                f"/api/v1/loans/{loan}", f"/api/v1/loans/{loan}/statement"):
        got = other.get(url)
        assert got.status_code in (403, 404), f"{url}: {got.status_code}"
    listed = other.get("/api/v1/loans").get_json()
    assert loan not in [item.get("id") for item in (listed or {}).get("items", [])]
