"""``trellis ledger ...`` commands."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import text

from trellis import clock
from trellis.platform.ledger.cli import ledger_group


def test_trial_balance_json(app, make_loan):
    make_loan(amount_fen=1_000_000, fee_fen=3_000)
    result = app.test_cli_runner().invoke(ledger_group, ["trial-balance", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    accounts = {a["code"]: a for a in data["accounts"]}
    assert accounts["1303"]["debit_fen"] == 1_000_000
    assert accounts["1002"]["credit_fen"] == 1_000_000
    assert accounts["6021"]["balance_fen"] == 3_000
    assert data["balanced"] and data["total_debit_fen"] == 1_003_000


def test_trial_balance_text_as_of_a_date(app, make_loan):
    make_loan(amount_fen=1_000_000, disburse=date(2026, 2, 1))
    runner = app.test_cli_runner()
    before = runner.invoke(ledger_group, ["trial-balance", "--as-of", "2026-01-31"])
    after = runner.invoke(ledger_group, ["trial-balance", "--as-of", "2026-02-01"])
    assert "1,000,000" not in before.output and "1,000,000" in after.output
    assert after.output.strip().endswith("balanced")
    bad = runner.invoke(ledger_group, ["trial-balance", "--as-of", "yesterday"])
    assert bad.exit_code == 2 and "not a date" in bad.output


def test_check_passes_then_fails_on_a_mismatch(app, session, make_loan):
    loan = make_loan(amount_fen=1_000_000)
    runner = app.test_cli_runner()
    ok = runner.invoke(ledger_group, ["check"])
    assert ok.exit_code == 0 and ok.output.startswith("ledger OK: 1 entries")
    session.execute(text("update loans set principal_fen = 1 where id = :i"), {"i": loan.id})
    bad = runner.invoke(ledger_group, ["check", "--no-hashes"])
    assert bad.exit_code == 1
    assert f"Loan {loan.id}: principal_fen is 1 fen" in bad.output
    session.execute(text("update loans set principal_fen = 1000000 where id = :i"),
                    {"i": loan.id})
    session.expire_all()


def test_accrue_command(app, session, make_loan):
    loan = make_loan(amount_fen=1_000_000, disburse=date(2026, 1, 1))
    result = app.test_cli_runner().invoke(ledger_group, ["accrue", "--date", "2026-01-11"])
    assert result.exit_code == 0, result.output
    assert "accrued 10 day(s) up to 2026-01-11" in result.output
    session.expire_all()
    assert session.get(type(loan), loan.id).interest_fen == 2_000


def test_accrue_refuses_future_and_non_iso_dates(app, session, make_loan):
    """Defect 7: ``--date 2030-01-01`` once booked 1,143 future days."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from trellis.ledger.models import JournalEntry

    make_loan(amount_fen=1_000_000, disburse=date(2026, 1, 1))
    entries = session.scalar(select(func.count()).select_from(JournalEntry))
    runner = app.test_cli_runner()
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    for raw in ("2030-01-01", tomorrow, "20260111", "2026-W02-1"):
        result = runner.invoke(ledger_group, ["accrue", "--date", raw])
        assert result.exit_code == 2, (raw, result.output)
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == entries


def test_shards_shows_and_adds_chains(app, session, make_loan, monkeypatch):
    from trellis.ledger import posting, reports

    monkeypatch.setattr(posting, "_SHARDS", {})   # the rolled-back count stays here
    runner = app.test_cli_runner()
    have = posting.shard_count(session)
    shown = runner.invoke(ledger_group, ["shards"])
    assert shown.exit_code == 0, shown.output
    assert f"CNY journal: {have} shard(s)" in shown.output
    added = runner.invoke(ledger_group, ["shards", "--set", str(have + 3)])
    assert added.exit_code == 0, added.output
    assert f"{have} -> {have + 3} shards (3 added)" in added.output
    assert f"shard {have + 2:>3}:          0 entries" in added.output
    assert posting.shard_count(session) == have + 3
    # a loan whose shard is one of the new ones posts there, and the books still check
    loan = make_loan(amount_fen=1_000_000)
    while posting.shard_of(loan.id, have + 3) < have:
        loan = make_loan(amount_fen=1_000_000)
    shard = posting.shard_of(loan.id, have + 3)
    assert dict((s, seq) for s, seq, _h in reports.heads(session=session))[shard] == 1
    fewer = runner.invoke(ledger_group, ["shards", "--set", str(have)])
    assert fewer.exit_code == 1 and "分片不能减少" in fewer.output, fewer.output
    zero = runner.invoke(ledger_group, ["shards", "--set", "0"])
    assert zero.exit_code == 1 and "1 到 256" in zero.output, zero.output
