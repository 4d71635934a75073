"""Pages of the network area: clusters, the cluster picture, a firm's page, bulk imports
with progress, and batch invitations.

Views stay short: they find what the user may see (an RM sees assigned clusters only),
call :mod:`trellis.network` or :mod:`trellis.onboarding`, and commit once.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from werkzeug.routing import BuildError
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from trellis import clock
from trellis.errors import NotFound, TrellisError
from trellis.ledger import reports as ledger_reports
from trellis.network import build, summary
from trellis.network.firms import monthly_flows
from trellis.onboarding import basis as data_basis
from trellis.onboarding import coverage, files, invitations, runs, templates
from trellis.onboarding.errors import FileTooLarge
from trellis.onboarding.kinds import KINDS
from trellis.onboarding.models import RunStatus
from trellis.platform.errors import translated
from trellis.platform.forms import REQUIRED, EmptyForm
from trellis.platform.i18n import error_text, param_text, render
from trellis.platform.web import (
    audit,
    commit,
    db,
    enqueue,
    firm_visible,
    roles_required,
    settings,
    visible_cluster_ids,
)
from trellis.platform.words import word
from trellis.protection import payout as payout_accounts
from trellis.scoring.models import ScoreRecord
from trellis.scoring.queries import newest_grades
from trellis.scoring.service import consented_firms, indicative_limits
from trellis.trade import clusters as cluster_service
from trellis.trade import industries
from trellis.trade.errors import ClusterNotFound
from trellis.trade.models import Cluster, Firm, Industry

logger = logging.getLogger(__name__)

bp = Blueprint("network", __name__, url_prefix="/network")

VIEWERS = ("admin", "rm", "auditor")
EDITORS = ("admin", "rm")
INLINE_MAX_BYTES = 256 * 1024  # smaller uploads are imported during the request
INLINE_MAX_ELEMENTS = 60_000  # ... unless their XML would take openpyxl over ~2 s


def _kind_choices():
    labels = {"firms": _("Firms"), "relationships": _("Supply relationships"),
              "orders": _("Purchase orders"), "invoices": _("Invoices"),
              "payments": _("Payments"), "deliveries": _("Deliveries"),
              "credit_notes": _("Credit notes and returns"),
              "confirmations": _("Confirmation status (from the anchor's ledger)"),
              "tax_filings": _("Tax filings with their period"),
              "loans": _("Historical loans and outcomes"),
              "utility_readings": _("Monthly electricity, water and gas readings"),
              "headcount": _("Monthly social-insurance headcount")}
    return [(k, labels[k]) for k in templates.IMPORT_ORDER]


class ImportForm(FlaskForm):
    kind = SelectField(validators=[DataRequired(REQUIRED)])
    file = FileField(validators=[FileRequired(REQUIRED)])
    source = StringField(validators=[Optional(), Length(max=120)])


class ClusterForm(FlaskForm):
    code = StringField(validators=[Optional(), Length(max=40)])
    name = StringField(validators=[DataRequired(REQUIRED), Length(max=200)])
    region = StringField(validators=[Optional(), Length(max=120)])
    kind = SelectField(choices=[("industrial_park", "industrial_park"),
                                ("startup_base", "startup_base")])


class BasisForm(FlaskForm):
    party = StringField(validators=[DataRequired(REQUIRED), Length(max=200)])
    reference = StringField(validators=[DataRequired(REQUIRED), Length(max=120)])
    scope = StringField(validators=[Optional(), Length(max=250)])
    valid_from = DateField(validators=[Optional()])
    expires_on = DateField(validators=[DataRequired(REQUIRED)])


def _kind_labels(form: ClusterForm) -> None:
    form.kind.choices = [(kind, word("cluster_kind", kind))
                         for kind in ("industrial_park", "startup_base")]


class InviteForm(FlaskForm):
    valid_days = IntegerField(default=invitations.DEFAULT_VALID_DAYS,
                              validators=[NumberRange(min=1, max=90)])


def cluster_or_404(code: str) -> Cluster:
    """The cluster with *code* if the current user may see it (RMs: assigned ones)."""
    cluster = db().execute(select(Cluster).where(Cluster.code == code)).scalar_one_or_none()
    visible = visible_cluster_ids()
    if cluster is None or (visible is not None and cluster.id not in visible):
        raise ClusterNotFound(_("There is no cluster %(code)s, or it is not assigned to you.",
                                code=code))
    return cluster


def latest_grades(cluster_id: int) -> dict[int, str]:
    """Firm id -> latest risk grade, when the scoring area has results: one row per firm
    (its newest graded record, as :func:`latest_grade` picks it), not every grade the
    cluster ever had (a nightly rescore adds one per firm each day)."""
    try:
        rows = db().execute(newest_grades(cluster_id)).all()
    except Exception:  # the table may not be migrated yet
        logger.warning("no scoring results readable for cluster %s", cluster_id)
        db().rollback()
        return {}
    return {firm_id: grade for firm_id, grade in rows}


def _grade_query(cluster_id: int):
    return select(ScoreRecord.grade).where(ScoreRecord.cluster_id == cluster_id,
                                           ScoreRecord.grade.is_not(None))


def has_grades(cluster_id: int) -> bool:
    """Whether any firm of the cluster has a risk grade (one indexed row, not every grade)."""
    try:
        return db().execute(_grade_query(cluster_id).limit(1)).first() is not None
    except Exception:  # the table may not be migrated yet
        logger.warning("no scoring results readable for cluster %s", cluster_id)
        db().rollback()
        return False


def latest_grade(cluster_id: int, firm_id: int) -> str | None:
    """The firm's latest risk grade in the cluster (what :func:`latest_grades` holds for it),
    by the firm's index instead of every grade of the cluster."""
    try:
        return db().execute(_grade_query(cluster_id).where(ScoreRecord.firm_id == firm_id)
                            .order_by(ScoreRecord.computed_at.desc(), ScoreRecord.id.desc())
                            .limit(1)).scalar()
    except Exception:  # the table may not be migrated yet
        logger.warning("no scoring results readable for cluster %s", cluster_id)
        db().rollback()
        return None


