"""The anchor's vouchers: issue a confirmed payable as a voucher, follow its lineage,
settle it at maturity."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlmodel import select

from trellis import clock
from trellis.errors import TrellisError, ValidationError
from trellis.paging import paginate
from trellis.platform.anchor.blueprint import bp
from trellis.platform.anchor.forms import IssueVoucherForm
from trellis.platform.forms import EmptyForm
from trellis.platform.i18n import render
from trellis.platform.paging import args as paging_args
from trellis.platform.vendor_portal.common import (
    attach_error,
    current_user_obj,
    event_proofs,
    own_firm,
    status_label,
    status_labels,
)
from trellis.platform.web import audit, commit, db, roles_required
from trellis.trade.models import Firm, Invoice
from trellis.vouchers import issuable, lineage, visibility
from trellis.vouchers import services as vouchers
from trellis.vouchers.models import FragmentStatus, Voucher, VoucherFragment
from trellis.vouchers.naming import part_names, part_numbers
from trellis.vouchers.settlement import settle


def lineage_labels() -> dict:
    labels = {"confirmation": _("Confirmation"), "invoice": _("invoice"),
              "matures": _("matures"),
              # the part's number as the parts table beside the picture names it
              "part": _("Part No. %(n)s"),
              # a part passed on says to whom, the part it became from whom (F11)
              "passed_to": _("passed on to %(firm)s"), "from": _("from %(firm)s")}

    labels.update({k: str(v) for k, v in status_labels().items()})
    # a part's state as the parts table words it ("paid at maturity", not "settled")
    labels.update({str(k.value): status_label(k.value, "fragment") for k in FragmentStatus})
    return labels


def lineage_svg(voucher: Voucher, highlight: str | None = None,
                seen: visibility.Sight | None = None) -> Markup:
    """The voucher's lineage picture, *highlight* the viewer's firm name, *seen* what the
    viewer may see of it (None: every part, for the issuer and bank staff)."""
    ids = db().exec(select(VoucherFragment.id).where(VoucherFragment.voucher_id == voucher.id))
    full = part_names(db(), [i for i in ids if i is not None], detail=True)
    tree = lineage.build(session=db(), voucher=voucher, labels=lineage_labels(),
                         describe=lambda ident: render(full[ident]), seen=seen)
    return Markup(lineage.render_svg(tree, title=_("Lineage of voucher %(code)s",
                                                   code=voucher.code),
                                     highlight_firm=highlight))


ISSUABLE_SHOWN = 200


def _issuable(anchor_id: int, q: str = "") -> tuple[list[tuple[Invoice, Firm]], int]:
    """The invoices the anchor may issue a voucher on today (the core's rule,
    :mod:`trellis.vouchers.issuable`: no financed or overdue ones, outside reader 11, F10),
    latest due first (at most :data:`ISSUABLE_SHOWN`), narrowed by *q* (invoice number or
    supplier), and how many there are in all: the page says when its list is cut (outside
    reader 8, R23)."""
    return issuable.issuable(session=db(), anchor_id=anchor_id, as_of=clock.today(), q=q,
                             limit=ISSUABLE_SHOWN)


@bp.route("/vouchers", methods=["GET", "POST"], endpoint="vouchers")
@roles_required("anchor")
def vouchers_page():
    firm = own_firm()
    form = IssueVoucherForm()
    status = 200
    today = clock.today()
    latest = vouchers.latest_maturity(session=db(), issued_on=today)
    if request.method == "GET" and request.args.get("invoice_id", "").isdigit():
        # left empty, the maturity is the invoice's own due date (said in the hint)
        form.invoice_id.data = int(request.args["invoice_id"])
    if form.validate_on_submit():
        try:
            voucher = vouchers.issue(session=db(), anchor_id=firm.id,
                                     invoice_id=form.invoice_id.data,
                                     maturity_date=form.maturity_date.data, issued_on=today,
                                     user=current_user_obj())
        except TrellisError as exc:
            db().rollback()
            if isinstance(exc, ValidationError) or exc.status in (404, 409):
                attach_error(form, exc, "invoice_id")
                status = 422 if isinstance(exc, ValidationError) else exc.status
            else:
                raise
        else:
            audit("voucher.issue", "voucher", voucher.id, code=voucher.code,
                  face_fen=voucher.face_fen, invoice_id=voucher.invoice_id)
            commit()
            flash(_("Voucher %(code)s issued.", code=voucher.code), "success")
            return redirect(url_for("anchor.voucher", voucher_id=voucher.id), code=303)
    elif request.method == "POST":
        status = 422
    invoice_q = request.args.get("invoice_q", "").strip()[:80]
    issuable, issuable_total = _issuable(firm.id, invoice_q)
    wanted = paging_args()
    if not wanted["sort"]:
        wanted["desc"] = "1"   # latest maturity first unless the reader sorts
    page = paginate(db(), select(Voucher).where(Voucher.issuer_id == firm.id),
                    sort_columns={"matures": Voucher.maturity_date, "face": Voucher.face_fen,
                                  "issued": Voucher.issued_on},
                    search_columns=(Voucher.code,), tiebreak=Voucher.id, **wanted)
    return render_template("anchor/vouchers.html", form=form, rows=[r[0] for r in page.items],
                           page=page,
                           issuable=issuable, issuable_total=issuable_total,
                           invoice_q=invoice_q, latest=latest,
                           max_months=vouchers.policy(session=db()).max_tenor_months), status


@bp.get("/vouchers/<int:voucher_id>")
@roles_required("anchor")
def voucher(voucher_id: int):
    firm = own_firm()
    v = vouchers.get_voucher(session=db(), voucher_id=voucher_id, firm_id=firm.id)
    if v.issuer_id != firm.id:
        abort(404)
    frags = vouchers.fragments(session=db(), voucher_id=v.id)
    went = visibility.transfers(frags)
    by_id = {f.id: f for f in frags}
    return render_template("anchor/voucher.html", v=v, svg=lineage_svg(v),
                           went=went, came={c.id: by_id[p] for p, c in went.items()},
                           events=(events := vouchers.events(session=db(), voucher_id=v.id)),
                           proofs=event_proofs(events), fragments=frags,
                           numbers=part_numbers(db(), [f.id for f in frags if f.id]),
                           names=_names(v), form=EmptyForm(), today=clock.today())


def _names(v: Voucher) -> dict[int, str]:
    ids = {f.holder_id for f in vouchers.fragments(session=db(), voucher_id=v.id)}
    return {f.id: f.name for f in db().exec(select(Firm).where(Firm.id.in_(ids | {v.issuer_id})))}


@bp.post("/vouchers/<int:voucher_id>/settle")
@roles_required("anchor")
def settle_voucher(voucher_id: int):
    firm = own_firm()
    if not EmptyForm().validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return redirect(url_for("anchor.voucher", voucher_id=voucher_id), code=303)
    paid = settle(session=db(), voucher_id=voucher_id, paid_on=clock.today(),
                  anchor_id=firm.id, user=current_user_obj())
    if paid:
        audit("voucher.settle", "voucher", voucher_id,
              fragments=[p.fragment_id for p in paid], total_fen=sum(p.amount_fen for p in paid))
        commit()
        flash(_("Voucher settled: %(n)d holder(s) paid.", n=len(paid)), "success")
    else:
        flash(_("This voucher was already settled; nothing changed."), "warning")
    return redirect(url_for("anchor.voucher", voucher_id=voucher_id), code=303)
