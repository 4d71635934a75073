"""Prepare a copy of a seeded instance so that every page of ``bench/web_pages.py`` exists.

The demo seed gives the demo vendor login no loan (its first application shows the
first-loan cooling-off) and anchors nothing (no chain node while it seeds), so four pages
of the bench have nothing to show: the vendor's loan and its statement, an anchored batch
and one of its documents. This script copies the instance and, on the copy, goes the way
a person and the jobs go, through the platform itself (no SQL written here):

1. the demo vendor applies for RF-STD financing of one confirmed invoice in the web
   application (``/vendor/apply``), the smallest of its open confirmed invoices to the
   anchor that the product approves automatically, so an offer comes at once; if the
   ledger refers it to a person instead, the demo relationship manager approves it
   (``/ledger/applications/<id>/decide``);
2. the vendor accepts the offer (``/vendor/applications/<id>/accept``);
3. ``trellis ledger disburse``: the pay-out job registers the invoice on the instance's
   chain (the embedded one unless configured) and pays the loan out;
4. ``trellis chain anchor-now``: the waiting documents (the seed's and the pay-out's) are
   cut into a batch and anchored.

    .venv/bin/python bench/prepare_pages.py --instance /tmp/trellis-demo --to /tmp/pages-demo

``bench/web_pages.py --prepare DIR`` runs this (once: an existing DIR that holds a loan of
the demo vendor and an anchored batch is used as it is) and measures on DIR.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from trellis import clock

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "trellis-demo-2026"
VENDOR, RM = "vendor@trellis.demo", "rm@trellis.demo"


def _client(app, email: str):
    client = app.test_client()
    r = client.post("/login", data={"email": email, "password": PASSWORD})
    if r.status_code not in (302, 303):
        raise SystemExit(f"login as {email} failed: {r.status_code}")
    return client


def _invoice(app, session) -> int:
    """The vendor's smallest confirmed, unpaid invoice, due in a month or more, to an anchor;
    one whose RF-STD advance the product may approve automatically if there is one (read,
    not written)."""
    from datetime import timedelta

    from sqlmodel import col, select

    from trellis.accounts.models import User
    from trellis.ledger.models import Product
    from trellis.trade.models import Firm, Invoice

    firm_id = session.scalar(select(User.firm_id).where(User.email == VENDOR))
    rf = session.exec(select(Product).where(Product.code == "RF-STD")).one()
    anchors = select(Firm.id).where(Firm.role == "anchor")
    found = session.scalar(
        select(Invoice.id).where(
            Invoice.seller_id == firm_id, Invoice.status == "confirmed",
            Invoice.paid_fen == 0,
            # a month or more to run: the fixed fees of a few days' advance, annualised,
            # pass the legal cap and the offer is declined
            Invoice.due_date > clock.today() + timedelta(days=30),
            col(Invoice.buyer_id).in_(anchors))
        # one the product approves automatically first; else the smallest (referred to
        # the relationship manager, who approves it in borrow)
        .order_by(Invoice.amount_fen * rf.advance_rate_bps > rf.auto_approve_max_fen * 10_000,
                  col(Invoice.amount_fen), col(Invoice.id)))
    if found is None:
        raise SystemExit(f"{VENDOR} has no open confirmed invoice to an anchor to finance")
    return int(found)


def _loan_and_batch(session) -> tuple[int | None, int | None]:
    """The demo vendor's first loan and the first anchored batch (ids), if any."""
    from sqlmodel import col, select

    from trellis.accounts.models import User
    from trellis.chain.models import Batch
    from trellis.ledger.models import Loan

    firm_id = session.scalar(select(User.firm_id).where(User.email == VENDOR))
    loan = session.scalar(select(Loan.id).where(Loan.firm_id == firm_id).order_by(col(Loan.id)))
    batch = session.scalar(select(Batch.id).where(col(Batch.tx_hash).is_not(None))
                           .order_by(col(Batch.id)))
    return loan, batch