@bp.get("/")
@roles_required(*VIEWERS)
def index():
    visible = visible_cluster_ids()
    q = (select(Cluster, func.count(Firm.id))
         .join(Firm, Firm.cluster_id == Cluster.id, isouter=True)
         .group_by(Cluster.id).order_by(Cluster.name))
    if visible is not None:
        q = q.where(Cluster.id.in_(visible or [-1]))
    if request.args.get("archived") != "1":
        q = q.where(Cluster.archived_at.is_(None))
    rows = db().execute(q).all()
    return render_template("network/index.html", rows=rows,
                           show_archived=request.args.get("archived") == "1")


# --- clusters: create, edit, archive; data basis; coverage -----------------------------------

def _zh() -> bool:
    return str(get_locale() or "zh_CN").startswith("zh")


def _form_errors(exc) -> None:
    flash(translated(exc), "error")


@bp.route("/clusters/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def cluster_new():
    form = ClusterForm()
    _kind_labels(form)
    if form.validate_on_submit():
        try:
            c = cluster_service.create(
                session=db(), code=form.code.data or "", name=form.name.data,
                region=form.region.data or "", kind=form.kind.data,
                manager_id=current_user.id if current_user.role == "rm" else None)
        except TrellisError as exc:
            db().rollback()
            _form_errors(exc)
        else:
            audit("cluster.create", "cluster", c.id, code=c.code, name=c.name,
                  region=c.region, kind=c.kind)
            commit()
            flash(_("Cluster %(code)s created. Record the data basis, then import its data.",
                    code=c.code), "success")
            return redirect(url_for("network.cluster_settings", code=c.code), code=303)
    elif request.method == "POST":
        flash(_("Enter a code and a name."), "error")
    return render_template("network/cluster_new.html", form=form)


@bp.route("/<code>/settings", methods=["GET", "POST"])
@roles_required(*EDITORS)
def cluster_settings(code):
    c = cluster_or_404(code)
    form = ClusterForm(obj=c)
    _kind_labels(form)
    basis_form = BasisForm(prefix="basis")
    if request.method == "POST" and request.form.get("action") == "edit":
        if form.validate_on_submit():
            try:
                changes = cluster_service.edit(session=db(), cluster=c, name=form.name.data,
                                               region=form.region.data or "",
                                               kind=form.kind.data)
            except TrellisError as exc:
                db().rollback()
                _form_errors(exc)
            else:
                if changes:
                    audit("cluster.edit", "cluster", c.id, code=c.code, changes=changes)
                commit()
                flash(_("Saved."), "success")
                return redirect(url_for("network.cluster_settings", code=c.code), code=303)
    elif request.method == "POST" and request.form.get("action") == "basis":
        if basis_form.validate_on_submit():
            try:
                b = data_basis.record(
                    session=db(), cluster_id=c.id, party=basis_form.party.data,
                    reference=basis_form.reference.data, scope=basis_form.scope.data or "",
                    valid_from=basis_form.valid_from.data,
                    expires_on=basis_form.expires_on.data, recorded_by_id=current_user.id)
            except TrellisError as exc:
                db().rollback()
                _form_errors(exc)
            else:
                audit("cluster.data_basis", "data_basis", b.id, cluster=c.code, party=b.party,
                      reference=b.reference, scope=b.scope,
                      valid_from=b.valid_from.isoformat(), expires_on=b.expires_on.isoformat())
                commit()
                flash(_("Data basis recorded: the cluster's firms may now be pre-assessed."),
                      "success")
                return redirect(url_for("network.cluster_settings", code=c.code), code=303)
        else:
            flash(_("Enter the party, the agreement's reference and its expiry date."),
                  "error")
    return render_template("network/cluster_settings.html", cluster=c, form=form,
                           basis_form=basis_form, action_form=EmptyForm(),
                           bases=data_basis.listing(session=db(), cluster_id=c.id),
                           current_basis=data_basis.current(session=db(), cluster_id=c.id),
                           coverage=coverage.cluster_coverage(session=db(), cluster_id=c.id),
                           today=clock.today(), zh=_zh())


@bp.post("/<code>/archive")
@roles_required(*EDITORS)
def cluster_archive(code):
    c = cluster_or_404(code)
    if not EmptyForm().validate_on_submit():
        raise NotFound(_("The form expired; reload the page."))
    if request.form.get("restore") == "1":
        cluster_service.restore(session=db(), cluster=c)
        audit("cluster.restore", "cluster", c.id, code=c.code)
        flash(_("Cluster %(code)s restored.", code=c.code), "success")
    else:
        cluster_service.archive(session=db(), cluster=c)
        audit("cluster.archive", "cluster", c.id, code=c.code)
        flash(_("Cluster %(code)s archived.", code=c.code), "success")
    commit()
    return redirect(url_for("network.cluster_settings", code=c.code), code=303)


@bp.post("/<code>/bases/<int:basis_id>/revoke")
@roles_required(*EDITORS)
def basis_revoke(code, basis_id):
    c = cluster_or_404(code)
    if not EmptyForm().validate_on_submit():
        raise NotFound(_("The form expired; reload the page."))
    b = data_basis.revoke(session=db(), basis_id=basis_id, cluster_id=c.id)
    audit("cluster.data_basis_revoke", "data_basis", b.id, cluster=c.code)
    commit()
    flash(_("Data basis revoked: pre-assessment under it stops."), "success")
    return redirect(url_for("network.cluster_settings", code=c.code), code=303)


# --- self-registrations -------------------------------------------------------------------

def _pending_firms() -> list:
    q = select(Firm, Cluster).join(Cluster, Cluster.id == Firm.cluster_id).where(
        Firm.registration == "pending").order_by(Firm.created_at)
    visible = visible_cluster_ids()
    if visible is not None:
        q = q.where(Firm.cluster_id.in_(visible or [-1]))
    return list(db().execute(q).all())


@bp.get("/registrations")
@roles_required(*EDITORS)
def registrations():
    return render_template("network/registrations.html", rows=_pending_firms(),
                           form=EmptyForm())


@bp.post("/firms/<int:firm_id>/approve")
@roles_required(*EDITORS)
def approve_registration(firm_id):
    f = db().get(Firm, firm_id)
    if f is None or not firm_visible(firm_id) or f.registration != "pending":
        raise NotFound(_("That firm does not exist or is not in your clusters."))
    if EmptyForm().validate_on_submit():
        f.registration = "approved"
        db().add(f)
        audit("firm.registration_approved", "firm", f.id)
        commit()
        flash(_("%(name)s may now record invoices and orders.", name=f.name), "success")
    return redirect(url_for("network.registrations"), code=303)


@bp.get("/<code>")
@roles_required(*VIEWERS)
def cluster(code):
    c = cluster_or_404(code)
    G = build.cluster_graph(session=db(), cluster_id=c.id)
    stats = summary.stats(G)
    tiers = sorted({int(t) for t in stats["tiers"]}, reverse=True)
    return render_template("network/cluster.html", cluster=c, stats=stats,
                           industries=summary.industries(G), tiers=tiers,
                           has_grades=has_grades(c.id),
                           firm_count=G.number_of_nodes(),
                           window_start=build.default_window_start(G.graph["as_of"])
                           + timedelta(days=1), window_end=G.graph["as_of"])


@bp.get("/<code>/elements.json")
@roles_required(*VIEWERS)
def elements(code):
    c = cluster_or_404(code)
    G = build.cluster_graph(session=db(), cluster_id=c.id)
    return jsonify({"elements": summary.elements(G, grades=latest_grades(c.id)),
                    "data_version": G.graph.get("data_version")})


@bp.get("/<code>/stats.json")
@roles_required(*VIEWERS)
def stats_json(code):
    c = cluster_or_404(code)
    return jsonify(summary.stats(build.cluster_graph(session=db(), cluster_id=c.id)))


@bp.get("/firms/<int:firm_id>")
@roles_required(*VIEWERS)
def firm(firm_id):
    f = db().get(Firm, firm_id)
    if f is None or not firm_visible(firm_id) or f.cluster_id is None:
        raise NotFound(_("That firm does not exist or is not in your clusters."))
    c = db().get(Cluster, f.cluster_id)
    G = build.cluster_graph(session=db(), cluster_id=c.id)
    hood = summary.neighbourhood(G, firm_id)
    return render_template("network/firm.html", firm=f, cluster=c, hood=hood,
                           bank_account=payout_accounts.masked(f.bank_account),
                           grade=latest_grade(c.id, firm_id),
                           coverage=coverage.firm_coverage(session=db(), firm_id=firm_id),
                           hood_as_of=G.graph.get("as_of"), zh=_zh())


@bp.get("/firms/<int:firm_id>/monthly.json")
@roles_required(*VIEWERS)
def firm_monthly(firm_id):
    if not firm_visible(firm_id):
        raise NotFound(_("That firm does not exist or is not in your clusters."))
    return jsonify({"months": monthly_flows(session=db(), firm_id=firm_id)})


# --- imports ------------------------------------------------------------------------------

@bp.route("/<code>/import", methods=["GET", "POST"])
@roles_required(*EDITORS)
def import_page(code):
    c = cluster_or_404(code)
    form = ImportForm()
    form.kind.choices = _kind_choices()
    if request.method == "POST":
        limit = settings().upload_max_bytes
        if request.content_length and request.content_length > limit:
            raise FileTooLarge(_("The file is too large: the limit is %(mb).1f MB. Split it "
                                 "into smaller files.", mb=limit / 1_048_576))
        if form.validate_on_submit():
            data = form.file.data.read()
            run = runs.create_run(session=db(), cluster_id=c.id, kind=form.kind.data,
                                  filename=form.file.data.filename or "upload",
                                  data=data, max_bytes=limit, created_by_id=current_user.id,
                                  source=form.source.data or "", hold_for_mapping=True)
            audit("network.import", "import_run", run.id, cluster=c.code, kind=run.kind,
                  filename=run.filename, size_bytes=run.size_bytes, source=run.source)
            if runs.needs_mapping(session=db(), run=run):
                commit()
                return redirect(url_for("network.import_mapping", run_id=run.id), code=303)
            proposal = runs.proposal_for(session=db(), run=run)[2]
            runs.confirm_mapping(session=db(), run=run, mapping=proposal.fields)
            commit()
            return _start(run, len(data), data)
        flash(_("Choose a kind and a CSV or XLSX file."), "error")
    recent = runs.recent_runs(session=db(), cluster_id=c.id)
    return render_template("network/import.html", cluster=c, form=form, recent=recent,
                           kinds=_kind_choices(),
                           limit_mb=settings().upload_max_bytes / 1_048_576)


def _start(run, size: int, data: bytes = b""):
    """Import a small file at once; a larger one is a task (a worker imports it and the
    page shows its progress). Commits."""
    inline = current_app.config.get("NETWORK_IMPORT_INLINE_MAX_BYTES", INLINE_MAX_BYTES)
    if files.markup_counts(data, INLINE_MAX_ELEMENTS)[0] > INLINE_MAX_ELEMENTS:
        size = inline + 1   # small but slow to parse (about 30 us an XML element)
    if size > inline:
        enqueue("import_run", run_id=run.id)
    commit()
    if size <= inline:
        done = runs.execute_run(session_factory=current_app.extensions["trellis.sessions"],
                                run_id=run.id, max_seconds=settings().import_max_seconds)
        _flash_outcome(done)
    return redirect(url_for("network.import_run", run_id=run.id), code=303)


@bp.route("/imports/<int:run_id>/mapping", methods=["GET", "POST"])
@roles_required(*EDITORS)
def import_mapping(run_id):
    """Trellis proposes which file column feeds which field; the RM confirms or edits."""
    run = _visible_run(run_id)
    c = db().get(Cluster, run.cluster_id)
    if run.status != RunStatus.MAPPING:
        return redirect(url_for("network.import_run", run_id=run.id), code=303)
    header, samples, proposal = runs.proposal_for(session=db(), run=run)
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        chosen = {h: request.form.get(f"col-{i}", "") for i, h in enumerate(header) if h}
        try:
            runs.confirm_mapping(session=db(), run=run, mapping=chosen,
                                 save=request.form.get("save") == "1", user_id=current_user.id)
        except TrellisError as exc:
            db().rollback()
            _form_errors(exc)
            proposal.fields.update(chosen)
        else:
            audit("network.import_mapping", "import_run", run.id, cluster=c.code,
                  source=run.source, mapping=run.mapping,
                  saved=request.form.get("save") == "1")
            commit()
            return _start(run, run.size_bytes, runs.content_of(session=db(), run=run))
    kind = KINDS[run.kind]
    return render_template("network/import_mapping.html", run=run, cluster=c, form=form,
                           header=list(enumerate(header)), samples=samples,
                           proposal=proposal, fields=kind.columns,
                           kind_label=dict(_kind_choices()).get(run.kind, run.kind))


@bp.post("/imports/<int:run_id>/withdraw")
@roles_required(*EDITORS)
def import_withdraw(run_id):
    """A file uploaded by mistake, still waiting for its mapping, is withdrawn: nothing was
    written and it leaves the waiting list."""
    run = _visible_run(run_id)
    c = db().get(Cluster, run.cluster_id)
    if not EmptyForm().validate_on_submit():
        flash(_("The form expired or was incomplete; try again."), "error")
        return redirect(url_for("network.import_mapping", run_id=run.id), code=303)
    try:
        runs.withdraw(session=db(), run=run)
    except TrellisError as exc:
        db().rollback()
        flash(error_text(exc), "error")
        return redirect(url_for("network.import_run", run_id=run.id), code=303)
    audit("network.import_withdraw", "import_run", run.id, cluster=c.code, file=run.filename)
    commit()
    flash(_("Import %(id)s withdrawn: nothing was written.", id=run.id), "info")
    return redirect(url_for("network.import_page", code=c.code), code=303)


def _flash_outcome(run) -> None:
    if run.status == RunStatus.SUCCEEDED:
        flash(_("Imported: %(created)d new, %(updated)d updated, %(unchanged)d unchanged.",
                created=run.created, updated=run.updated, unchanged=run.unchanged), "success")
    else:
        flash(render(run.message), "error")


def _visible_run(run_id: int):
    return runs.get_run(session=db(), run_id=run_id, cluster_ids=visible_cluster_ids())


@bp.get("/imports/<int:run_id>")
@roles_required(*EDITORS)
def import_run(run_id):
    run = _visible_run(run_id)
    c = db().get(Cluster, run.cluster_id)
    return render_template("network/import_run.html", run=run, cluster=c,
                           state=_progress(run))


def _progress(run) -> dict:
    state = runs.progress_of(run)
    state["message"] = render(state["message"])
    return state


@bp.get("/imports/<int:run_id>.json")
@roles_required(*EDITORS)
def import_run_json(run_id):
    return jsonify(_progress(_visible_run(run_id)))


@bp.get("/imports/<int:run_id>/errors.csv")
@roles_required(*EDITORS)
def import_errors(run_id):
    run = _visible_run(run_id)
    body = runs.error_report_csv(
        session=db(), run_id=run.id, render=render, column=param_text,
        header=(_("row"), _("column"), _("value"), _("problem")))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="import-{run.id}-errors.csv"'})


@bp.get("/templates/<kind>.<fmt>")
@roles_required(*EDITORS)
def template(kind, fmt):
    if kind not in KINDS or fmt not in ("csv", "xlsx"):
        raise NotFound(_("There is no such template."))
    lang = "en" if request.args.get("lang") == "en" else "zh"
    if fmt == "csv":
        body, mime = templates.template_csv(kind, lang), "text/csv"
    else:
        body = templates.template_xlsx(kind, lang)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mime, headers={
        "Content-Disposition": f'attachment; filename="{templates.filename(kind, fmt)}"'})


