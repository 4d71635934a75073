"""Commands of the scoring area.

- ``trellis score USCC [--as-of DATE] [--json]``: score one firm with the champion.
- ``trellis scoring train --csv FILE --target COLUMN [--date-column COLUMN] --out MODEL.json``
- ``trellis scoring evaluate --model MODEL.json --csv FILE --target COLUMN [--json]``
- ``trellis scoring import MODEL.json``, ``trellis scoring promote VERSION [--csv --target]``,
  ``trellis scoring export VERSION``, ``trellis scoring rescore``, ``trellis scoring stability``
- ``trellis scoring calibrate [--as-of DATE] [--cluster CODE] [--dry-run] [--json]``: anchor
  the champion to the portfolio default rate, or recalibrate it on matured outcomes.
- ``trellis scoring export-features --as-of DATE --out FILE [--cluster CODE]``: the feature
  table, one row per firm, as the scorecards see it on that date.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from trellis import clock
from trellis.errors import TrellisError
from trellis.platform.cli import said
from trellis.platform.web import commit, db, settings
from trellis.scoring import anchoring, expert, export, jobs, registry, scorecard, service, training
from trellis.trade import firms
from trellis.trade.models import Cluster


def _date(_ctx, _param, value):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD") from None


def _fail(exc: TrellisError):
    raise click.ClickException(said(exc))


@click.command("score")
@click.argument("uscc")
@click.option("--as-of", callback=_date, default=None, help="Score as of this date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--no-store", is_flag=True, help="Do not keep the result.")
@with_appcontext
def score_command(uscc, as_of, as_json, no_store):
    """Score the firm with unified social credit code USCC."""
    try:
        firm = firms.by_uscc(session=db(), code=uscc)
    except TrellisError as exc:  # malformed or unknown: say which, in one line
        raise click.ClickException(f"no firm with USCC {uscc}: {said(exc)}") from None
    try:
        result = service.score_firm(session=db(), firm_id=firm.id, as_of=as_of,
                                    store=not no_store)
    except TrellisError as exc:
        _fail(exc)
    commit()
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    if result.insufficient:
        click.echo(f"{firm.name}: insufficient data: " + "; ".join(result.insufficient_reasons))
    else:
        click.echo(f"{firm.name}: score {result.score}, grade {result.grade}, PD {result.pd}")
        for r in result.reasons:
            click.echo(f"  -{r.points_lost:>3} {r.en} / {r.zh}")
    for f in result.flags:
        click.echo(f"  FLAG {f.code}: {f.en}")


@click.group("scoring")
def scoring_group():
    """Scorecards: train, evaluate, import, promote, export; rescore; stability."""


@scoring_group.command("train")
@click.option("--csv", "csv_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--target", required=True, help="Outcome column: 1/0, bad/good, yes/no.")
@click.option("--date-column", default=None, help="Validate out of time on the latest 30%.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--version", default=None, help="Version name (default trained-YYYYMMDD).")
@click.option("--exclude", multiple=True, help="Columns to leave out (repeatable).")
@click.option("--cv", "cv_folds", default=0, type=int, help="Also report k-fold CV AUC.")
@click.option("--seed", default=0, type=int)
@click.option("--family", type=click.Choice(["woe", "gbm", "blend", "auto"]),
              default="woe",
              help="woe: binning + logistic regression; gbm: monotone boosted trees; "
                   "blend: two WoE cards (monotone and free binning), extra-trees "
                   "boosting, a random forest and a one-hot logistic regression, "
                   "averaged with equal weights; auto: the boosted "
                   "card only if it beats the WoE card beyond the noise.")
def train_command(csv_path, target, date_column, out, version, exclude, cv_folds, seed,
                  family):
    """Train a scorecard on a labelled CSV (refitted on every row after validation);
    write it (with its validation report) as JSON."""
    try:
        df = training.read_csv(csv_path)
        spec = training.train(df, target=target, date_column=date_column, version=version,
                              seed=seed, cv_folds=cv_folds, exclude=tuple(exclude),
                              family=family, monotone=expert.monotone(),
                              labels=expert.labels())
    except TrellisError as exc:
        _fail(exc)
    out.write_text(scorecard.dumps(spec), encoding="utf-8")
    v = spec["validation"]["validation"]
    sel = spec["validation"].get("family_selection")
    if sel:
        click.echo(f"family: {sel['chosen']} (boosted minus WoE cross-validated AUC "
                   f"{sel['gain']:+.4f}, 95% interval [{sel['ci_low']:+.4f}, "
                   f"{sel['ci_high']:+.4f}])")
    size = (f"{len(spec['model']['features'])} features (boosted)"
            if scorecard.is_model(spec) else f"{len(spec['characteristics'])} characteristics")
    click.echo(f"{spec['version']}: {size}; "
               f"validation ({spec['validation']['split']['kind']}) AUC {v['auc']}, "
               f"Gini {v['gini']}, KS {v['ks']}, Brier {v['brier']} on {v['n']} rows; "
               f"written to {out}")
    if "cross_validation" in spec["validation"]:
        cv = spec["validation"]["cross_validation"]
        click.echo(f"{cv['folds']}-fold cross-validated AUC {cv['auc_mean']} ± {cv['auc_std']}")


@scoring_group.command("evaluate")
@click.option("--model", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--csv", "csv_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--target", required=True)
@click.option("--json", "as_json", is_flag=True)
def evaluate_command(model, csv_path, target, as_json):
    """Validation report of a scorecard JSON on a labelled CSV (AUC, Gini, KS, Brier, PSI)."""
    try:
        spec = scorecard.loads(Path(model).read_text(encoding="utf-8"))
        report = training.evaluate(spec, training.read_csv(csv_path), target=target)
    except TrellisError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    v = report["validation"]
    click.echo(f"{report['version']} on {v['n']} rows ({v['bads']} bad): AUC {v['auc']}, "
               f"Gini {v['gini']}, KS {v['ks']}, Brier {v['brier']}")
    score = report["stability"].get("score")
    if score:
        click.echo(f"score PSI against the training population {score['psi']} ({score['status']})")


def _cluster_id(cluster_code):
    if not cluster_code:
        return None
    cluster_id = db().execute(select(Cluster.id).where(Cluster.code == cluster_code)).scalar()
    if cluster_id is None:
        raise click.ClickException(f"no cluster {cluster_code!r}")
    return cluster_id


@scoring_group.command("calibrate")
@click.option("--as-of", callback=_date, default=None)
@click.option("--cluster", "cluster_code", default=None, help="Only this cluster (code).")
@click.option("--dry-run", is_flag=True, help="Report only; keep the current champion.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def calibrate_command(as_of, cluster_code, dry_run, as_json):
    """Set the champion's PD level: recalibrate on matured outcomes when there are enough,
    else anchor it to the portfolio default rate in force; installs the new version."""
    try:
        spec = anchoring.calibrate(session=db(), as_of=as_of or clock.today(),
                                   cluster_id=_cluster_id(cluster_code), install=not dry_run)
    except TrellisError as exc:
        _fail(exc)
    if not dry_run:
        commit()
    report = spec["validation"].get("calibration")
    if as_json:
        click.echo(json.dumps({"version": spec["version"], "calibration": spec["calibration"],
                               "how": spec["validation"]["calibrated"], "report": report},
                              ensure_ascii=False))
        return
    click.echo(f"{spec['version']}: {spec['validation']['calibrated']}"
               + (" (dry run, not installed)" if dry_run else ""))
    if report:
        click.echo(f"mean PD {report['mean_pd']:.2%} vs observed {report['observed_rate']:.2%}; "
                   f"Hosmer-Lemeshow p {report['hosmer_lemeshow']['p_value']:.3f}")
        for g in report["grades"]:
            click.echo(f"  {g['grade']}: {g['n']} firms, observed {g['observed_rate']:.2%}, "
                       f"mean PD {g['mean_pd']:.2%}, band [{g['band_low']:.2%}, "
                       f"{g['band_high']:.2%}] {'ok' if g['inside'] else 'OUTSIDE'}")
        if report["flag"]:
            click.echo("FLAG for the risk team: grades outside their band: "
                       + ", ".join(report["grades_outside_band"]))


@scoring_group.command("export-features")
@click.option("--as-of", callback=_date, required=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--cluster", "cluster_code", default=None, help="Only this cluster (code).")
@with_appcontext
def export_features_command(as_of, out, cluster_code):
    """Write the feature table as of a date: one row per firm (uscc, cluster, every feature,
    whether it can be scored), from data dated before that day only."""
    table = export.feature_table(session=db(), as_of=as_of,
                                 cluster_id=_cluster_id(cluster_code))
    table.to_csv(out, index=False)
    click.echo(f"{len(table)} firms, {table.shape[1]} columns as of {as_of} written to {out}")


@scoring_group.command("platform-table")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--cluster", "cluster_code", default=None, help="Only this cluster (code).")
@click.option("--as-of", callback=_date, default=None)
@with_appcontext
def platform_table_command(out, cluster_code, as_of):
    """Write the platform's matured loans with point-in-time features as a labelled CSV
    (target column ``defaulted``, date column ``disbursed_on``), ready for ``train``."""
    cluster_id = None
    if cluster_code:
        cluster_id = db().execute(select(Cluster.id).where(Cluster.code == cluster_code)
                                  ).scalar()
        if cluster_id is None:
            raise click.ClickException(f"no cluster {cluster_code!r}")
    table = registry.platform_table(session=db(), as_of=as_of, cluster_id=cluster_id)
    if table.empty:
        raise click.ClickException("no matured loan outcomes to learn from yet")
    table.to_csv(out, index=False)
    click.echo(f"{len(table)} loans ({int(table['defaulted'].sum())} defaulted) written to {out}; "
               f"train with: trellis scoring train --csv {out} --target defaulted "
               "--date-column disbursed_on --exclude firm_id --out MODEL.json")


@scoring_group.command("import")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("--notes", default="")
@with_appcontext
def import_command(model, notes):
    """Store a scorecard JSON as a challenger."""
    try:
        row = registry.register(session=db(), spec=scorecard.loads(
            Path(model).read_text(encoding="utf-8")), notes=notes)
    except TrellisError as exc:
        _fail(exc)
    commit()
    click.echo(f"stored {row.version} as a challenger")


@scoring_group.command("promote")
@click.argument("version")
@click.option("--csv", "csv_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Validation table to compare champion and challenger on.")
@click.option("--target", default=None)
@with_appcontext
def promote_command(version, csv_path, target):
    """Make VERSION the champion if it beats the champion by more than the noise."""
    try:
        data = training.read_csv(csv_path) if csv_path else None
        if data is not None and not target:
            raise click.UsageError("--target is needed with --csv")
        out = registry.promote(session=db(), version=version, data=data, target=target)
    except TrellisError as exc:
        _fail(exc)
    commit()
    click.echo(json.dumps(out, ensure_ascii=False))


@scoring_group.command("export")
@click.argument("version")
@with_appcontext
def export_command(version):
    """Print a stored scorecard version as JSON."""
    try:
        click.echo(registry.export_json(session=db(), version=version))
    except TrellisError as exc:
        _fail(exc)


@scoring_group.command("rescore")
@click.option("--as-of", callback=_date, default=None)
@with_appcontext
def rescore_command(as_of):
    """Rescore every cluster now (the scheduled job, run once)."""
    factory = current_app.extensions["trellis.sessions"]
    click.echo(jobs.rescore_portfolio(session_factory=factory, settings=settings(), as_of=as_of))


@scoring_group.command("stability")
@with_appcontext
def stability_command():
    """Compute the champion's population stability now (the scheduled job, run once)."""
    factory = current_app.extensions["trellis.sessions"]
    click.echo(jobs.monitor_stability(session_factory=factory, settings=settings()))


commands = [score_command, scoring_group]