def borrow(instance: str) -> int:
    """Steps 1 and 2 in this process (the application's own pages); the loan's id."""
    os.environ["TRELLIS_INSTANCE_PATH"] = instance
    os.environ["TRELLIS_SCHEDULER"] = "off"
    from trellis.platform import create_app

    app = create_app({"WTF_CSRF_ENABLED": False})
    sessions = app.extensions["trellis.sessions"]
    # the requests outside this context: inside it they would share its ``g`` (and the
    # database session kept there) with one another
    with app.app_context(), sessions() as s:
        loan, _ = _loan_and_batch(s)
        if loan is not None:
            return loan
        invoice_id = _invoice(app, s)
    vendor = _client(app, VENDOR)
    r = vendor.post("/vendor/apply", data={"product": "RF-STD", "doc_ids": [str(invoice_id)],
                                          "amount": ""})
    if r.status_code != 303:
        raise SystemExit(f"the application was refused ({r.status_code})")
    application = r.location
    found = re.search(r"/applications/(\d+)", application)
    if found is None:
        raise SystemExit(f"the application went to {application}, not its page")
    application_id = int(found.group(1))
    accepted = vendor.post(application + "/accept", data={"read": "y"})
    if accepted.status_code == 404:   # referred: no offer until a person approves
        rm = _client(app, RM)
        decided = rm.post(f"/ledger/applications/{application_id}/decide",
                          data={"decision": "approve", "reasons": "基准测试：演示供应商的首笔贷款"})
        if decided.status_code != 302:
            raise SystemExit(f"the relationship manager's approval failed ({decided.status_code})")
        accepted = vendor.post(application + "/accept", data={"read": "y"})
    if accepted.status_code != 303:
        raise SystemExit(f"accepting the offer failed ({accepted.status_code}); the "
                         f"application is at {application}")
    with app.app_context(), sessions() as s:
        loan, _ = _loan_and_batch(s)
    if loan is None:
        raise SystemExit("the offer was accepted but no loan was made")
    return loan


def trellis(instance: str, *args: str) -> None:
    env = {**os.environ, "TRELLIS_INSTANCE_PATH": instance, "TRELLIS_SCHEDULER": "off",
           "PYTHONPATH": str(ROOT)}
    subprocess.run([str(Path(sys.executable).parent / "trellis"), *args], env=env,
                   cwd=str(ROOT), check=True)


def prepared(instance: str) -> tuple[int | None, int | None]:
    """(loan, batch) of an instance, in a fresh process (the caller may import nothing)."""
    code = ("import sys; from bench.prepare_pages import report; report(sys.argv[1])")
    env = {**os.environ, "TRELLIS_INSTANCE_PATH": instance, "TRELLIS_SCHEDULER": "off",
           "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code, instance], env=env, cwd=str(ROOT),
                         capture_output=True, text=True, check=True).stdout.split()
    return tuple(None if v == "-" else int(v) for v in out[-2:])  # type: ignore[return-value]


def report(instance: str) -> None:
    os.environ["TRELLIS_INSTANCE_PATH"] = instance
    os.environ["TRELLIS_SCHEDULER"] = "off"
    from trellis.platform import create_app

    app = create_app()
    with app.app_context(), app.extensions["trellis.sessions"]() as s:
        loan, batch = _loan_and_batch(s)
    print("-" if loan is None else loan, "-" if batch is None else batch)


def prepare(source: str, target: str, documents: int | None = None) -> tuple[int, int]:
    """Copy *source* to *target* (unless it exists) and make the loan and the batch;
    *documents*: anchor only that many of the documents waiting (``anchor-now --limit``:
    on 10,003 firms all 1.5 million take the better part of an hour on a loaded machine)."""
    if not Path(target).exists():
        shutil.copytree(source, target)
    loan, batch = prepared(target)
    if loan is None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, str(Path(__file__)), "--borrow", target], env=env,
                       cwd=str(ROOT), check=True)
        trellis(target, "ledger", "disburse")
    if batch is None:
        trellis(target, "chain", "anchor-now", *(["--limit", str(documents)] if documents else []))
    loan, batch = prepared(target)
    if loan is None or batch is None:
        raise SystemExit(f"{target}: no loan of the demo vendor ({loan}) or batch ({batch})")
    return loan, batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instance", help="the seeded instance (not changed)")
    parser.add_argument("--to", help="the copy to prepare (used as it is if prepared)")
    parser.add_argument("--documents", type=int, default=None,
                        help="anchor only this many documents (default: every one waiting)")
    parser.add_argument("--borrow", help=argparse.SUPPRESS)  # step 1-2 in its own process
    args = parser.parse_args()
    if args.borrow:
        print(f"loan {borrow(args.borrow)}")
        return
    if not (args.instance and args.to):
        parser.error("--instance and --to are required")
    loan, batch = prepare(args.instance, args.to, args.documents)
    print(f"{args.to}: loan {loan} of {VENDOR}, anchored batch {batch}")


if __name__ == "__main__":
    main()