# --- invitations --------------------------------------------------------------------------

def _registration_url() -> str:
    # The vendor registration page (trellis.platform.vendor_portal.register) reads ?code=.
    for endpoint in ("register.invite", "register.start"):
        try:
            return url_for(endpoint, _external=True)
        except BuildError:
            continue
    return request.url_root.rstrip("/") + "/register/invite"


@bp.route("/<code>/invitations", methods=["GET", "POST"])
@roles_required(*EDITORS)
def invitations_page(code):
    c = cluster_or_404(code)
    form = InviteForm()
    with_limits = request.args.get("limits") == "1"  # scoring takes ~0.1 s a vendor

    # a firm with a loan or an application has an account, login or not
    found = invitations.candidates(session=db(), cluster_id=c.id,
                                   limits=indicative_limits if with_limits else None,
                                   customers=ledger_reports.borrowers)
    if form.validate_on_submit():
        chosen = {int(x) for x in request.form.getlist("firm_id") if x.isdigit()}
        by_id = {cand.firm_id: cand for cand in found}
        issued = invitations.issue(
            session=db(), cluster_id=c.id, firm_ids=chosen, secret=settings().secret_key,
            created_by_id=current_user.id, valid_days=form.valid_days.data,
            limits={i: by_id[i].indicative_limit_fen for i in chosen if i in by_id},
            confirmed={i: by_id[i].confirmed_fen for i in chosen if i in by_id})
        batch = issued[0].invitation.batch
        audit("network.invite", "cluster", c.id, batch=batch, count=len(issued))
        commit()
        flash(_("%(n)d invitations created.", n=len(issued)), "success")
        return redirect(url_for("network.invitation_batch", code=c.code, batch=batch),
                        code=303)
    # on what basis a figure may be given (reader 10, R6: limits beside "未授权的企业不会被
    # 评分" read as firms scored without one): each firm's own consent, else the park's basis
    consented = consented_firms(session=db(), firm_ids=[cand.firm_id for cand in found])
    current_basis = data_basis.current(session=db(), cluster_id=c.id)
    return render_template("network/invitations.html", cluster=c, candidates=found,
                           form=form, with_limits=with_limits, consented=consented,
                           park_basis=current_basis is not None, current_basis=current_basis,
                           consents=invitations.consent_states(
                               session=db(), firm_ids=[cand.firm_id for cand in found]),
                           batches=invitations.batches(session=db(), cluster_id=c.id))


