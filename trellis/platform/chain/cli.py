"""Commands of the chain area: ``trellis verify``, ``trellis proof``, ``trellis audit`` and
the ``trellis chain`` group (``status``, ``deploy``, ``anchor-now``, ``track``).

``trellis verify`` needs no database and no application: it reads the bundle file and
asks the node given by ``--rpc`` (default ``TRELLIS_CHAIN_URL``).

Every command that claims anchoring says on which chain, as the pages' footer does: a
``chain:`` line (and ``chain_scope`` in ``--json``) with the claim of
:mod:`trellis.chain.scope` in the deployment's language.
"""

from __future__ import annotations

import json
import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from trellis.chain import trust
from trellis.chain.models import Batch, Document
from trellis.errors import TrellisError
from trellis.ledger.anchoring import anchored_problems
from trellis.platform.cli import said
from trellis.platform.web import db, settings


def _fail(exc: TrellisError):
    raise click.ClickException(said(exc))


def _scope() -> dict:
    """This instance's chain scope: the machine-readable fields and the claim in words."""
    from trellis.chain import scope as chain_scope
    from trellis.platform.chain.words import found_scope

    found = found_scope(settings(), db())
    return chain_scope.as_dict(found) | {"claim": said(chain_scope.claim(found))}


def _scope_line() -> str:
    return f"chain: {_scope()['claim']}"


@click.command("verify")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False))
@click.option("--document", type=click.Path(exists=True, dir_okay=False),
              help="The original document file (checked beside the text inside the bundle).")
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False),
              help="The batch's manifest (tree.json): checked against the anchored hash.")
@click.option("--rpc", default=lambda: os.environ.get("TRELLIS_CHAIN_URL") or None,
              help="JSON-RPC URL of a node (default: TRELLIS_CHAIN_URL).")
@click.option("--contract", "contracts", multiple=True, metavar="ADDRESS",
              help="A registry contract you trust (repeatable).")
@click.option("--anchorer", "anchorers", multiple=True, metavar="ADDRESS",
              help="An anchoring account you trust for those contracts (repeatable; "
                   "without it, any submitter the registry authorised).")
@click.option("--chain-id", type=int, default=None,
              help="Trust the --contract addresses on this chain only.")
@click.option("--trusted", "trusted", multiple=True,
              type=click.Path(exists=True, dir_okay=False),
              help="A published list of trusted registries (`trellis chain trusted`).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify_command(bundle, document, manifest, rpc, contracts, anchorers, chain_id, trusted,
                   as_json):
    """Check a proof BUNDLE without any database: every field of the bundle against the
    document and the chain, the registry and anchoring account against those you trust.
    Exit status 0 only when all hold (1: a check failed; 2: one could not be made)."""
    # Late: reaches web3 (trellis.chain.client); other commands start without it.
    from trellis.chain.verify import run_cli

    sys.exit(run_cli(bundle, document, rpc, as_json=as_json, echo=click.echo,
                     contracts=contracts, anchorers=anchorers, chain_id=chain_id,
                     trusted=trusted, manifest_path=manifest, say=said))


@click.command("proof")
@click.argument("document_id")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write the proof bundle (JSON).")
@click.option("--document-out", type=click.Path(dir_okay=False, writable=True),
              help="Also write the canonical document (its sha256sum is the content hash).")
@click.option("--manifest-out", type=click.Path(dir_okay=False, writable=True),
              help="Also write the batch's manifest (tree.json; its SHA-256 is anchored).")
