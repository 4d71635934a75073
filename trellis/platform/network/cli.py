"""Commands of the network area: ``trellis import``, ``trellis clusters``
(list, create, edit, archive, restore, basis, coverage), ``trellis invitations
candidates``, ``trellis graph stats``.

Heavy modules (the graph, the importer, scoring) are imported inside the commands that
use them, so ``trellis clusters list`` starts fast.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from trellis.errors import TrellisError
from trellis.onboarding import basis, coverage
from trellis.onboarding import mapping as colmap
from trellis.onboarding.kindnames import KIND_NAMES
from trellis.onboarding.models import RunStatus
from trellis.platform.cli import said, with_bare_appcontext
from trellis.platform.web import commit, db, settings
from trellis.scoring.models import ScoreRecord
from trellis.trade import clusters, firms
from trellis.trade.errors import ClusterNotFound
from trellis.trade.models import Cluster, Firm


def _cluster(ref: str):
    q = select(Cluster).where(Cluster.code == ref)
    cluster = db().execute(q).scalar_one_or_none()
    if cluster is None and ref.isdigit():
        cluster = db().get(Cluster, int(ref))
    if cluster is None:
        raise click.ClickException(f"no cluster {ref!r}; see `trellis clusters list`")
    return cluster


def _date(_ctx, _param, value):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD") from None


@click.command("import")
@click.argument("cluster")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", required=True, type=click.Choice(KIND_NAMES),
              help="What the file holds.")
@click.option("--errors-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the error report (CSV) here when the file is refused.")
@click.option("--max-bytes", type=int, default=None,
              help="Size limit in bytes (default: TRELLIS_UPLOAD_MAX_BYTES).")
@click.option("--today", callback=_date, default=None, help="Treat this date as today.")
@click.option("--source", default="", help="Where the file comes from (e.g. 'bank export'); "
              "its saved column mapping is used, and --mapping is saved under it.")
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False,
                                                           path_type=Path),
              help='Column mapping JSON {"file header": "field"} ("" = not imported).')
@click.option("--propose", "propose_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the proposed column mapping (JSON) here and import nothing.")
@with_appcontext
def import_command(cluster, file, kind, errors_out, max_bytes, today, source, mapping_file,
                   propose_out):
    """Import FILE (CSV or XLSX) of KIND into CLUSTER (code or id), with progress.

    Headers are matched to the kind's fields by name and known aliases; with --mapping
    (or a mapping saved for --source) any headers. Columns that feed no field are listed.
    """
    # Late: runs reaches pandas through the importer; `trellis clusters list` stays light.
    from trellis.onboarding import files, runs

    c = _cluster(cluster)
    data = file.read_bytes()
    limit = settings().upload_max_bytes if max_bytes is None else max_bytes
    try:
        if propose_out:
            table = files.read_table(data, file.name, max_bytes=limit)
            known = colmap.saved(session=db(), cluster_id=c.id, source=source, kind=kind) \
                if source else None
            proposal = colmap.propose(kind, table.header, known)
            propose_out.write_text(json.dumps(proposal.to_dict(), ensure_ascii=False,
                                              indent=2), encoding="utf-8")
            for h in table.header:
                click.echo(f"  {h!r:32} -> {proposal.fields.get(h) or '(not imported)':20} "
                           f"[{proposal.how.get(h, 'none')}]")
            if proposal.missing:
                click.echo("missing required fields: " + ", ".join(proposal.missing))
            click.echo(f"proposal written to {propose_out}; edit it and import with "
                       f"--mapping {propose_out}")
            return
        mapping = colmap.load_file(mapping_file.read_text(encoding="utf-8-sig")) \
            if mapping_file else None
        if mapping is not None and source:
            colmap.save(session=db(), cluster_id=c.id, source=source, kind=kind,
                        mapping=mapping)
        run = runs.create_run(session=db(), cluster_id=c.id, kind=kind, filename=file.name,
                              data=data, max_bytes=limit, source=source, mapping=mapping)
    except TrellisError as exc:
        raise click.ClickException(said(exc)) from None
    commit()
    started = time.monotonic()
    last = [0.0]

    def show(phase, done, total, errors):
        now = time.monotonic()
        if now - last[0] < 0.5 and done < total:
            return
        last[0] = now
        rate = done / (now - started) if now > started else 0
        click.echo(f"\r{phase:10} {done:>10,}/{total:<10,} {rate:>10,.0f} rows/s "
                   f"errors {errors}", nl=False, err=True)

    done = runs.execute_run(session_factory=current_app.extensions["trellis.sessions"],
                            run_id=run.id, today=today, on_progress=show)
    click.echo("", err=True)
    if done.status == RunStatus.SUCCEEDED:
        seconds = time.monotonic() - started
        click.echo(f"import {run.id}: {done.rows_total} rows in {seconds:.1f} s "
                   f"({done.rows_total / seconds if seconds else 0:,.0f} rows/s): "
                   f"{done.created} new, {done.updated} updated, {done.unchanged} unchanged")
        if done.unmapped:
            click.echo("columns not imported (map them with --mapping if they matter): "
                       + ", ".join(done.unmapped))
        if "caveat" in (done.message or ""):
            click.echo(done.message[done.message.index("row(s) kept") - 4:].strip())
        return
    report = runs.error_report_csv(session=db(), run_id=run.id)
    if errors_out:
        errors_out.write_bytes(report)
    lines = report.decode("utf-8-sig").splitlines()[1:21]
    click.echo(f"import {run.id} {done.status}: {said(done.message)}", err=True)
    for line in lines:
        click.echo(f"  {line}", err=True)
    if errors_out:
        click.echo(f"error report written to {errors_out}", err=True)
    sys.exit(1)


@click.group("clusters")
def clusters_group():
    """Industrial-park clusters."""


@clusters_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--archived", is_flag=True, help="Include archived clusters.")
@with_bare_appcontext
def clusters_list(as_json, archived):
    """List the clusters with their firm counts and data versions."""
    items = clusters.listing(session=db(), archived=archived)
    if as_json:
        click.echo(json.dumps({"clusters": items}, ensure_ascii=False, indent=2))
        return
    for i in items:
        mark = " (archived)" if i["archived_at"] else ""
        click.echo(f"{i['code']:20} {i['firms']:>7} firms  v{i['data_version']:<5} "
                   f"{i['name']}{mark}")


def _audit_cli(action: str, cluster_id: int, **detail) -> None:
    from trellis.accounts import services  # late: argon2, as in trellis.platform.web.audit

    services.record(session=db(), action=action, record_type="cluster", record_id=cluster_id,
                    actor_label="cli", detail=detail)


def _run_core(fn):
    try:
        return fn()
    except TrellisError as exc:
        raise click.ClickException(said(exc)) from None


@clusters_group.command("create")
@click.argument("code")
@click.option("--name", required=True, help="The park's name, e.g. 余杭经济开发区.")
@click.option("--region", default="", help="Where it is, e.g. 杭州市余杭区.")
@click.option("--kind", type=click.Choice(["industrial_park", "startup_base"]),
              default="industrial_park", show_default=True)
@with_appcontext
def clusters_create(code, name, region, kind):
    """Create the cluster CODE (letters, digits, - and _; permanent)."""
    c = _run_core(lambda: clusters.create(session=db(), code=code, name=name, region=region,
                                          kind=kind))
    _audit_cli("cluster.create", c.id, code=c.code, name=c.name, region=c.region, kind=kind)
    commit()
    click.echo(f"created cluster {c.code} (id {c.id}): {c.name}")


@clusters_group.command("edit")
@click.argument("code")
@click.option("--name", default=None)
@click.option("--region", default=None)
@click.option("--kind", type=click.Choice(["industrial_park", "startup_base"]), default=None)
@with_appcontext
def clusters_edit(code, name, region, kind):
    """Change the name, region or kind of cluster CODE."""
    c = _run_core(lambda: clusters.get(session=db(), code=code))
    changes = _run_core(lambda: clusters.edit(session=db(), cluster=c, name=name,
                                              region=region, kind=kind))
    if changes:
        _audit_cli("cluster.edit", c.id, code=c.code, changes=changes)
    commit()
    click.echo(f"cluster {c.code}: " + (", ".join(f"{k} {v[0]!r} -> {v[1]!r}"
                                                 for k, v in changes.items()) or "no change"))


@clusters_group.command("archive")
@click.argument("code")
@with_appcontext
def clusters_archive(code):
    """Archive cluster CODE: kept with its history, no longer listed, no imports."""
    c = _run_core(lambda: clusters.get(session=db(), code=code))
    _run_core(lambda: clusters.archive(session=db(), cluster=c))
    _audit_cli("cluster.archive", c.id, code=c.code)
    commit()
    click.echo(f"archived cluster {c.code}")


@clusters_group.command("restore")
@click.argument("code")
@with_appcontext
def clusters_restore(code):
    """Restore the archived cluster CODE."""
    c = _run_core(lambda: clusters.get(session=db(), code=code))
    _run_core(lambda: clusters.restore(session=db(), cluster=c))
    _audit_cli("cluster.restore", c.id, code=c.code)
    commit()
    click.echo(f"restored cluster {c.code}")


@clusters_group.command("basis")
@click.argument("code")
@click.option("--party", required=True, help="Who shared the data (the anchor, the park).")
@click.option("--reference", required=True, help="The agreement's number or title.")
@click.option("--scope", default="", help="What the agreement covers, in its words.")
@click.option("--valid-from", callback=_date, default=None, help="YYYY-MM-DD (default today).")
@click.option("--expires-on", callback=_date, required=True, help="YYYY-MM-DD.")
@with_appcontext
def clusters_basis(code, party, reference, scope, valid_from, expires_on):
    """Record the data basis of CODE's imported data (allows pre-assessment, not credit)."""
    c = _run_core(lambda: clusters.get(session=db(), code=code))
    b = _run_core(lambda: basis.record(session=db(), cluster_id=c.id, party=party,
                                       reference=reference, scope=scope,
                                       valid_from=valid_from, expires_on=expires_on))
    from trellis.accounts import services  # late: argon2, as above

    services.record(session=db(), action="cluster.data_basis", record_type="data_basis",
                    record_id=b.id, actor_label="cli",
                    detail={"cluster": c.code, "party": b.party, "reference": b.reference,
                            "scope": b.scope, "valid_from": b.valid_from.isoformat(),
                            "expires_on": b.expires_on.isoformat()})
    commit()
    click.echo(f"data basis {b.id} recorded for {c.code}: {b.party}, {b.reference}, "
               f"{b.valid_from} to {b.expires_on}; its firms may be pre-assessed "
               "(whitelist and flags only; credit needs each firm's consent)")


