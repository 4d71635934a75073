"""The vendor's vouchers: what it holds, passing parts to its own suppliers, splitting,
and financing a part."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func
from sqlmodel import select
from wtforms.validators import ValidationError as WTFValidationError

from trellis import clock
from trellis.accounts import services as accounts
from trellis.db import id_of
from trellis.errors import TrellisError
from trellis.ledger import claims
from trellis.ledger.origination import product_by_code
from trellis.messages import N_, Ident, Money, msg
from trellis.paging import paginate
from trellis.platform.anchor.voucher_views import lineage_svg
from trellis.platform.forms import EmptyForm
from trellis.platform.i18n import error_text, render
from trellis.platform.paging import args as paging_args
from trellis.platform.vendor_portal.blueprint import bp
from trellis.platform.vendor_portal.common import (
    AmountTooLarge,
    attach_error,
    current_user_obj,
    event_proofs,
    own_firm,
    parse_yuan,
    read_here,
)
from trellis.platform.vendor_portal.forms import FinancePartForm, PassOnForm, SplitForm
from trellis.platform.web import audit, commit, db, roles_required
from trellis.trade.models import Firm
from trellis.vouchers import financing, history, visibility
from trellis.vouchers import services as vouchers
from trellis.vouchers.errors import InApplication, NotLive
from trellis.vouchers.models import FragmentStatus, Voucher, VoucherFragment
from trellis.vouchers.naming import part_names, part_numbers
from trellis.vouchers.services import LIVE


def _supplier_choices(firm) -> list[tuple[int, str]]:
    return [(0, _("Choose a supplier"))] + [
        (s.id, s.name) for s in vouchers.suppliers_of(session=db(), firm_id=firm.id)]


@bp.get("/vouchers", endpoint="vouchers")
@roles_required("vendor")
def vouchers_page():
    firm = own_firm()
    mine = (select(VoucherFragment, Voucher)
            .join(Voucher, Voucher.id == VoucherFragment.voucher_id)
            .where(VoucherFragment.holder_id == firm.id))
    page = paginate(db(), mine.where(VoucherFragment.status.in_(list(LIVE))),
                    sort_columns={"matures": Voucher.maturity_date,
                                  "amount": VoucherFragment.amount_fen},
                    search_columns=(Voucher.code,), tiebreak=VoucherFragment.id,
                    **paging_args())
    held = [tuple(r) for r in page.items]
    total = db().execute(select(func.coalesce(func.sum(VoucherFragment.amount_fen), 0)).where(
        VoucherFragment.holder_id == firm.id,
        VoucherFragment.status.in_(list(LIVE)))).scalar_one()
    issuers = {v.issuer_id for _, v in held}
    names = {f.id: f.name for f in db().exec(select(Firm).where(Firm.id.in_(issuers)))} \
        if issuers else {}
    # one entry per voucher, its closed parts behind a disclosure (reader Q12, tenth session)
    past, past_total = history.past_vouchers(session=db(), holder_id=firm.id, limit=50)
    part_words = part_names(db(), [*(id_of(f) for f, _v in held),
                                   *(id_of(p) for group in past for p in group.parts)])
    return render_template("vendor_portal/vouchers.html", held=held, names=names, past=past,
                           past_total=past_total, page=page, total=int(total),
                           part_names=part_words)


def _fragment_or_404(fragment_id: int, firm) -> VoucherFragment:
    fragment = db().get(VoucherFragment, fragment_id)
    if fragment is None or fragment.holder_id != firm.id:
        abort(404)
    return fragment


@bp.get("/vouchers/<int:voucher_id>")
@roles_required("vendor")
def voucher(voucher_id: int):
    firm = own_firm()
    v = vouchers.get_voucher(session=db(), voucher_id=voucher_id, firm_id=firm.id)
    read_here()   # a part received or passed on
    return _voucher_page(v, firm)


def _voucher_page(v: Voucher, firm, forms: dict | None = None, status: int = 200):
    every = vouchers.fragments(session=db(), voucher_id=v.id)
    # its own parts and where they came from, not its customer's holdings (F23)
    seen = visibility.sight(every, viewer_id=firm.id, issuer_id=v.issuer_id)
    frags = [f for f in every if seen.in_full(f.id)]
    mine = [f for f in frags if f.holder_id == firm.id and f.status == FragmentStatus.HELD]
    went = visibility.transfers(every)
    came = {child.id: parent for parent, child in went.items()}
    by_id = {f.id: f for f in every}
    ids = ({f.holder_id for f in frags} | {v.issuer_id} | {c.holder_id for c in went.values()}
           | {by_id[p].holder_id for p in came.values()})
    names = {f.id: f.name for f in db().exec(select(Firm).where(Firm.id.in_(ids)))}
    forms = forms or {}
    choices = _supplier_choices(firm)
    pass_forms, split_forms = {}, {}
    for f in mine:
        pf = forms.get(("pass", f.id)) or PassOnForm(formdata=None, prefix=f"p{f.id}")
        pf.to_firm_id.choices = choices
        pass_forms[f.id] = pf
        split_forms[f.id] = forms.get(("split", f.id)) or SplitForm(formdata=None,
                                                                     prefix=f"s{f.id}")

    # parts a live application already asks for: linked to it, no second application
    claimed = {ident: app.id for (what, ident), app in claims.claimed_documents(
        db(), firm_id=firm.id, as_of=clock.today()).items() if what == "voucher part"}
    events = visibility.visible_events(vouchers.events(session=db(), voucher_id=v.id), seen)
    return render_template("vendor_portal/voucher.html", v=v, claimed=claimed,
                           svg=lineage_svg(v, names.get(firm.id), seen),
                           fragments=frags, names=names, mine=mine, pass_forms=pass_forms,
                           numbers=part_numbers(db(), [id_of(f) for f in every]),
                           went=went, came={c: by_id[p] for c, p in came.items()},
                           face_value=seen.face_value,
                           split_forms=split_forms, finance_form=EmptyForm(),
                           events=events, proofs=event_proofs(events),
                           matured=clock.today() >= v.maturity_date), status


def _gone(fragment: VoucherFragment, firm, exc: TrellisError | None = None):
    """A part no longer held (passed on, split, pledged in another tab), or held for a
    live application: its forms are gone from the page, so the reason is shown above it
    (the core says what happened to the part) on the voucher's page as it stands now,
    answered 409."""
    if exc is None:
        try:
            vouchers.held_fragment(session=db(), fragment_id=id_of(fragment),
                                   holder_id=firm.id, lock=False)
        except TrellisError as found:
            exc = found
    if exc is not None:
        flash(error_text(exc), "error")
    # a refusal, not a success: the voucher's page as it stands, with the reason, and 409
    return _voucher_page(db().get(Voucher, fragment.voucher_id), firm, status=409)


@bp.post("/vouchers/parts/<int:fragment_id>/pass")
@roles_required("vendor")
def pass_on(fragment_id: int):
    firm = own_firm()
    fragment = _fragment_or_404(fragment_id, firm)
    if fragment.status != FragmentStatus.HELD:
        return _gone(fragment, firm)
    voucher_row = db().get(Voucher, fragment.voucher_id)
    form = PassOnForm(prefix=f"p{fragment_id}")
    form.to_firm_id.choices = _supplier_choices(firm)
    if form.validate_on_submit():
        try:
            given, kept = vouchers.pay_supplier(session=db(), holder_id=firm.id,
                                                fragment_id=fragment_id,
                                                to_firm_id=form.to_firm_id.data,
                                                amount_fen=form.amount.fen,
                                                user=current_user_obj())
        except (NotLive, InApplication) as exc:   # used up or asked for meanwhile: no form
            db().rollback()
            return _gone(fragment, firm, exc)
        except TrellisError as exc:
            db().rollback()
            if exc.status == 404:
                abort(404)
            attach_error(form, exc, "amount")
        else:
            audit("voucher.transfer", "voucher", voucher_row.id, fragment_id=fragment_id,
                  to_firm_id=given.holder_id, amount_fen=given.amount_fen)
            commit()
            to = db().get(Firm, given.holder_id)
            numbers = part_numbers(db(), [id_of(p) for p in (given, kept) if p is not None])
            if kept is None:
                flash(_("Passed %(amount)s to %(firm)s: the whole part, now part No. %(n)s.",
                        amount=f"¥{given.amount_fen / 100:,.2f}", firm=to.name,
                        n=numbers[id_of(given)]), "success")
            else:
                flash(_("Passed %(amount)s to %(firm)s as part No. %(n)s; you keep part "
                        "No. %(kept)s, %(rest)s.", amount=f"¥{given.amount_fen / 100:,.2f}",
                        firm=to.name, n=numbers[id_of(given)], kept=numbers[id_of(kept)],
                        rest=f"¥{kept.amount_fen / 100:,.2f}"), "success")
            return redirect(url_for("vendor.voucher", voucher_id=voucher_row.id), code=303)
    return _voucher_page(voucher_row, firm, {("pass", fragment_id): form}, 422)


@bp.post("/vouchers/parts/<int:fragment_id>/split")
@roles_required("vendor")
def split(fragment_id: int):
    firm = own_firm()
    fragment = _fragment_or_404(fragment_id, firm)
    if fragment.status != FragmentStatus.HELD:
        return _gone(fragment, firm)
    voucher_row = db().get(Voucher, fragment.voucher_id)
    form = SplitForm(prefix=f"s{fragment_id}")
    if form.validate_on_submit():
        try:
            parts = vouchers.split(session=db(), holder_id=firm.id, fragment_id=fragment_id,
                                   amounts=form.amounts.fen_list, user=current_user_obj())
        except (NotLive, InApplication) as exc:   # used up or asked for meanwhile: no form
            db().rollback()
            return _gone(fragment, firm, exc)
        except TrellisError as exc:
            db().rollback()
            if exc.status == 404:
                abort(404)
            attach_error(form, exc, "amounts")
        else:
            audit("voucher.split", "voucher", voucher_row.id, fragment_id=fragment_id,
                  parts=[p.amount_fen for p in parts])
            commit()
            # what was split into what, by the numbers the parts table shows (F11)
            numbers = part_numbers(db(), [fragment_id, *(id_of(p) for p in parts)])
            flash(render(msg(N_("Split part No. %(n)s (%(amount)s) into %(parts)s."),
                             n=Ident(numbers[fragment_id]), amount=Money(fragment.amount_fen),
                             parts=[msg(N_("No. %(n)s (%(amount)s)"),
                                        n=Ident(numbers[id_of(p)]), amount=Money(p.amount_fen))
                                    for p in parts])), "success")
            return redirect(url_for("vendor.voucher", voucher_id=voucher_row.id), code=303)
    return _voucher_page(voucher_row, firm, {("split", fragment_id): form}, 422)


def _finance_page(fragment: VoucherFragment, form: FinancePartForm, status: int = 200):
    """The part's financing form: how much (default the most it allows), the terms known
    before an application (advance rate, fee, repaid at the voucher's maturity, who
    decides), and an explicit submit."""
    v = db().get(Voucher, fragment.voucher_id)
    product = product_by_code(db(), financing.PRODUCT_CODE)
    maximum = financing.advance_for(session=db(), fragment=fragment)
    if not form.amount.data and not form.amount.errors:
        form.amount.data = f"{maximum / 100:.2f}"
    return render_template("vendor_portal/finance_part.html", v=v, fragment=fragment,
                           part_label=part_names(db(), [id_of(fragment)])[id_of(fragment)],
                           form=form, maximum=maximum, product=product,
                           issuer=db().get(Firm, v.issuer_id)), status


def _live_application(fragment: VoucherFragment, firm):
    """The live application (in review, or approved with its offer open) on this part."""
    found = claims.live_applications(db(), firm_id=firm.id, fragment_ids=[id_of(fragment)],
                                     as_of=clock.today())
    return found[0][1] if found else None


@bp.get("/vouchers/parts/<int:fragment_id>/finance")
@roles_required("vendor")
def finance_part_form(fragment_id: int):
    firm = own_firm()
    fragment = _fragment_or_404(fragment_id, firm)
    live = _live_application(fragment, firm)
    if live is not None:   # asked for already: that application, not a second one
        return redirect(url_for("vendor.application", application_id=live.id), code=303)
    if fragment.status != FragmentStatus.HELD:
        return _gone(fragment, firm)
    return _finance_page(fragment, FinancePartForm(formdata=None))


@bp.post("/vouchers/parts/<int:fragment_id>/finance")
@roles_required("vendor")
def finance_part(fragment_id: int):
    firm = own_firm()
    fragment = _fragment_or_404(fragment_id, firm)
    form = FinancePartForm()
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return redirect(url_for("vendor.voucher", voucher_id=fragment.voucher_id), code=303)

    if not accounts.has_consent(session=db(), firm_id=firm.id, purpose="trade_data"):
        flash(_("Trellis needs your consent to use your trade records before it can "
                "finance anything."), "warning")
        return redirect(url_for("vendor.consent", next=request.path), code=303)
    amount = None
    if form.amount.data and form.amount.data.strip():
        try:
            amount = parse_yuan(form.amount.data)
        except AmountTooLarge:
            amount = AmountTooLarge.FEN   # the ledger then says the most the part allows
        except WTFValidationError as exc:
            form.amount.errors = [str(exc)]
            return _finance_page(fragment, form, 422)
    try:
        app, _offer = financing.quote(session=db(), holder_id=firm.id,
                                      fragment_id=fragment_id, user=current_user_obj(),
                                      amount_fen=amount)
    except TrellisError as exc:
        # e.g. a second tab filing on a part already in an application: say which
        db().rollback()
        if exc.status == 404:
            abort(404)
        if getattr(exc, "field", None) == "amount_fen":
            form.amount.errors = [error_text(exc)]
            return _finance_page(fragment, form, 422)
        flash(error_text(exc), "error")
        return _voucher_page(db().get(Voucher, fragment.voucher_id), firm,
                             status=exc.status if 400 <= exc.status < 500 else 409)
    audit("voucher.finance_apply", "application", app.id, fragment_id=fragment_id,
          status=app.status, requested_fen=app.requested_fen)
    commit()
    return redirect(url_for("vendor.application", application_id=app.id), code=303)