@with_appcontext
def proof_command(document_id, out, document_out, manifest_out):
    """Write the proof bundle of DOCUMENT_ID (a number, or TYPE/ID such as invoice/42)."""
    # Late: reaches web3 (trellis.chain.client); other commands start without it.
    from trellis.chain import bundles

    try:
        doc = bundles.find_document(session=db(), ref=document_id)
        bundle = bundles.make_bundle(session=db(), document=doc, settings=settings())
    except TrellisError as exc:
        _fail(exc)
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(bundles.dumps(bundle))
    if document_out:
        with open(document_out, "wb") as fh:
            fh.write(doc.canonical.encode("utf-8"))
    if manifest_out:
        # Late: reaches web3 (trellis.chain.client); other commands start without it.
        from trellis.chain.anchoring import batch_tree

        with open(manifest_out, "w", encoding="utf-8") as fh:
            fh.write(batch_tree(session=db(), batch_id=doc.batch_id).dump_json())
    click.echo(f"wrote {out} for {doc.doc_type} {doc.doc_id} (document {doc.id}, batch "
               f"{doc.batch_id}, block {bundle['anchor']['block_number']}); check it with "
               "`trellis verify` and the list of `trellis chain trusted`")
    click.echo(_scope_line())


@click.command("audit")
@click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="First day (YYYY-MM-DD) of documents committed.")
@click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Last day (YYYY-MM-DD), inclusive.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True),
              help="Also write the discrepancies as CSV.")
@with_appcontext
def audit_command(date_from, date_to, as_json, csv_path):
    """Re-hash every anchored record of the period from the database and check it against
    its leaf and the chain. Exit status 1 when any discrepancy is found."""
    # Late: reaches web3 (trellis.chain.client); other commands start without it.
    from trellis.chain import audit
    from trellis.chain.client import get_chain

    try:
        chain = get_chain(settings())
    except TrellisError as exc:
        click.echo(f"warning: no chain checks: {said(exc)}", err=True)
        chain = None
    report = audit.run_audit(session=db(), date_from=date_from.date(),
                             date_to=date_to.date(), chain=chain)
    # the journal against the entries anchored on chain (names the first that differs)

    ledger = anchored_problems(session=db(), chain=chain)
    if csv_path:
        with open(csv_path, "w", encoding="utf-8", newline="") as fh:
            fh.write(report.to_csv())
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "ledger": ledger,
                               "chain_scope": _scope()}, ensure_ascii=False, indent=2))
    else:
        click.echo(_scope_line())
        click.echo(f"{report.documents} documents in {report.batches} batches checked "
                   f"({report.from_source} re-read from their rows, {report.record_only} "
                   f"against the stored record); "
                   f"{report.not_yet_anchored + report.queued} waiting to be anchored, "
                   "not verified")
        for d in report.discrepancies:
            click.echo(f"  {d['kind']:15} batch {d['batch_id']} {d['doc_type'] or ''} "
                       f"{d['doc_id'] or ''}: {d['detail']}")
        for problem in ledger:
            click.echo(f"  {'ledger':15} {problem}")
        click.echo("no discrepancies" if report.ok and not ledger else
                   f"{len(report.discrepancies) + len(ledger)} discrepancies")
    sys.exit(0 if report.ok and not ledger else 1)


@click.group("chain")
def chain_group():
    """The Ethereum anchoring: status, deployment, anchoring now."""


@chain_group.command("status")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=50, show_default=True, help="Latest batches to list.")
@click.option("--documents/--no-documents", default=True, show_default=True,
              help="List each batch's documents.")