def _batch_rows(c: Cluster, batch: str) -> list[dict]:
    data = invitations.export_csv(session=db(), cluster_id=c.id, batch=batch,
                                  secret=settings().secret_key, base_url=_registration_url())
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


@bp.get("/<code>/invitations/<batch>")
@roles_required(*EDITORS)
def invitation_batch(code, batch):
    c = cluster_or_404(code)
    info = next((b for b in invitations.batches(session=db(), cluster_id=c.id)
                 if b["batch"] == batch), None)
    if info is None:
        raise NotFound(_("There is no such invitation batch."))
    return render_template("network/invitation_batch.html", cluster=c, batch=info,
                           rows=_batch_rows(c, batch), form=EmptyForm(),
                           current_basis=data_basis.current(session=db(), cluster_id=c.id))


@bp.get("/<code>/invitations/<batch>.csv")
@roles_required(*EDITORS)
def invitation_csv(code, batch):
    c = cluster_or_404(code)
    # the header in the reader's words, as the other exports (the chain audit's report)
    headers = {"firm": _("Firm"), "uscc": _("Unified social credit code"),
               "phone": _("Phone"), "code": _("Invitation code"),
               "link": _("Registration link"), "expires_at": _("Expires (Beijing time, UTC+8)"),
               "message": _("Message to send")}
    body = invitations.export_csv(session=db(), cluster_id=c.id, batch=batch,
                                  secret=settings().secret_key, base_url=_registration_url(),
                                  headers=headers)
    audit("network.invite_export", "cluster", c.id, batch=batch)
    commit()
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="invitations-{c.code}-{batch}.csv"'})


