"""The platform's settlement account under attack: forged self-approval, races, bad numbers.

Written from the specification without reading ``trellis/`` (README, the pages of a
running demo, ``tests/conftest.py`` and ``tests/drills/``); see ``attack13_kit``.

The claim: the settlement account (the one vendors are told to repay into) is changed by
one admin and must be approved by a second admin; self-approval is refused, also when
forged at the HTTP level; account numbers are validated. The pages: ``/admin/settlement-
account`` (form ``bank_name``, ``account``, ``account_name``), ``.../<id>/approve`` and
``.../<id>/reject`` (the proposer's "withdraw"). The oracle is the page's "生效中" block
and the table ``settlement_account_changes`` (status, proposed_by_id, decided_by_id).
"""

from __future__ import annotations

import re

import pytest

from tests.drills.attack13_kit import (
    ADMIN,
    ADMIN2,
    ANCHOR,
    AUDITOR,
    CJK,
    RM,
    THREADS,
    VENDOR,
    login,
    no_server_error,
    outcome,
    page_text,
    run_together,
    token,
)

PAGE = "/admin/settlement-account"
GOOD = ["6222021202009183746", "33101985360051234", "6217000012349876"]


def active_account(client) -> str:
    """The digits of the account the page shows in force."""
    body = page_text(client.get(PAGE).get_data(as_text=True))
    found = re.search(r"生效中 开户行及支行 .*? 账号 ([\d ]+?) 户名", body)
    assert found, f"no account in force on the page: {body[:600]}"
    return found.group(1).replace(" ", "")


def propose(client, account: str, bank: str = "中国工商银行杭州分行"):
    return client.post(PAGE, data={"csrf_token": token(client, PAGE), "bank_name": bank,
                                   "account": account,
                                   "account_name": "Trellis 供应链金融结算专户"})


def changes(site) -> list[tuple]:
    return site.q("select id, replace(account, ' ', ''), status, proposed_by_id, decided_by_id "
                  "from settlement_account_changes order by id")


def pending_id(site) -> int:
    rows = [r for r in changes(site) if r[2] == "proposed"]
    assert len(rows) == 1, f"expected one proposal waiting, got {changes(site)}"
    return rows[0][0]


def user_id(site, email: str) -> int:
    return site.q("select id from users where email = :e", e=email)[0][0]


# --- self-approval forged at the HTTP level --------------------------------------------

def test_proposer_cannot_approve_own_change_by_forged_post(a13_sqlite_site):
    site = a13_sqlite_site
    admin = login(site, ADMIN)
    before = active_account(admin)
    assert propose(admin, GOOD[0]).status_code in (302, 303)
    change = pending_id(site)
    page = admin.get(PAGE).get_data(as_text=True)
    assert f"{PAGE}/{change}/approve" not in page, "the proposer is offered an approve button"

    # the form the second admin sees, posted by the proposer; then from a second session
    # of the proposer (another browser), and with extra fields naming another approver
    second_tab = login(site, ADMIN)
    admin2_id = user_id(site, ADMIN2)
    for client, extra in ((admin, {}), (second_tab, {}),
                          (admin, {"decided_by_id": str(admin2_id), "user_id": str(admin2_id),
                                   "approver": ADMIN2})):
        answer = client.post(f"{PAGE}/{change}/approve",
                             data={"csrf_token": token(client, PAGE), **extra})
        code, said = outcome(client, answer)
        assert code < 500 and not (200 <= code < 300 and "现为" in said), said[:400]
        assert CJK.search(said)
        assert active_account(admin) == before, "the proposer's own approval took effect"
        assert [r[2] for r in changes(site)] == ["proposed"], changes(site)

    # a huge or missing id is a 404, never a server error
    for bad in (2**63, 0, change + 1000):
        got = admin.post(f"{PAGE}/{bad}/approve", data={"csrf_token": token(admin, PAGE)})
        assert got.status_code in (303, 302, 404, 409), (bad, got.status_code)


def test_csrf_token_of_another_session_is_refused(a13_sqlite_site):
    site = a13_sqlite_site
    admin, admin2 = login(site, ADMIN), login(site, ADMIN2)
    assert propose(admin, GOOD[0]).status_code in (302, 303)
    change = pending_id(site)
    stolen = token(admin, PAGE)               # the proposer's token, replayed by admin2
    for data in ({"csrf_token": stolen}, {}, {"csrf_token": "x" * 40}):
        got = admin2.post(f"{PAGE}/{change}/approve", data=data)
        assert got.status_code == 400, (data.keys(), got.status_code)
    assert [r[2] for r in changes(site)] == ["proposed"]