@with_appcontext
def status_command(as_json, limit, documents):
    """The chain's health, and the latest batches with their states and documents."""
    # Late: reaches web3 (trellis.chain.client); other commands start without it.
    from trellis.chain import health

    state = health.status(settings(), session=db())
    rows = list(db().scalars(select(Batch).order_by(Batch.id.desc()).limit(limit)))
    docs: dict[int, list] = {}
    if documents and rows:
        for d in db().scalars(select(Document).where(Document.batch_id.in_(
                [b.id for b in rows])).order_by(Document.id)):
            docs.setdefault(d.batch_id, []).append(
                {"id": d.id, "doc_type": d.doc_type, "doc_id": d.doc_id,
                 "content_hash": d.content_hash})
    batches = [{"id": b.id, "state": b.state, "root": b.root, "leaf_count": b.leaf_count,
                "created_at": b.created_at.isoformat(timespec="seconds"),
                "tx_hash": b.tx_hash, "nonce": b.nonce, "block_number": b.block_number,
                "block_hash": b.block_hash, "confirmations": b.confirmations,
                "fee_wei": b.fee_wei, "anchor_count": b.anchor_count,
                "last_error": said(b.last_error) if b.last_error else None,
                **({"documents": docs.get(b.id, [])} if documents else {})}
               for b in rows]
    if as_json:
        click.echo(json.dumps({"health": state, "batches": batches,
                               "chain_scope": _scope()}, indent=2, ensure_ascii=False))
        return
    click.echo(_scope_line())
    click.echo(f"chain: {state['backend']} id {state['chain_id']} contract "
               f"{state['contract']} head {state['head_block']} "
               f"({'ok' if state['ok'] else 'NOT OK: ' + str(state['error'])})")
    click.echo(f"queue: {state.get('queue_length')} documents waiting")
    for b in batches:
        click.echo(f"  batch {b['id']:>5} {b['state']:10} {b['leaf_count']:>4} docs  block "
                   f"{b['block_number'] or '-':>8}  conf {b['confirmations']:>3}  "
                   f"{b['root']}")


@chain_group.command("trusted")
@click.option("--out", type=click.Path(dir_okay=False, writable=True),
              help="Write the list to this file (default: print it).")
@with_appcontext
def trusted_command(out):
    """Publish the registries this instance trusts: its own (chain id, contract, anchoring
    account) and those of TRELLIS_CHAIN_TRUSTED. Auditors pass the file to
    `trellis verify --trusted FILE`."""
    # Late: reaches web3 (trellis.chain.client); other commands start without it.
    from trellis.chain.client import get_chain

    try:
        text = trust.of_instance(get_chain(settings()), settings()).dumps()
    except TrellisError as exc:
        _fail(exc)
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text, nl=False)


@chain_group.command("deploy")
@with_appcontext
def deploy_command():
    """Deploy the registry contract to the configured node and print its address."""
    # Late: reaches web3 (trellis.chain.client); other commands start without it.
    from trellis.chain.client import Chain

    s = settings()
    if not s.chain_url:
        raise click.ClickException("set TRELLIS_CHAIN_URL (and TRELLIS_CHAIN_KEY): the "
                                   "embedded chain deploys its own registry")
    try:
        address = Chain.connect(s).deploy()
    except TrellisError as exc:
        _fail(exc)
    click.echo(address)
    click.echo(f"set TRELLIS_CHAIN_CONTRACT={address}", err=True)


@chain_group.command("anchor-now")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Collect at most this many new documents; the rest wait for the next run.")
@with_appcontext
def anchor_now_command(limit):
    """Collect documents, cut a batch of whatever waits, and anchor it at once."""
    # Late: reaches web3 (trellis.chain.client); other commands start without it.
    from trellis.chain import jobs

    factory = current_app.extensions["trellis.sessions"]
    try:
        n = jobs.anchor_all(session_factory=factory, settings=settings(), force=True,
                            collect_limit=limit)
        tracked = jobs.track_all(session_factory=factory, settings=settings())
    except TrellisError as exc:
        _fail(exc)
    click.echo(f"collected {n['collected']} documents, cut {n['batches_cut']} batches, sent "
               f"{n['sent']}; head block {tracked['head']}; batches: "
               + ", ".join(f"{k} {v}" for k, v in tracked["states"].items() if v))
    click.echo(_scope_line())
    if not settings().chain_url:
        click.echo("note: the embedded chain ends with this command; the roots are "
                   "re-anchored when Trellis next starts", err=True)


@chain_group.command("track")
@with_appcontext
def track_command():
    """Count confirmations, replace stuck transactions and heal reorgs now."""
    # Late: reaches web3 (trellis.chain.client); other commands start without it.
    from trellis.chain import jobs

    try:
        click.echo(jobs.track_confirmations(
            session_factory=current_app.extensions["trellis.sessions"], settings=settings()))
    except TrellisError as exc:
        _fail(exc)


commands = [verify_command, proof_command, audit_command, chain_group]
