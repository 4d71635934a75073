"""Batch invitations: who is on the list, one-time codes that expire, the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from trellis.clock import utcnow
from trellis.errors import ValidationError
from trellis.onboarding import invitations
from trellis.onboarding.errors import InvitationExpired, InvitationInvalid, InvitationUsed

AS_OF = date(2026, 11, 30)
SECRET = "test-secret"


@pytest.fixture
def park(make_cluster, make_firm, make_invoice):
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    big = make_firm(cluster_id=cluster.id, name="大供应商", phone="13800001111")
    small = make_firm(cluster_id=cluster.id, name="小供应商")
    unconfirmed = make_firm(cluster_id=cluster.id, name="未确权供应商")
    new = make_firm(cluster_id=cluster.id, name="新供应商")
    make_invoice(big, anchor, 80_000_00, date(2025, 12, 1), status="confirmed")
    make_invoice(big, anchor, 20_000_00, date(2026, 10, 1), status="confirmed")
    make_invoice(small, anchor, 1_000_00, date(2025, 12, 1), status="confirmed")
    make_invoice(unconfirmed, anchor, 900_000_00, date(2025, 12, 1), status="pending")
    make_invoice(new, anchor, 900_000_00, date(2026, 11, 1), status="confirmed")
    return cluster, anchor, big, small, unconfirmed, new


def test_the_list_holds_vendors_with_enough_confirmed_trade_and_tenure(session, park):
    cluster, anchor, big, *_ = park
    found = invitations.candidates(session=session, cluster_id=cluster.id, as_of=AS_OF,
                                   )
    assert [c.firm_id for c in found] == [big.id]
    (c,) = found
    assert (c.confirmed_fen, c.tier, c.invited) == (100_000_00, 1, False)


def test_firms_with_a_user_are_not_invited_again(session, park, make_user):
    cluster, anchor, big, *_ = park
    make_user("vendor", firm=big)
    assert invitations.candidates(session=session, cluster_id=cluster.id, as_of=AS_OF,
                                  ) == []


def test_a_code_works_once(session, park):
    cluster, _, big, *_ = park
    (issued,) = invitations.issue(session=session, cluster_id=cluster.id, firm_ids=[big.id],
                                  secret=SECRET)
    shown = invitations.format_code(issued.code)
    assert len(issued.code) == 12 and shown.count("-") == 2
    inv, firm = invitations.lookup(session=session, code=shown.lower())
    assert firm.id == big.id
    assert invitations.redeem(session=session, code=shown).id == big.id
    with pytest.raises(InvitationUsed):
        invitations.redeem(session=session, code=shown)
    assert issued.code not in inv.code_hash  # only a hash is stored


def test_a_code_expires(session, park):
    cluster, _, big, *_ = park
    (issued,) = invitations.issue(session=session, cluster_id=cluster.id, firm_ids=[big.id],
                                  secret=SECRET, valid_days=3)
    later = utcnow() + timedelta(days=3, seconds=1)
    with pytest.raises(InvitationExpired):
        invitations.redeem(session=session, code=issued.code, now=later)
    assert invitations.redeem(session=session, code=issued.code).id == big.id


@pytest.mark.parametrize("code", ["", "AAAA-BBBB-CCCC", "not a code"])
def test_unknown_codes(session, park, code):
    invitations.issue(session=session, cluster_id=park[0].id, firm_ids=[park[2].id],
                      secret=SECRET)
    with pytest.raises(InvitationInvalid):
        invitations.redeem(session=session, code=code)


def test_redeeming_revokes_the_firms_other_codes(session, park):
    cluster, _, big, *_ = park
    (first,) = invitations.issue(session=session, cluster_id=cluster.id, firm_ids=[big.id],
                                 secret=SECRET)
    (second,) = invitations.issue(session=session, cluster_id=cluster.id, firm_ids=[big.id],
                                  secret=SECRET)
    invitations.redeem(session=session, code=second.code)
    with pytest.raises(InvitationUsed):
        invitations.redeem(session=session, code=first.code)


def test_only_vendors_of_the_cluster_can_be_invited(session, park, make_firm):
    cluster, anchor, *_ = park
    outsider = make_firm()
    for firm in (anchor, outsider):
        with pytest.raises(ValidationError):
            invitations.issue(session=session, cluster_id=cluster.id, firm_ids=[firm.id],
                              secret=SECRET)


def test_export_regenerates_codes_that_redeem(session, park):
    cluster, _, big, small, *_ = park
    issued = invitations.issue(session=session, cluster_id=cluster.id,
                               firm_ids=[big.id, small.id], secret=SECRET)
    batch = issued[0].invitation.batch
    invitations.redeem(session=session, code=issued[1].code)  # small's, used: left out
    data = invitations.export_csv(session=session, cluster_id=cluster.id, batch=batch,
                                  secret=SECRET, base_url="https://trellis.example/register")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["firm"] for r in rows] == ["大供应商"]
    (row,) = rows
    assert row["phone"] == "13800001111"
    assert row["link"] == f"https://trellis.example/register?code={row['code']}"
    assert row["code"] in row["message"] and "大供应商" in row["message"]
    assert invitations.redeem(session=session, code=row["code"]).id == big.id
    # the expiry is Beijing time and its column says so (it read "… UTC")
    from trellis.clock import beijing_text

    assert row["expires_at (Beijing time, UTC+8)"] == beijing_text(issued[0].invitation.expires_at)
    # A different secret derives different codes: the export is tied to the app's key.
    other = invitations.export_csv(session=session, cluster_id=cluster.id, batch=batch,
                                   secret="other", base_url="x")
    assert row["code"].encode() not in other


def test_candidates_mark_firms_already_invited(session, park):
    cluster, _, big, *_ = park
    invitations.issue(session=session, cluster_id=cluster.id, firm_ids=[big.id],
                      secret=SECRET)
    (c,) = invitations.candidates(session=session, cluster_id=cluster.id, as_of=AS_OF,
                                  )
    assert c.invited


def test_indicative_limits_from_scoring_on_the_demo_cluster(session):
    from sqlmodel import select

    from trellis.demo.seed import seed_demo
    from trellis.trade.models import Cluster

    seed_demo(session=session, n_vendors=60, seed=5)
    cluster = session.exec(select(Cluster)).one()
    from trellis.scoring.service import indicative_limits

    found = invitations.candidates(session=session, cluster_id=cluster.id,
                                   limits=indicative_limits)
    assert found, "the demo cluster has vendors with confirmed trade"
    limits = [c.indicative_limit_fen for c in found if c.indicative_limit_fen is not None]
    assert limits and all(isinstance(v, int) and v >= 0 for v in limits)
    assert any(v > 0 for v in limits)
    # Demo users exist for some vendors: they are not on the list.
    from trellis.accounts.models import User

    registered = set(session.exec(select(User.firm_id).where(User.firm_id.is_not(None))))
    assert not registered & {c.firm_id for c in found}


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","点我")', "@SUM(1+1)",
                                  "+cmd|' /C calc'!A0"])
def test_the_export_escapes_firm_names_that_are_formulas(session, park, name):
    cluster, _, big, *_ = park
    big.name = name
    session.add(big)
    session.flush()
    issued = invitations.issue(session=session, cluster_id=cluster.id, firm_ids=[big.id],
                               secret=SECRET)
    data = invitations.export_csv(session=session, cluster_id=cluster.id,
                                  batch=issued[0].invitation.batch, secret=SECRET,
                                  base_url="https://trellis.example/register")
    (row,) = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    assert row["firm"] == "'" + name


def test_firms_that_borrow_already_are_not_on_the_list(session, park):
    """A firm with a loan or an application has an account (no login needed): the
    platform passes the ledger's borrowers, and the list leaves them out."""
    cluster, anchor, big, *_ = park
    seen = []

    def customers(*, session, cluster_id):
        seen.append(cluster_id)
        return {big.id}

    assert invitations.candidates(session=session, cluster_id=cluster.id, as_of=AS_OF,
                                  customers=customers) == []
    assert seen == [cluster.id]


def test_the_ledgers_borrowers_are_firms_with_a_loan_or_an_application(session, park,
                                                                      make_firm):
    from datetime import date

    from sqlmodel import select

    from trellis.ledger.models import Loan, Product
    from trellis.ledger.reports import borrowers

    cluster, anchor, big, small, *_ = park
    elsewhere = make_firm()
    assert borrowers(session=session, cluster_id=cluster.id) == set()
    product = session.exec(select(Product).where(Product.code == "RF-STD")).one()
    for firm in (big, elsewhere):
        session.add(Loan(firm_id=firm.id, product_id=product.id, amount_fen=1_000_000,
                         rate_micro=72_000, due_date=date(2027, 3, 31),
                         waterfall=["penalty", "fees", "interest", "principal"]))
    session.flush()
    assert borrowers(session=session, cluster_id=cluster.id) == {big.id}