@pytest.mark.parametrize("who", [RM, AUDITOR, VENDOR, ANCHOR])
def test_other_roles_cannot_propose_or_approve(a13_sqlite_site, who):
    site = a13_sqlite_site
    admin = login(site, ADMIN)
    before = active_account(admin)
    assert propose(admin, GOOD[0]).status_code in (302, 303)
    change = pending_id(site)
    other = login(site, who)
    tok = token(other, "/")
    tries = [other.post(PAGE, data={"csrf_token": tok, "bank_name": "某银行", "account": GOOD[1],
                                    "account_name": "冒充"}),
             other.post(f"{PAGE}/{change}/approve", data={"csrf_token": tok}),
             other.post(f"{PAGE}/{change}/reject", data={"csrf_token": tok})]
    for got in tries:
        assert got.status_code in (302, 303, 400, 403, 404, 405), got.status_code
    assert [r[2] for r in changes(site)] == ["proposed"], changes(site)
    assert active_account(admin) == before


# --- races ------------------------------------------------------------------------------

def test_second_admin_approves_sixteen_times_at_once(a13_site):
    """16 tabs of the second admin press approve together: approved once, in force, one
    approval in the audit trail and one "now in force" answer."""
    site = a13_site
    admin = login(site, ADMIN)
    assert propose(admin, GOOD[0]).status_code in (302, 303)
    change = pending_id(site)
    tabs = [login(site, ADMIN2) for _ in range(THREADS)]
    tokens = [token(t, PAGE) for t in tabs]
    answers = run_together([
        (lambda t=t, k=k: t.post(f"{PAGE}/{change}/approve", data={"csrf_token": k}))
        for t, k in zip(tabs, tokens, strict=True)])
    no_server_error(answers, "16 approvals")
    rows = changes(site)
    expected = (change, GOOD[0], "approved", user_id(site, ADMIN), user_id(site, ADMIN2))
    assert rows == [expected], rows
    assert active_account(admin) == GOOD[0]
    audit = site.q("select count(*) from audit_events where action = 'settlement.approved' "
                   "and record_id = :r", r=str(change))[0][0]
    assert audit == 1, f"{audit} approvals in the audit trail for one change"


