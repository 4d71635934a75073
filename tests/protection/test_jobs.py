"""The scheduled job applies bank-account changes whose waiting period has passed."""

from datetime import timedelta

from trellis.clock import utcnow
from trellis.protection import bank
from trellis.protection.jobs import apply_bank_changes


def test_job_applies_due_changes(session, session_factory, make_firm, make_user):
    firm = make_firm(bank_account="6222020000000000001")
    user = make_user("vendor", firm=firm)
    bank.request_change(session=session, firm_id=firm.id, user=user,
                        password="correct horse battery", new_account="6222020000000000999",
                        now=utcnow() - timedelta(hours=25))
    session.commit()
    assert apply_bank_changes(session_factory=session_factory, settings=None) == \
        "applied 1 bank-account change(s)"
    session.refresh(firm)
    assert firm.bank_account == "6222020000000000999"
