"""`trellis scoring train` and `evaluate` on any labelled CSV (here: the German credit data)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from trellis.platform.scoring.cli import evaluate_command, train_command

GERMAN = Path(__file__).resolve().parents[2] / "scoring" / "data" / "german_credit.csv.gz"


def test_train_then_evaluate_on_a_csv(tmp_path):
    df = pd.read_csv(GERMAN)
    # A date column for an out-of-time split, and a few missing values.
    df["applied_on"] = pd.date_range("2019-01-01", periods=len(df), freq="D").date.astype(str)
    df.loc[df.index % 17 == 0, "age_in_years"] = None
    csv = tmp_path / "history.csv"
    df.to_csv(csv, index=False)
    model = tmp_path / "model.json"
    runner = CliRunner()
    out = runner.invoke(train_command, ["--csv", str(csv), "--target", "creditability",
                                        "--date-column", "applied_on", "--out", str(model),
                                        "--version", "german-1"])
    assert out.exit_code == 0, out.output
    assert "out_of_time" in out.output and "AUC" in out.output
    spec = json.loads(model.read_text(encoding="utf-8"))
    assert spec["version"] == "german-1" and spec["validation"]["split"]["kind"] == "out_of_time"
    ev = runner.invoke(evaluate_command, ["--model", str(model), "--csv", str(csv),
                                          "--target", "creditability", "--json"])
    assert ev.exit_code == 0, ev.output
    report = json.loads(ev.output)
    assert report["validation"]["n"] == 1000 and 0.7 < report["validation"]["auc"] < 0.95
    assert report["stability"]["score"]["status"] in ("stable", "investigate")


def test_train_refuses_a_bad_target_with_a_plain_message(tmp_path):
    csv = tmp_path / "t.csv"
    pd.DataFrame({"x": range(100), "outcome": ["late"] * 100}).to_csv(csv, index=False)
    out = CliRunner().invoke(train_command, ["--csv", str(csv), "--target", "outcome",
                                             "--out", str(tmp_path / "m.json")])
    # the core's words in the deployment's language (Chinese by default), naming the value
    assert out.exit_code != 0 and "实际为 late" in out.output, out.output


def test_platform_table_command_writes_a_trainable_csv(app, session, trade, make_cluster,
                                                       make_firm, tmp_path):
    from datetime import date

    from flask.cli import ScriptInfo

    from trellis.platform.cli import main

    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    vendors = [make_firm(cluster_id=cluster.id) for _ in range(3)]
    for i, v in enumerate(vendors):
        trade.monthly_sales(v, anchor, start=date(2024, 6, 5), months=12, amount_fen=50_000_00)
        trade.outcome(v, date(2025, 3, 1), defaulted=i == 0)
    out = tmp_path / "loans.csv"
    result = app.test_cli_runner().invoke(
        main, ["scoring", "platform-table", "--out", str(out), "--cluster", cluster.code,
               "--as-of", "2026-01-31"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == 3 and table["defaulted"].sum() == 1
    # Features as of 1 March 2025: nine months of sales (June 2024 to February 2025).
    assert (table["sales_12m_fen"] == 9 * 50_000_00).all()


def test_export_features_and_calibrate_commands(app, session, trade, make_cluster, make_firm,
                                                tmp_path):
    from datetime import date

    from flask.cli import ScriptInfo

    from trellis.platform.cli import main
    from trellis.scoring import service

    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    vendors = [make_firm(cluster_id=cluster.id) for _ in range(3)]
    for i, v in enumerate(vendors):
        trade.monthly_sales(v, anchor, start=date(2024, 6, 5), months=12,
                            amount_fen=(50 + i) * 1_000_00)
    # Sales after the as-of date must not reach the table.
    trade.sale(vendors[0], anchor, 999_000_00, date(2025, 7, 1))
    run = app.test_cli_runner()
    info = ScriptInfo(create_app=lambda: app)
    out = tmp_path / "features.csv"
    result = run.invoke(main, ["scoring", "export-features", "--as-of", "2025-06-01", "--out",
                               str(out), "--cluster", cluster.code], obj=info)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out).set_index("firm_id")
    assert len(table) == 4 and set(table["as_of"]) == {"2025-06-01"}
    assert table.loc[vendors[0].id, "sales_12m_fen"] == 12 * 50_000_00
    assert table.loc[vendors[0].id, "scorable"] and not table.loc[anchor.id, "scorable"]
    result = run.invoke(main, ["scoring", "calibrate", "--as-of", "2025-06-01", "--cluster",
                               cluster.code, "--json"], obj=info)
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)
    assert got["calibration"]["method"] == "anchor" and got["calibration"]["target_rate"] == 0.04
    assert service.champion(session=session).version == got["version"]
