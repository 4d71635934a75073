"""The vendor's pages: the firm at a glance, proofs. Trade entry, consent and profile,
financing, vouchers, the bank account and the warnings admin live in sibling modules; all
add routes to the area's blueprint (:mod:`trellis.platform.vendor_portal.blueprint`)."""

from __future__ import annotations

from flask import Response, abort, render_template
from flask_login import current_user
from sqlmodel import func, select

from trellis.accounts import services as accounts
from trellis.chain import bundles
from trellis.chain.models import Document
from trellis.platform.chain.words import scope_headers
from trellis.platform.vendor_portal import finance
from trellis.platform.vendor_portal.blueprint import bp
from trellis.platform.vendor_portal.common import own_firm, state_for
from trellis.platform.web import current_firm_id, db, roles_required, settings
from trellis.protection import notifications
from trellis.scoring import history
from trellis.trade.models import DocStatus, Firm, Invoice, PurchaseOrder
from trellis.vouchers import services as vouchers
from trellis.vouchers.models import VoucherEvent
from trellis.vouchers.services import get_voucher


@bp.get("/")
@roles_required("vendor")
def index():
    firm = own_firm()
    counts = {}
    for kind, model in (("invoice", Invoice), ("order", PurchaseOrder)):
        counts[kind] = {str(s): 0 for s in DocStatus} | {"unconfirmable": 0}
        # a document waiting on a buyer that is no anchor firm waits for nobody
        for status, role, n in db().exec(
                select(model.status, Firm.role, func.count())
                .join(Firm, Firm.id == model.buyer_id).where(model.seller_id == firm.id)
                .group_by(model.status, Firm.role)):
            counts[kind][state_for(status, role)] += int(n)
    consents = {p: accounts.has_consent(session=db(), firm_id=firm.id, purpose=p)
                for p in accounts.CONSENT_PURPOSES}

    unread = notifications.unread(session=db(), user_id=current_user.id)
    return render_template("vendor_portal/index.html", firm=firm, counts=counts, consents=consents,
                           unread=unread, extras=_index_extras(firm))


def _index_extras(firm) -> dict:
    """Loans and vouchers for the dashboard (empty lists when there are none yet), and the
    firm's risk grade with its last moves (issue 15: the grade moved and nothing said so)."""
    steps = history.grade_steps(history.history(session=db(), firm_id=firm.id),
                                limit=history.SHORT_STEPS + 1)
    return {"holdings": vouchers.holdings(session=db(), firm_id=firm.id),
            "loans": finance.live_loans(firm.id),
            "grade": steps[0] if steps else None,
            "grade_moves": [s for s in steps if s.before][:history.SHORT_STEPS]}


@bp.get("/proofs/<int:doc_number>")
@roles_required("vendor", "anchor")
def proof_bundle(doc_number: int):
    """The proof bundle (JSON) of a committed document about the user's own firm."""
    doc = db().get(Document, doc_number)
    if doc is None or not _document_is_mine(doc):
        abort(404)
    bundle = bundles.make_bundle(session=db(), document=doc, settings=settings())
    return Response(bundles.dumps(bundle), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="trellis-proof-{doc.id}.json"',
        **scope_headers()})


def _document_is_mine(doc) -> bool:
    firm_id = current_firm_id()
    if doc.source in ("invoices", "purchase_orders") and doc.source_id:
        model = Invoice if doc.source == "invoices" else PurchaseOrder
        row = db().get(model, doc.source_id)
        return row is not None and firm_id in (row.seller_id, row.buyer_id)
    if doc.doc_type == "confirmation" and ":" in doc.doc_id:
        kind, _, raw = doc.doc_id.partition(":")
        model = Invoice if kind == "invoice" else PurchaseOrder
        row = db().get(model, int(raw)) if raw.isdigit() else None
        return row is not None and firm_id in (row.seller_id, row.buyer_id)
    if doc.doc_type == "voucher_event" and doc.doc_id.isdigit():
        event = db().get(VoucherEvent, int(doc.doc_id))
        if event is None:
            return False
        try:
            get_voucher(session=db(), voucher_id=event.voucher_id, firm_id=firm_id)
        except Exception:
            return False
        return True
    return False

