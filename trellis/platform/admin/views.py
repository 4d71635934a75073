"""Administration: users, API tokens, the audit trail and the job scheduler."""

from __future__ import annotations

import json
import re
from collections import Counter

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import String, and_, cast, func, or_
from sqlmodel import col, select

from trellis import jobs as job_registry
from trellis import tasks
from trellis.accounts import mfa
from trellis.accounts import services as accounts
from trellis.accounts.models import ApiToken, AuditEvent, User
from trellis.errors import NotFound, ValidationError
from trellis.paging import paginate
from trellis.platform.admin import words
from trellis.platform.forms import AssignForm, EmptyForm, TokenForm, UserForm
from trellis.platform.i18n import error_text
from trellis.platform.paging import args as paging_args
from trellis.platform.web import audit, commit, db, enqueue, roles_required, settings
from trellis.tasks import registry as task_registry
from trellis.trade import firms
from trellis.trade.models import Cluster, ClusterManager, Firm

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE = 50


def _firm_by_uscc(code: str, field: str) -> Firm:
    try:
        return firms.by_uscc(session=db(), code=code, field=field)
    except NotFound:  # a form field's problem, not a missing page
        raise ValidationError(_("No firm with USCC %(code)s.", code=code.strip().upper()),
                              field=field) from None


