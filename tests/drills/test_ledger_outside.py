"""Ledger drill from outside: repayments through the JSON API, `trellis ledger check`.

Made from the README and the OpenAPI document (`POST /api/v1/loans/{id}/repayments`,
`Idempotency-Key`, `TRELLIS_LEDGER_MAX_AMOUNT_FEN`) only. Table and column names for
the tampering come from the SQLite schema itself (`sqlite_master`, `PRAGMA`), not the code.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta

import pytest

from tests.drills.conftest import csrf_of, db_path, log_in, make_app, sql, tables, trellis
from trellis import clock

MAX_FEN = 100_000_000_000


@pytest.fixture
def api(instance):
    app = make_app(instance)
    client = app.test_client()
    assert log_in(client, "admin@trellis.demo").status_code in (302, 303)
    token = csrf_of(client, "/admin/users")
    loans = client.get("/api/v1/loans").get_json()["loans"]
    loan = next(x for x in loans if x["outstanding_fen"] > 10_000 and x["closed_on"] is None)

    def repay(body, key):
        headers = {"X-CSRFToken": token}
        if key is not None:
            headers["Idempotency-Key"] = key
        return client.post(f"/api/v1/loans/{loan['id']}/repayments", json=body,
                           headers=headers)

    return {"client": client, "loan": loan, "repay": repay, "env": instance}


def _ledger_rows(env) -> dict[str, int]:
    wanted = [t for t in sorted(tables(env)) if t.startswith(("journal_", "loan_repay"))
              or t in ("payments", "payment_allocations", "idempotency_records")]
    assert "journal_postings" in wanted or "journal_entries" in wanted, wanted
    return {t: sql(env, f'select count(*) from "{t}"')[0][0] for t in wanted}


def test_replayed_key_answers_original_marked_as_replay(api):
    body = {"amount_fen": 1234, "paid_on": clock.today().isoformat()}
    first = api["repay"](body, "drill-replay-1")
    assert first.status_code in (200, 201), first.get_data(as_text=True)
    after_first = _ledger_rows(api["env"])
    again = api["repay"](body, "drill-replay-1")
    assert again.status_code == 200, again.get_data(as_text=True)
    assert again.headers.get("Idempotent-Replayed", "").lower() == "true", dict(again.headers)
    assert again.get_json() == first.get_json()
    assert first.headers.get("Idempotent-Replayed", "false").lower() != "true"
    assert _ledger_rows(api["env"]) == after_first, "a replay wrote again"


@pytest.mark.parametrize(("amount", "paid_on"), [
    (MAX_FEN + 1, "today"),
    (10**30, "today"),
    (1000, "20261201"),
    (1000, "2026-W48-2"),
    (1000, "future"),
    (1000, "2026-02-30"),
    (0, "today"),
    (-500, "today"),
    ("12.34", "today"),
])
def test_bad_repayment_refused_nothing_written(api, amount, paid_on):
    today = clock.today()
    paid_on = {"today": today.isoformat(),
               "future": (today + timedelta(days=30)).isoformat()}.get(paid_on, paid_on)
    before = _ledger_rows(api["env"])
    answer = api["repay"]({"amount_fen": amount, "paid_on": paid_on},
                          f"drill-bad-{amount}-{paid_on}")
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.get_data(as_text=True))
    assert "error" in (answer.get_json() or {}), answer.get_data(as_text=True)
    assert _ledger_rows(api["env"]) == before, "a refused repayment wrote something"


# --- tampering with the database, caught by `trellis ledger check` ---------------------

def _columns(env, table) -> list[str]:
    return [r[1] for r in sql(env, f'pragma table_info("{table}")')]


def _fk_column(env, table, target) -> str:
    for row in sql(env, f'pragma foreign_key_list("{table}")'):
        if row[2] == target:
            return row[3]
    raise AssertionError(f"{table} has no reference to {target}")


def _force(env, statement: str, params: tuple, table: str) -> None:
    """Run a tampering statement as someone with write access to the file would, dropping
    the table's triggers if they stand in the way (an insider can)."""
    try:
        sql(env, statement, params)
    except sqlite3.DatabaseError:
        with sqlite3.connect(db_path(env)) as conn:
            for (name,) in conn.execute("select name from sqlite_master where type='trigger' "
                                        "and tbl_name=?", (table,)).fetchall():
                conn.execute(f'drop trigger "{name}"')
            conn.execute(statement, params)


def _check(env):
    run = trellis(env, "ledger", "check", timeout=600)
    return run.returncode, run.stdout + run.stderr


def test_ledger_check_clean_then_edited_posting_caught(api):
    env = api["env"]
    created = api["repay"]({"amount_fen": 5000, "paid_on": clock.today().isoformat()},
                           "drill-tamper-a")
    assert created.status_code in (200, 201)
    code, said = _check(env)
    assert code == 0, f"ledger check fails on a clean ledger:\n{said[-2000:]}"

    amount = next(c for c in _columns(env, "journal_postings") if "amount" in c)
    entry_col = _fk_column(env, "journal_postings", "journal_entries")
    posting_id, entry_id = sql(env, f'select id, "{entry_col}" from journal_postings '
                                    "order by id desc limit 1")[0]
    _force(env, f'update journal_postings set "{amount}" = "{amount}" + 1 where id = ?',
           (posting_id,), "journal_postings")
    code, said = _check(env)
    assert code != 0, f"ledger check passes after a posting's amount was edited:\n{said[-2000:]}"
    assert re.search(rf"\b{entry_id}\b", said), f"entry {entry_id} not named:\n{said[-2000:]}"


def test_deleted_repayment_record_caught(api):
    env = api["env"]
    created = api["repay"]({"amount_fen": 7000, "paid_on": clock.today().isoformat()},
                           "drill-tamper-b")
    assert created.status_code in (200, 201)
    table = next(t for t in sorted(tables(env)) if t.startswith("loan_repayment"))
    rid, = sql(env, f'select max(id) from "{table}"')[0]
    refs = [c for c in _columns(env, table) if "entry" in c]
    entry_id = sql(env, f'select "{refs[0]}" from "{table}" where id = ?', (rid,))[0][0] \
        if refs else None
    _force(env, f'delete from "{table}" where id = ?', (rid,), table)
    code, said = _check(env)
    assert code != 0, f"ledger check passes after a repayment record was deleted:\n{said[-2000:]}"
    named = [str(x) for x in (entry_id, api["loan"]["id"], rid) if x is not None]
    assert any(re.search(rf"\b{n}\b", said) for n in named), \
        f"none of entry/loan/repayment {named} named:\n{said[-2000:]}"
