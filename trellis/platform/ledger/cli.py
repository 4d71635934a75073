"""Commands of the ledger area: ``trellis ledger trial-balance | check | accrue | disburse |
shards``.

``check`` exits with status 1 and lists every problem when the books are wrong (entries
that do not balance, a trial balance that does not sum to zero, a loan that disagrees
with its sub-ledger, payment records or loan terms that disagree with the journal, a
broken hash chain, an entry that differs from the one anchored on chain); 0 when all is
well.
"""

from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from trellis import clock
from trellis.db import transaction
from trellis.errors import TrellisError
from trellis.ledger import jobs, posting, reports
from trellis.ledger.dates import parse_date
from trellis.platform.cli import said
from trellis.platform.web import db, settings


def _date(_ctx, _param, value):
    """Strictly ``YYYY-MM-DD`` (not ``20261201`` nor ``2026-W48-2``)."""
    if value is None:
        return None

    try:
        return parse_date(value, field="date")
    except TrellisError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _not_future(ctx, param, value):
    value = _date(ctx, param, value)
    if value is not None and value > clock.today():
        raise click.BadParameter(f"{value.isoformat()} is in the future: interest is booked "
                                 "for days that are over")
    return value


@click.group("ledger")
def ledger_group():
    """The double-entry ledger: trial balance, checks, accrual."""


@ledger_group.command("trial-balance")
@click.option("--as-of", callback=_date, help="Value date (YYYY-MM-DD); default: all.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def trial_balance_command(as_of, as_json):
    """Print every account's balance and the debit and credit totals."""
    tb = reports.trial_balance(session=db(), as_of=as_of)
    if as_json:
        click.echo(json.dumps(tb.as_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"Trial balance {tb.currency} at {as_of or 'latest'} (fen)")
    click.echo(f"{'code':6} {'account':36} {'debit':>16} {'credit':>16}")
    for r in tb.rows:
        click.echo(f"{r.code:6} {r.name:36} {r.debit_fen:>16,} {r.credit_fen:>16,}")
    click.echo(f"{'':6} {'total':36} {tb.total_debit_fen:>16,} {tb.total_credit_fen:>16,}")
    click.echo("balanced" if tb.balanced else "NOT BALANCED")


@ledger_group.command("check")
@click.option("--no-hashes", is_flag=True, help="Skip recomputing the hash chain.")
@with_appcontext
def check_command(no_hashes):
    """Check the books; exit status 1 if anything is wrong.

    Besides the journal's own rules: the payment records and loan terms against the
    journal, and (unless --no-hashes) the hash chain against the entries anchored on
    chain, naming the first entry that differs.
    """
    chain = None
    if not no_hashes and settings().chain_url:   # the embedded chain starts empty
        # Late: reaches web3 (trellis.chain.client); other commands start without it.
        from trellis.chain.client import get_chain

        try:
            chain = get_chain(settings())
        except TrellisError as exc:
            click.echo(f"the chain could not be asked ({said(exc)}); anchored records "
                       "are compared as stored", err=True)
    problems = reports.check(session=db(), hashes=not no_hashes, chain=chain)
    seq, digest = reports.head(session=db())
    if problems:
        for p in problems:
            click.echo(p, err=True)
        click.echo(f"{len(problems)} problem(s) in the ledger", err=True)
        sys.exit(1)
    click.echo(f"ledger OK: {seq} entries, head {digest}")


@ledger_group.command("accrue")
@click.option("--date", "as_of", callback=_not_future, required=True,
              help="Book interest for every day before this one (YYYY-MM-DD, not after "
                   "today).")
@with_appcontext
def accrue_command(as_of):
    """Accrue interest up to DATE, mark overdue loans and move loss allowances."""
    factory = current_app.extensions["trellis.sessions"]
    try:
        click.echo(jobs.accrue_daily(session_factory=factory, settings=settings(),
                                     as_of=as_of))
    except TrellisError as exc:
        raise click.ClickException(said(exc)) from exc


@ledger_group.command("disburse")
@click.option("--date", "as_of", callback=_date, help="Pay-out date (default today).")
@with_appcontext
def disburse_command(as_of):
    """Pay out accepted loans now (after the chain registry accepts their documents)."""
    factory = current_app.extensions["trellis.sessions"]
    try:
        click.echo(jobs.disburse_approved(session_factory=factory, settings=settings(),
                                          as_of=as_of))
    except TrellisError as exc:
        raise click.ClickException(said(exc)) from exc


@ledger_group.command("shards")
@click.option("--set", "count", type=int,
              help="Give the journal N shards (hash chains); shards are only ever added.")
@click.option("--currency", default="CNY", show_default=True)
@with_appcontext
def shards_command(count, currency):
    """Show the journal's shards (one hash chain and head each); --set N adds shards.

    An entry of one loan goes to shard ``loan id mod N``; entries of several loans to
    shard 0. Other running processes post into the new shards once they restart.
    """
    factory = current_app.extensions["trellis.sessions"]
    if count is not None:
        try:
            with transaction(factory) as s:
                before = posting.shard_count(s, currency)
                added = posting.set_shard_count(s, count, currency)
        except TrellisError as exc:
            raise click.ClickException(said(exc)) from exc
        click.echo(f"{currency} journal: {before} -> {before + added} shards ({added} "
                   "added); other running processes use them after a restart")
    with transaction(factory) as s:
        rows = reports.heads(session=s, currency=currency)
    click.echo(f"{currency} journal: {len(rows)} shard(s), "
               f"{sum(r[1] for r in rows):,} entries")
    for shard, seq, digest in rows:
        click.echo(f"  shard {shard:>3}: {seq:>10,} entries, head {digest}")


commands = [ledger_group]
