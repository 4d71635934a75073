"""Commands of the network area: ``trellis import``, ``trellis clusters list``,
``trellis graph stats``."""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from trellis.messages import Message
from trellis.network import build, summary
from trellis.network.errors import ClusterNotFound
from trellis.network.models import RunStatus
from trellis.onboarding import runs
from trellis.onboarding.kinds import KINDS
from trellis.platform.web import commit, db, settings
from trellis.trade.models import Cluster, Firm


def _cluster(ref: str) -> Cluster:
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
@click.option("--kind", required=True, type=click.Choice(list(KINDS)),
              help="What the file holds.")
@click.option("--errors-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the error report (CSV) here when the file is refused.")
@click.option("--max-bytes", type=int, default=None,
              help="Size limit in bytes (default: TRELLIS_UPLOAD_MAX_BYTES).")
@click.option("--today", callback=_date, default=None, help="Treat this date as today.")
@with_appcontext
def import_command(cluster, file, kind, errors_out, max_bytes, today):
    """Import FILE (CSV or XLSX) of KIND into CLUSTER (code or id), with progress."""
    c = _cluster(cluster)
    data = file.read_bytes()
    limit = settings().upload_max_bytes if max_bytes is None else max_bytes
    try:
        run = runs.create_run(session=db(), cluster_id=c.id, kind=kind, filename=file.name,
                              data=data, max_bytes=limit)
    except Exception as exc:
        if not hasattr(exc, "message"):
            raise
        raise click.ClickException(exc.message) from None
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
        return
    report = runs.error_report_csv(session=db(), run_id=run.id)
    if errors_out:
        errors_out.write_bytes(report)
    lines = report.decode("utf-8-sig").splitlines()[1:21]
    click.echo(f"import {run.id} {done.status}: {Message.loads(done.message)}", err=True)
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
@with_appcontext
def clusters_list(as_json):
    """List the clusters with their firm counts and data versions."""
    rows = db().execute(select(Cluster, func.count(Firm.id))
                        .join(Firm, Firm.cluster_id == Cluster.id, isouter=True)
                        .group_by(Cluster.id).order_by(Cluster.code)).all()
    items = [{"id": c.id, "code": c.code, "name": c.name, "region": c.region,
              "firms": n, "data_version": c.data_version} for c, n in rows]
    if as_json:
        click.echo(json.dumps({"clusters": items}, ensure_ascii=False, indent=2))
        return
    for i in items:
        click.echo(f"{i['code']:20} {i['firms']:>7} firms  v{i['data_version']:<5} {i['name']}")


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
    c = _cluster(cluster)
    try:
        G = build.cluster_graph(session=db(), cluster_id=c.id, as_of=as_of)
    except ClusterNotFound as exc:
        raise click.ClickException(exc.message) from None
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


commands = [import_command, clusters_group, graph_group]