def test_two_admins_propose_and_approve_each_other_at_once(a13_site):
    """Both admins propose at the same moment (8 tabs each, different accounts), then each
    approves whatever waits at the same moment. One proposal waits at a time (a second is
    refused with 409 when made one after the other), nobody's own proposal is approved,
    exactly one proposal ends approved and it is the account in force."""
    site = a13_site
    a1 = [login(site, ADMIN) for _ in range(THREADS // 2)]
    a2 = [login(site, ADMIN2) for _ in range(THREADS // 2)]
    k1 = [token(c, PAGE) for c in a1]
    k2 = [token(c, PAGE) for c in a2]

    def post(client, tok, account):
        return client.post(PAGE, data={"csrf_token": tok, "bank_name": "中国工商银行杭州分行",
                                       "account": account, "account_name": "Trellis 结算专户"})
    answers = run_together(
        [(lambda c=c, k=k: post(c, k, GOOD[0])) for c, k in zip(a1, k1, strict=True)]
        + [(lambda c=c, k=k: post(c, k, GOOD[1])) for c, k in zip(a2, k2, strict=True)])
    no_server_error(answers, "16 proposals")
    waiting = [r for r in changes(site) if r[2] == "proposed"]

    # each admin approves, at the same moment, every proposal that waits
    answers = run_together(
        [(lambda c=c, i=r[0]: c.post(f"{PAGE}/{i}/approve", data={"csrf_token": token(c, PAGE)}))
         for c in (a1[0], a2[0]) for r in waiting])
    no_server_error(answers, "cross approvals")
    approved = [r for r in changes(site) if r[2] == "approved"]
    in_force = active_account(a1[0])
    facts = (f"{len(waiting)} proposals waited at once; after the cross approvals "
             f"{len(approved)} approved {approved}, in force {in_force}")
    assert len(waiting) == 1, facts
    assert len(approved) == 1, facts
    _, account, _, by, decided = approved[0]
    assert by != decided, f"a proposal approved by its own proposer: {approved}"
    assert in_force == account, facts


def test_withdraw_and_approve_race(a13_site):
    """The proposer withdraws while the second admin approves (8 + 8 tabs): the change ends
    either approved and in force or withdrawn and not in force, never both, never half."""
    site = a13_site
    admin = login(site, ADMIN)
    before = active_account(admin)
    assert propose(admin, GOOD[2]).status_code in (302, 303)
    change = pending_id(site)
    w = [login(site, ADMIN) for _ in range(THREADS // 2)]
    a = [login(site, ADMIN2) for _ in range(THREADS // 2)]
    kw, ka = [token(c, PAGE) for c in w], [token(c, PAGE) for c in a]
    answers = run_together(
        [(lambda c=c, k=k: c.post(f"{PAGE}/{change}/reject", data={"csrf_token": k}))
         for c, k in zip(w, kw, strict=True)]
        + [(lambda c=c, k=k: c.post(f"{PAGE}/{change}/approve", data={"csrf_token": k}))
           for c, k in zip(a, ka, strict=True)])
    no_server_error(answers, "withdraw against approve")
    [(_, account, status, _, _)] = changes(site)
    assert status in ("approved", "rejected", "withdrawn", "cancelled"), status
    assert active_account(admin) == (account if status == "approved" else before)


# --- validation -------------------------------------------------------------------------

BAD = [
    pytest.param("ABC123456789012", id="letters"),
    pytest.param("1234", id="too-short"),
    pytest.param("6" * 40, id="too-long"),
    pytest.param("6222021202009183746\x00", id="nul"),
    pytest.param("8888888888888888", id="one-digit-repeated"),
    pytest.param("6222-0212-0200-9183-746; drop", id="punctuation-and-words"),
    pytest.param("<script>alert(1)</script>", id="html"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("account", BAD)
def test_bad_account_numbers_refused(a13_sqlite_site, account):
    site = a13_sqlite_site
    admin = login(site, ADMIN)
    answer = propose(admin, account)
    assert 400 <= answer.status_code < 500, answer.status_code
    said = page_text(answer.get_data(as_text=True))
    assert CJK.search(said)
    assert changes(site) == [], f"a proposal was recorded for {account!r}: {changes(site)}"


@pytest.mark.parametrize("account", [
    pytest.param("6222０２１２０２００９１８３７４６", id="full-width-digits"),
    pytest.param("٦٢٢٢٠٢١٢٠٢٠٠٩١٨٣٧٤٦", id="arabic-indic-digits"),
])
def test_non_ascii_digits_refused_or_normalised(a13_sqlite_site, account):
    site = a13_sqlite_site
    admin = login(site, ADMIN)
    answer = propose(admin, account)
    assert answer.status_code < 500
    stored = [r[1] for r in changes(site)]
    assert all(s.isascii() for s in stored), f"stored as typed: {stored}"


# --- a sock-puppet second admin ---------------------------------------------------------

def test_admin_cannot_approve_through_an_admin_it_just_made(a13_sqlite_site):
    site = a13_sqlite_site
    admin = login(site, ADMIN)
    before = active_account(admin)
    made = admin.post("/admin/users", data={
        "csrf_token": token(admin, "/admin/users"), "email": "puppet-a13@example.cn",
        "name": "傀儡", "role": "admin", "firm_uscc": "", "password": "Tq7#mVx29pLk-a13"})
    assert made.status_code in (302, 303), page_text(made.get_data(as_text=True))[:400]
    assert propose(admin, GOOD[0]).status_code in (302, 303)
    change = pending_id(site)
    puppet = site.app.test_client()
    from tests.drills.conftest import csrf_of
    got = puppet.post("/login", data={"csrf_token": csrf_of(puppet, "/login"),
                                      "email": "puppet-a13@example.cn",
                                      "password": "Tq7#mVx29pLk-a13"})
    assert got.status_code in (302, 303)
    puppet.post(f"{PAGE}/{change}/approve", data={"csrf_token": token(puppet, PAGE)})
    assert active_account(admin) == before, "the proposer's own puppet approved the change"