@clusters_group.command("coverage")
@click.argument("code")
@click.option("--firm", "firm_uscc", default=None, help="One firm's coverage (USCC).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def clusters_coverage(code, firm_uscc, as_json):
    """Which kinds of data, over which dates, CODE's data (or one firm's) covers."""
    c = _run_core(lambda: clusters.get(session=db(), code=code))
    if firm_uscc:
        f = _run_core(lambda: firms.by_uscc(session=db(), code=firm_uscc))
        rows = coverage.firm_coverage(session=db(), firm_id=f.id)
    else:
        rows = coverage.cluster_coverage(session=db(), cluster_id=c.id)
    if as_json:
        click.echo(json.dumps({"cluster": c.code, "coverage": rows}, ensure_ascii=False,
                              indent=2, default=str))
        return
    for r in rows:
        click.echo(f"{r['kind']:16} {r['rows']:>9} rows  {r['first'] or '-'} .. "
                   f"{r['last'] or '-'}")


@clusters_group.command("assessment")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def clusters_assessment(code, as_json):
    """The latest stored result of each firm of CODE: grade, basis (consent or
    pre-assessment), flags and the checks that were not assessable."""
    c = _run_core(lambda: clusters.get(session=db(), code=code))
    rows = db().execute(select(ScoreRecord, Firm.uscc, Firm.name)
                        .join(Firm, Firm.id == ScoreRecord.firm_id)
                        .where(Firm.cluster_id == c.id)
                        .order_by(ScoreRecord.firm_id, ScoreRecord.computed_at,
                                  ScoreRecord.id)).all()
    latest = {}
    for rec, uscc_code, name in rows:
        latest[rec.firm_id] = {
            "uscc": uscc_code, "name": name, "as_of": rec.as_of.isoformat(),
            "score": rec.score, "grade": rec.grade, "pd": None if rec.pd is None
            else str(rec.pd), "basis": rec.basis, "insufficient": rec.insufficient,
            "flags": [f["code"] for f in rec.flags],
            "not_assessable": [x["code"] for x in rec.not_assessable]}
    items = list(latest.values())
    if as_json:
        click.echo(json.dumps({"cluster": c.code, "firms": items}, ensure_ascii=False,
                              indent=2))
        return
    for i in items:
        click.echo(f"{i['uscc']} {i['grade'] or '-':2} {i['score'] or '-':>4} {i['basis']:15} "
                   f"flags: {', '.join(i['flags']) or '-'}; not assessable: "
                   f"{', '.join(i['not_assessable']) or '-'}")


@click.group("invitations")
def invitations_group():
    """Batch acquisition: the invitation whitelist."""


@invitations_group.command("candidates")
@click.argument("cluster")
@click.option("--limits", is_flag=True, help="Add indicative limits (pre-assessment).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--as-of", callback=_date, default=None)
@with_appcontext
def invitations_candidates(cluster, limits, as_json, as_of):
    """The whitelist of CLUSTER: vendors with enough confirmed trade to invite, largest
    first, with indicative limits under the cluster's data basis."""
    from trellis.onboarding import invitations  # late: pandas and networkx, via the graph

    c = _cluster(cluster)
    from trellis.ledger.reports import borrowers
    from trellis.scoring.service import indicative_limits  # late: pandas and scipy

    found = invitations.candidates(session=db(), cluster_id=c.id,
                                   limits=indicative_limits if limits else None,
                                   customers=borrowers, as_of=as_of)
    if as_json:
        click.echo(json.dumps({"cluster": c.code, "candidates": [asdict(x) for x in found]},
                              ensure_ascii=False, indent=2))
        return
    for x in found:
        limit = "-" if x.indicative_limit_fen is None else f"{x.indicative_limit_fen / 100:,.2f}"
        click.echo(f"{x.uscc} {x.name:30} confirmed {x.confirmed_fen / 100:>14,.2f}  "
                   f"limit {limit}")
    click.echo(f"{len(found)} candidates")


@click.group("graph")
def graph_group():
    """The supply-chain network of a cluster."""


@graph_group.command("stats")
@click.argument("cluster")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--as-of", callback=_date, default=None, help="Date of the graph (YYYY-MM-DD).")
@with_appcontext
def graph_stats(cluster, as_json, as_of):
    """Figures of CLUSTER's network: firms, edges, tiers, cycles, communities, links."""
    from trellis.network import build, summary  # late: pandas and networkx

    c = _cluster(cluster)
    try:
        G = build.cluster_graph(session=db(), cluster_id=c.id, as_of=as_of)
    except ClusterNotFound as exc:
        raise click.ClickException(said(exc)) from None
    stats = summary.stats(G)
    if as_json:
        click.echo(json.dumps({"cluster": c.code, **stats}, ensure_ascii=False, indent=2))
        return
    click.echo(f"{c.code} ({c.name}) as of {stats['as_of']}, data version "
               f"{stats['data_version']}")
    for key in ("firms", "anchors", "edges", "edges_with_trade", "unconnected", "cycles",
                "communities", "cut_vertices", "bridges"):
        click.echo(f"  {key:18} {stats[key]}")
    click.echo(f"  {'tiers':18} {stats['tiers']}")
    click.echo(f"  {'shared identities':18} {stats['shared_identity_links']}")


commands = [import_command, clusters_group, graph_group, invitations_group]
