"""A firm's live applications on some documents are found in a fixed number of SQL
statements, however many applications it has: the applications, then the latest offer of
the approved ones in one read (it was one offer read per approved application)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

from sqlalchemy import event

from trellis.ledger.apr import rate_micro
from trellis.ledger.claims import live_applications
from trellis.ledger.models import Application, Offer

AS_OF = date(2026, 3, 2)
_documents = count(900_001)

# One application of each kind: its status, its offers oldest first (status, valid until),
# and whether it still claims its document on AS_OF.
KINDS = (
    ("submitted", (), True),
    ("review", (), True),
    ("second_approval", (), True),
    ("approved", (("open", AS_OF),), True),                       # valid through the day
    ("approved", (("open", AS_OF - timedelta(days=1)),), False),  # lapsed
    ("approved", (("open", AS_OF + timedelta(days=9)),
                  ("expired", AS_OF + timedelta(days=9))), False),  # the latest one counts
    ("approved", (("expired", AS_OF), ("open", AS_OF + timedelta(days=9))), True),
    ("approved", (), False),                                       # no offer at all
    ("declined", (), False),
    ("accepted", (("accepted", AS_OF),), False),
)


def _file(session, firm, product, rounds: int) -> tuple[list[int], list[int]]:
    """*rounds* applications of each kind, each on an invoice of its own: (every invoice
    id, the ids of the applications that should be found, oldest first)."""
    invoices, live = [], []
    for _ in range(rounds):
        for status, offers, claims in KINDS:
            invoice_id = next(_documents)
            app = Application(firm_id=firm.id, product_id=product.id, status=status,
                              requested_fen=100_000, invoice_ids=[invoice_id], as_of=AS_OF)
            session.add(app)
            session.flush()
            for offer_status, valid_until in offers:
                session.add(Offer(application_id=app.id, status=offer_status,
                                  amount_fen=100_000, rate=Decimal("0.07"),
                                  rate_micro=rate_micro("0.07"), apr=Decimal("0.0725"),
                                  start_date=AS_OF, due_date=AS_OF + timedelta(days=60),
                                  expires_on=valid_until))
                session.flush()
            invoices.append(invoice_id)
            if claims:
                live.append(app.id)
    return invoices, live


def _found(session, connection, firm, invoices) -> tuple[list[int], list[str]]:
    """The applications :func:`live_applications` finds, and the statements it issued."""
    seen: list[str] = []
    firm_id = firm.id                      # (read before counting: it may be expired)

    def keep(conn, cursor, statement, *args):
        if not statement.startswith("SAVEPOINT"):   # the test's session beginning anew
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", keep)
    try:
        found = live_applications(session, firm_id=firm_id, invoice_ids=invoices,
                                  as_of=AS_OF)
    finally:
        event.remove(connection, "before_cursor_execute", keep)
    assert all(kind == "invoice" and ident in invoices for (kind, ident), _ in found)
    return [app.id for _, app in found], seen


def test_live_applications_reads_a_fixed_number_of_statements(session, connection,
                                                              make_firm, product):
    small, large = make_firm(), make_firm()
    rf = product()
    small_docs, small_live = _file(session, small, rf, rounds=1)
    large_docs, large_live = _file(session, large, rf, rounds=30)
    session.commit()

    found, small_statements = _found(session, connection, small, small_docs)
    assert found == small_live
    found, large_statements = _found(session, connection, large, large_docs)
    assert found == large_live and len(found) == 30 * sum(k[2] for k in KINDS)
    # the applications, then the approved ones' latest offers: 2, whatever the count
    assert len(small_statements) == len(large_statements) == 2, large_statements

    # only the documents asked for; without an approved application, one statement
    found, statements = _found(session, connection, large, large_docs[:2])
    assert found == large_live[:2] and len(statements) == 1, statements


def test_without_documents_nothing_is_read(session, connection, make_firm):
    assert _found(session, connection, make_firm(), []) == ([], [])
