"""Reader 13 (issue 15), H9: the apply page's headline ("you can apply for up to ...") was a
fen more than the sum of the "You receive" figures beside its invoices: each row rounded
its advance down, the headline rounded the sum. One rule now (``quoting.advance_of``):
each document's advance rounded down, added up; the application allows the same."""

from __future__ import annotations

import re

from sqlmodel import select

from tests.platform.conftest import login
from tests.platform.vendor_portal.test_finance import (  # noqa: F401  (the fixture)
    TODAY,
    apply_for,
    demo,
)
from trellis.demo.seed import PASSWORD
from trellis.ledger import financeable, quoting
from trellis.ledger.models import Application, Product
from trellis.trade.models import Invoice


def _fen(text: str) -> int:
    yuan, fen = re.search(r"¥([\d,]+)\.(\d\d)", text).groups()
    return int(yuan.replace(",", "")) * 100 + int(fen)


def _two_invoices_that_round(session, firm_id: int) -> list[Invoice]:
    """Leave the firm two eligible invoices (due last, so priced under the cap), each
    worth 1 fen more than a multiple of 5 yuan: 80% of each has 0.8 fen to round away, so
    rounding the sum (1.6 fen) and rounding each (0.8 + 0.8) part by a fen. The firm's
    other candidates are marked paid."""
    rows = [inv for inv, _buyer in session.exec(
        financeable.invoice_candidates(firm_id=firm_id, as_of=TODAY)).all()]
    rows.sort(key=lambda inv: (inv.due_date, inv.id))
    keep, others = rows[-2:], rows[:-2]
    assert len(keep) == 2
    for inv in others:
        inv.paid_fen = inv.amount_fen
        session.add(inv)
    for inv in keep:
        inv.amount_fen = inv.paid_fen + 500_001   # open: ¥5,000.01
        session.add(inv)
    session.flush()
    return keep


def test_the_headline_is_the_sum_of_the_rows_and_what_an_application_allows(
        client, session, demo):  # noqa: F811
    vendor = demo["vendor"]
    keep = _two_invoices_that_round(session, vendor.firm_id)
    product = session.exec(select(Product).where(Product.code == "RF-STD")).one()
    each = [(inv.amount_fen - inv.paid_fen) * product.advance_rate_bps // 10_000
            for inv in keep]
    login(client, vendor, PASSWORD)
    page = client.get("/vendor/apply").get_data(as_text=True)
    rows = [_fen(page.split(f'data-receive="{inv.id}">')[1].split("</td>")[0])
            for inv in keep]
    assert rows == each
    headline = page.split('id="financeable-now">')[1].split("</p>")[0]
    assert re.search(r"[（(]2[ 张）)]", headline), headline   # the two invoices
    assert _fen(headline) == sum(rows)
    # the core says the same, and an application of both asks for exactly that
    now = financeable.financeable_now(session=session, firm_id=vendor.firm_id,
                                      product=product, as_of=TODAY)
    assert now.amount_fen == sum(rows) == quoting.advance_of(
        product, [inv.amount_fen - inv.paid_fen for inv in keep])
    response = apply_for(client, [inv.id for inv in keep])
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    app = session.exec(select(Application).order_by(Application.id.desc())).first()
    assert app.eligible_fen == app.requested_fen == sum(rows)


def test_opening_an_offer_reads_its_message(client, session, demo):  # noqa: F811
    """The offer's in-app message stayed 新 after the vendor opened and signed the offer:
    a message now names its page (``notifications.link``), and opening that page marks
    the reader's messages about it read (other users of the firm still have theirs)."""
    from tests.platform.vendor_portal.test_finance import confirmed_invoice
    from trellis.notifications import events
    from trellis.protection.models import Notification

    vendor = demo["vendor"]
    login(client, vendor, PASSWORD)
    inv = confirmed_invoice(session, vendor.firm_id)
    response = apply_for(client, [inv.id])
    assert response.status_code == 303
    events.collect(session=session, as_of=TODAY)
    session.flush()
    path = response.location.split("localhost")[-1]
    note = session.exec(select(Notification).where(
        Notification.user_id == vendor.id, Notification.kind == "offer")).one()
    assert note.link == path and note.read_at is None
    messages = client.get("/vendor/messages").get_data(as_text=True)
    row = messages.split(f'data-message-link="{note.id}"')[0].rsplit("<li", 1)[1]
    assert "新" in row or "new" in row
    assert client.get(path).status_code == 200
    session.refresh(note)
    assert note.read_at is not None
    messages = client.get("/vendor/messages").get_data(as_text=True)
    row = messages.split(f'data-message-link="{note.id}"')[0].rsplit("<li", 1)[1]
    assert "badge warn" not in row
