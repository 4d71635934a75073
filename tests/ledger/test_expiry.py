"""Offers past their validity date: the expiry service, its job, the status rules and the
vendor's page."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from tests.ledger.conftest import AS_OF
from tests.platform.conftest import csrf_token, login
from trellis.errors import Conflict
from trellis.ledger import expiry, jobs, origination, status
from trellis.ledger.models import Application, Offer
from trellis.ledger.models import ApplicationStatus as A
from trellis.ledger.models import OfferStatus as O


def open_offer(session, world, amount=10_000_000) -> Offer:
    inv = world.invoice(amount)
    app = origination.apply(session=session, firm_id=world.vendor.id, product_code="RF-STD",
                            invoice_ids=[inv.id], as_of=AS_OF)
    offer = origination.open_offer(session, app.id)
    assert offer is not None, (app.status, app.review_reasons, app.decline_reasons)
    assert (app.status, offer.status) == ("approved", "open")
    return offer


def statuses(session, offer) -> tuple[str, str]:
    session.expire_all()
    offer = session.get(Offer, offer.id)
    return offer.status, session.get(Application, offer.application_id).status


@pytest.mark.parametrize("days_after, expired", [(-1, False), (0, False), (1, True),
                                                 (30, True)])
def test_offers_expire_the_day_after_their_validity(session, world, days_after, expired):
    offer = open_offer(session, world)
    as_of = offer.expires_on + timedelta(days=days_after)
    n = expiry.expire_offers(session=session, as_of=as_of)
    assert n == int(expired)
    assert statuses(session, offer) == (("expired", "expired") if expired
                                        else ("open", "approved"))


def test_an_expired_offer_cannot_be_accepted_and_shows_expired(session, world):
    offer = open_offer(session, world)
    expiry.expire_offers(session=session, as_of=offer.expires_on + timedelta(days=1))
    # even on a day the offer would still have been valid: expired is final
    with pytest.raises(Conflict) as info:
        origination.accept_offer(session=session, offer_id=offer.id, as_of=offer.expires_on)
    assert "expired" in info.value.message
    assert statuses(session, offer) == ("expired", "expired")


def test_accepted_offers_are_left_alone_and_a_rerun_expires_nothing(session, world):
    accepted = open_offer(session, world, 10_000_000)
    waiting = open_offer(session, world, 12_000_000)
    origination.accept_offer(session=session, offer_id=accepted.id, as_of=AS_OF)
    later = waiting.expires_on + timedelta(days=1)
    assert expiry.expire_offers(session=session, as_of=later) == 1
    assert expiry.expire_offers(session=session, as_of=later) == 0
    assert statuses(session, accepted) == ("accepted", "accepted")
    assert statuses(session, waiting) == ("expired", "expired")


@pytest.mark.parametrize("current", [O.ACCEPTED, O.EXPIRED])
def test_only_open_offers_can_expire(current):
    offer = SimpleNamespace(id=4, status=current.value)
    with pytest.raises(status.CannotExpire):
        status.move_offer(offer, O.EXPIRED)
    assert offer.status == current.value


@pytest.mark.parametrize("current", [s for s in A if s is not A.APPROVED])
def test_only_approved_applications_can_expire(current):
    app = SimpleNamespace(id=5, status=current.value)
    with pytest.raises(status.CannotExpire):
        status.move_application(app, A.EXPIRED)
    assert app.status == current.value


def test_each_illegal_move_keeps_its_own_exception():
    app = SimpleNamespace(id=6, status=A.EXPIRED.value)
    with pytest.raises(status.errors.CannotAccept):
        status.move_application(app, A.ACCEPTED)
    with pytest.raises(status.errors.CannotDecide):
        status.move_application(app, A.APPROVED)
    assert issubclass(status.CannotExpire, status.errors.IllegalTransition)
    assert status.CannotExpire not in {m.error for m in status.LOAN_MOVES.values()}


def test_expiring_one_offer_checks_its_validity(session, world):
    offer = open_offer(session, world)
    with pytest.raises(status.CannotExpire):
        expiry.expire_offer(session=session, offer_id=offer.id, as_of=offer.expires_on)
    expiry.expire_offer(session=session, offer_id=offer.id,
                        as_of=offer.expires_on + timedelta(days=1))
    assert statuses(session, offer) == ("expired", "expired")
    with pytest.raises(status.CannotExpire):
        expiry.expire_offer(session=session, offer_id=offer.id,
                            as_of=offer.expires_on + timedelta(days=2))


def test_the_job_expires_offers_in_its_own_transaction(session, session_factory, world):
    offer = open_offer(session, world)
    as_of = offer.expires_on + timedelta(days=1)
    outcome = jobs.expire_offers(session_factory=session_factory, settings=None, as_of=as_of)
    assert outcome == f"1 offer(s) expired as of {as_of.isoformat()}"
    assert statuses(session, offer) == ("expired", "expired")


def test_the_vendor_sees_the_offer_expired_and_cannot_sign(session, client, world,
                                                           make_user, monkeypatch):
    offer = open_offer(session, world)
    expiry.expire_offers(session=session, as_of=offer.expires_on + timedelta(days=1))
    monkeypatch.setattr("trellis.platform.ledger.views.today", lambda: AS_OF)
    login(client, make_user("vendor", firm=world.vendor))
    url = f"/ledger/offers/{offer.id}"
    page = client.get(url).get_data(as_text=True)
    assert "status-expired" in page and "/accept" not in page
    client.post(f"{url}/accept", data={"csrf_token": csrf_token(client, "/ledger/my")})
    assert statuses(session, offer) == ("expired", "expired")
    assert "status-expired" in client.get("/ledger/my").get_data(as_text=True)