@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users():
    form = UserForm()
    status = 200
    if form.validate_on_submit():
        try:
            firm_id = None
            if form.firm_uscc.data:
                firm_id = _firm_by_uscc(form.firm_uscc.data, "firm_uscc").id
            user = accounts.create_user(session=db(), email=form.email.data,
                                        password=form.password.data, role=form.role.data,
                                        firm_id=firm_id, name=form.name.data or "",
                                        created_by_id=current_user.id)
        except ValidationError as exc:
            # the core names its own field ("firm"); the form's box for it is firm_uscc
            field = {"firm": "firm_uscc"}.get(exc.field or "", exc.field)
            target = getattr(form, field if field in form else "email")
            target.errors.append(error_text(exc))
            db().rollback()
            status = 422
        except Exception as exc:  # EmailTaken and friends carry a message
            if not hasattr(exc, "message"):
                raise
            form.email.errors.append(error_text(exc))
            db().rollback()
            status = 409
        else:
            audit("user.create", "user", user.id, role=user.role, email=user.email)
            commit()
            flash(_("User %(email)s created.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    elif request.method == "POST":
        status = 422
    page = paginate(db(), select(User), sort_columns={"id": User.id, "email": User.email,
                                                      "role": User.role,
                                                      "login": User.last_login_at},
                    search_columns=(User.email, User.name), tiebreak=User.id,
                    **paging_args())
    rows = [r[0] for r in page.items]
    firms = {f.id: f.name for f in db().exec(select(Firm).where(
        Firm.id.in_({u.firm_id for u in rows if u.firm_id is not None})))}
    return render_template("admin/users.html", users=rows, page=page, form=form, firms=firms,
                           roles=_role_words(), signout_form=EmptyForm()), status


def _role_words() -> dict:
    return {"admin": _("Administrator"), "rm": _("Relationship manager"),
            "vendor": _("Vendor"), "anchor": _("Anchor firm"), "auditor": _("Auditor")}


@bp.post("/users/<int:user_id>/mfa-reset")
@roles_required("admin")
def reset_mfa(user_id: int):
    """For a lost phone: the user enrols again at the next login (and is signed out)."""
    if EmptyForm().validate_on_submit():
        user = db().get(User, user_id)
        if user is None:
            raise NotFound(_("That page or record does not exist."))
        mfa.disable(session=db(), user=user)
        accounts.end_sessions(session=db(), user=user)
        audit("user.mfa_reset", "user", user.id)
        commit()
        flash(_("The second factor of %(email)s was reset; they set it up again at their "
                "next login.", email=user.email), "success")
    return redirect(url_for("admin.users"), code=303)


@bp.post("/users/<int:user_id>/sign-out")
@roles_required("admin")
def sign_out_everywhere(user_id: int):
    if EmptyForm().validate_on_submit():
        user = db().get(User, user_id)
        if user is None:
            raise NotFound(_("That page or record does not exist."))
        accounts.end_sessions(session=db(), user=user)
        audit("user.sign_out_everywhere", "user", user.id)
        commit()
        flash(_("Every session of %(email)s has ended.", email=user.email), "success")
    return redirect(url_for("admin.users"), code=303)


@bp.route("/tokens", methods=["GET", "POST"])
@roles_required("admin")
def tokens():
    form = TokenForm()
    secret = None
    status = 200
    if form.validate_on_submit():
        try:
            firm = _firm_by_uscc(form.firm_uscc.data, "firm_uscc")
        except ValidationError as exc:
            form.firm_uscc.errors.append(error_text(exc))
            status = 422
        else:
            token, secret = accounts.issue_api_token(session=db(), firm_id=firm.id,
                                                     name=form.name.data, created_by=current_user)
            audit("api_token.issue", "api_token", token.id, firm_id=firm.id)
            commit()
    elif request.method == "POST":
        status = 422
    rows = db().exec(select(ApiToken, Firm).join(Firm, Firm.id == ApiToken.firm_id)
                     .order_by(ApiToken.id.desc())).all()
    return render_template("admin/tokens.html", tokens=rows, form=form, secret=secret,
                           revoke_form=EmptyForm()), status


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required("admin")
def revoke_token(token_id: int):
    if EmptyForm().validate_on_submit():
        accounts.revoke_api_token(session=db(), token_id=token_id)
        audit("api_token.revoke", "api_token", token_id)
        commit()
        flash(_("Token revoked."), "success")
    return redirect(url_for("admin.tokens"))


@bp.get("/audit")
@roles_required("admin", "auditor")
def audit_trail():
    q = select(AuditEvent)
    record_type = request.args.get("record_type", "").strip()
    if record_type:   # every code read with the same words: "申请" is two codes, one choice
        q = q.where(AuditEvent.record_type.in_(words.same_record_type(record_type)))
    wanted = paging_args()
    text = str(wanted.pop("q") or "").strip()[:100]
    if text:   # what the row shows: who, the action's words, the record as read
        q = q.where(_matches(text))
    if not wanted["sort"]:
        wanted["desc"] = "1"   # newest first unless the reader sorts
    page = paginate(db(), q, sort_columns={"time": AuditEvent.id, "who": AuditEvent.actor_label,
                                           "action": AuditEvent.action},
                    tiebreak=AuditEvent.id, **wanted)
    page.q = text
    events = [row[0] for row in page.items]
    return render_template("admin/audit.html", events=events, page=page,
                           record_type=record_type, words=words,
                           names=record_names(events),
                           record_types=words.record_type_choices())


#: "申请：2", "申请 2", "申请2": a record type in words and its number
_RECORD_AND_NUMBER = re.compile(r"^(.*?)[\s:：#号第]*(\d+)$")


def _matches(text: str):
    """The audit trail's search: the condition matching what a row shows. Who (the e-mail
    or the person's name), the action in words or as a code, the record's number, the
    record as read ("申请：2", "申请 2") and the record's name (a firm's name finds the
    firm and its invoices, orders, applications and loans)."""
    from trellis.ledger.models import Application, Loan
    from trellis.trade.models import Invoice, PurchaseOrder

    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    codes = [code for code, w in words.ACTIONS.items() if text.lower() in str(w).lower()]
    people = select(User.email).where(col(User.name).ilike(like, escape="\\"))
    conds = [AuditEvent.actor_label.ilike(like, escape="\\"),
             col(AuditEvent.actor_label).in_(people),
             AuditEvent.record_id == text, AuditEvent.action.in_(codes),
             AuditEvent.action == text]
    found = _RECORD_AND_NUMBER.match(text)
    if found and found.group(1).strip():
        label = found.group(1).strip().lower()
        types = [c for c, w in words.RECORD_TYPES.items()
                 if str(w).lower() == label or c == label]
        if types:
            conds.append(and_(col(AuditEvent.record_type).in_(types),
                              AuditEvent.record_id == str(int(found.group(2)))))
    firms_named = select(Firm.id).where(col(Firm.name).ilike(like, escape="\\"))

    def named(types: tuple[str, ...], ids):
        return and_(col(AuditEvent.record_type).in_(types), col(AuditEvent.record_id).in_(ids))

    conds += [
        named(("firm",), select(cast(Firm.id, String)).where(col(Firm.id).in_(firms_named))),
        named(("user",), select(cast(User.id, String))
              .where(or_(col(User.name).ilike(like, escape="\\"),
                         col(User.email).ilike(like, escape="\\")))),
        named(("invoice",), select(cast(Invoice.id, String))
              .where(or_(col(Invoice.seller_id).in_(firms_named),
                         col(Invoice.number).ilike(like, escape="\\")))),
        named(("order",), select(cast(PurchaseOrder.id, String))
              .where(or_(col(PurchaseOrder.seller_id).in_(firms_named),
                         col(PurchaseOrder.number).ilike(like, escape="\\")))),
        named(("loan",), select(cast(Loan.id, String))
              .where(col(Loan.firm_id).in_(firms_named))),
        named(("application", "loan_application"), select(cast(Application.id, String))
              .where(col(Application.firm_id).in_(firms_named))),
    ]
    return or_(*conds)


def _ids(events, *types: str) -> list[int]:
    return sorted({int(e.record_id) for e in events
                   if e.record_type in types and str(e.record_id or "").isdigit()})


def record_names(events) -> dict[tuple[str, str], str]:
    """(record type, record id) -> what the record is, for the events on a page of the
    audit trail: a firm's or a cluster's name, a user's e-mail, an invoice's or an order's
    number with its seller, a loan or an application with its borrower. One query a
    kind; a record since removed keeps its number."""
    from trellis.ledger.models import Application, Loan
    from trellis.trade.models import Invoice, PurchaseOrder

    out: dict[tuple[str, str], str] = {}
    s = db()

    def put(types, rows):
        for rid, name in rows:
            for t in types:
                out[(t, str(rid))] = str(name)

    if ids := _ids(events, "firm"):
        put(("firm",), s.execute(select(Firm.id, Firm.name).where(col(Firm.id).in_(ids))).all())
    if ids := _ids(events, "cluster"):
        put(("cluster",), s.execute(select(Cluster.id, Cluster.name)
                                    .where(col(Cluster.id).in_(ids))).all())
    if ids := _ids(events, "user"):
        put(("user",), s.execute(select(User.id, User.email).where(col(User.id).in_(ids))).all())
    if ids := _ids(events, "invoice"):
        put(("invoice",), ((i, _("No. %(number)s, %(firm)s", number=n, firm=f))
                           for i, n, f in s.execute(
            select(Invoice.id, Invoice.number, Firm.name)
            .join(Firm, col(Firm.id) == col(Invoice.seller_id))
            .where(col(Invoice.id).in_(ids))).all()))
    if ids := _ids(events, "order"):
        put(("order",), ((i, _("No. %(number)s, %(firm)s", number=n, firm=f))
                         for i, n, f in s.execute(
            select(PurchaseOrder.id, PurchaseOrder.number, Firm.name)
            .join(Firm, col(Firm.id) == col(PurchaseOrder.seller_id))
            .where(col(PurchaseOrder.id).in_(ids))).all()))
    if ids := _ids(events, "loan"):
        put(("loan",), ((i, _("No. %(number)s, %(firm)s", number=i, firm=f))
                        for i, f in s.execute(
            select(Loan.id, Firm.name).join(Firm, col(Firm.id) == col(Loan.firm_id))
            .where(col(Loan.id).in_(ids))).all()))
    if ids := _ids(events, "application", "loan_application"):
        put(("application", "loan_application"),
            ((i, _("No. %(number)s, %(firm)s", number=i, firm=f)) for i, f in s.execute(
                select(Application.id, Firm.name)
                .join(Firm, col(Firm.id) == col(Application.firm_id))
                .where(col(Application.id).in_(ids))).all()))
    return out


def task_words(run) -> str:
    """A background task in words: what it does (its arguments are shown beside)."""
    try:
        return _(task_registry.find(run.name).description)
    except KeyError:
        return _("Other task")


@bp.get("/jobs")
@roles_required("admin")
def jobs():
    session = db()
    # The runs' whole history, newest first, a page at a time with its count.
    run_page = paginate(session, select(job_registry.JobRun).order_by(
        col(job_registry.JobRun.id).desc()), sort_columns={}, **paging_args())
    runs = [row[0] for row in run_page.items]
    task_total = session.exec(select(func.count()).select_from(tasks.TaskRun)).one()
    latest = select(func.max(job_registry.JobRun.id)).group_by(job_registry.JobRun.job_id)
    last = {r.job_id: r for r in session.exec(select(job_registry.JobRun).where(
        job_registry.JobRun.id.in_(latest)))}
    task_runs = session.exec(select(tasks.TaskRun).order_by(tasks.TaskRun.created_at.desc())
                             .limit(30)).all()
    firm_ids = set()
    for t in task_runs:
        try:
            firm_id = json.loads(t.kwargs or "{}").get("firm_id")
        except (ValueError, AttributeError):
            continue
        if isinstance(firm_id, int):
            firm_ids.add(firm_id)
    firm_names = dict(session.exec(select(Firm.id, Firm.name).where(Firm.id.in_(firm_ids)))
                      .all()) if firm_ids else {}
    scheduler = current_app.extensions.get("trellis.scheduler")
    return render_template("admin/jobs.html", jobs=job_registry.JOBS, runs=runs, last=last,
                           task_runs=task_runs, task_total=task_total, run_page=run_page,
                           scheduler_mode=settings().scheduler,
                           task_words=task_words, firm_names=firm_names, words=words,
                           scheduler=scheduler, form=EmptyForm())


@bp.post("/jobs/<job_id>/run")
@roles_required("admin")
def run_job(job_id: str):
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("admin.jobs"))
    try:
        spec = job_registry.find(job_id)
    except KeyError:
        flash(_("No such job."), "error")
        return redirect(url_for("admin.jobs"))
    audit("job.run", "job", job_id)
    # Jobs may wait on the chain; no request does: a worker runs it.
    enqueue("run_job", job_id=spec.id)
    commit()
    flash(_("Job %(job)s queued; a worker runs it and its outcome appears below.",
            job=words.job_name(spec.id)), "success")
    return redirect(url_for("admin.jobs"))


@bp.route("/clusters", methods=["GET", "POST"])
@roles_required("admin")
def clusters():
    """Which relationship managers look after which clusters."""
    session = db()
    form = AssignForm()
    all_clusters = session.exec(select(Cluster).order_by(Cluster.name)).all()
    rms = session.exec(select(User).where(User.role == "rm", User.is_active)
                       .order_by(User.email)).all()
    # the name a person reads; the code only to tell two clusters of one name apart
    names = Counter(c.name for c in all_clusters)
    form.cluster_id.choices = [(c.id, c.name if names[c.name] == 1
                                else f"{c.name} · {_('Code')} {c.code}") for c in all_clusters]
    form.user_id.choices = [(u.id, u.email) for u in rms]
    status = 200
    if form.validate_on_submit():
        key = (form.cluster_id.data, form.user_id.data)
        if session.get(ClusterManager, key) is None:
            session.add(ClusterManager(cluster_id=key[0], user_id=key[1]))
            audit("cluster.assign_rm", "cluster", key[0], user_id=key[1])
            commit()
            flash(_("Assigned."), "success")
        else:
            flash(_("That relationship manager already looks after this cluster."), "info")
        return redirect(url_for("admin.clusters"))
    elif request.method == "POST":
        status = 422
    assigned = session.exec(select(ClusterManager, User).join(
        User, User.id == ClusterManager.user_id)).all()
    by_cluster: dict[int, list[User]] = {}
    for link, user in assigned:
        by_cluster.setdefault(link.cluster_id, []).append(user)
    return render_template("admin/clusters.html", clusters=all_clusters, by_cluster=by_cluster,
                           form=form, remove_form=EmptyForm()), status


@bp.post("/clusters/<int:cluster_id>/managers/<int:user_id>/remove")
@roles_required("admin")
def unassign(cluster_id: int, user_id: int):
    if EmptyForm().validate_on_submit():
        link = db().get(ClusterManager, (cluster_id, user_id))
        if link is None:
            raise NotFound(_("That assignment does not exist."))
        db().delete(link)
        audit("cluster.unassign_rm", "cluster", cluster_id, user_id=user_id)
        commit()
        flash(_("Removed."), "success")
    return redirect(url_for("admin.clusters"))