def industry_label(value: str) -> str:
    labels = {Industry.CONSTRUCTION: _("Construction"),
              Industry.MANUFACTURING: _("Manufacturing"),
              Industry.WHOLESALE_RETAIL: _("Wholesale and retail"),
              Industry.TRANSPORT_LOGISTICS: _("Transport and logistics"),
              Industry.OTHER: _("Other")}
    return labels.get(value, value or "")


@bp.app_template_filter("industry")
def _industry_filter(value):
    return industry_label(value)


@bp.app_template_filter("industry_division")
def _industry_division_filter(code):
    """A GB/T 4754 code as its code and official Chinese name (36 汽车制造业); "—" blank."""
    return industries.label(code) or "—"


def run_status_label(value: str) -> str:
    labels = {"mapping": _("waiting for the column mapping"),
              "queued": _("queued"), "running": _("running"), "succeeded": _("imported"),
              "refused": _("refused"), "failed": _("failed"), "validating": _("checking"),
              "writing": _("writing"), "done": _("done"), "reading": _("reading")}
    return labels.get(str(value), str(value or ""))


@bp.app_template_filter("run_status")
def _run_status_filter(value):
    return run_status_label(value)


@bp.app_template_filter("tier_label")
def tier_label(value) -> str:
    """A tier as people read it (one set of words for the network and scoring pages): the
    anchor, an n-th tier supplier, a buyer downstream of an anchor (a negative tier), or a
    firm with no supply path to or from any anchor (no tier)."""
    if value is None or value != value:   # None or NaN
        return _("not connected to an anchor")
    value = int(value)
    if value == 0:
        return _("anchor")
    if value > 0:
        return _("tier %(n)d supplier", n=value)
    return _("tier %(n)d buyer (downstream of an anchor)", n=-value)
