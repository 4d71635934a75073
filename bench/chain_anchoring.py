"""Benchmark: the first anchoring of many documents on a real anvil node (issue 18).

N documents (default 46,930, the demo's count) are queued, then anchored from scratch:

- **Trellis**: one ``anchor_all`` run as the ``anchor_pending`` job does it (batches cut,
  each transaction recorded and sent, receipts looked for once per run, not per batch);
- **baseline**, in the same run on the same node (a fresh registry and database): the
  same batches sent one at a time, waiting for each receipt before the next.

It prints seconds and documents per second for both, and checks every root is anchored.

    .venv/bin/python bench/chain_anchoring.py
    .venv/bin/python bench/chain_anchoring.py --documents 5000
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bench.chain_gas import KEY, start_anvil  # noqa: E402
from trellis import db, migrate  # noqa: E402
from trellis.accounts.models import utcnow  # noqa: E402
from trellis.chain import anchoring, client, jobs  # noqa: E402
from trellis.chain.models import Batch, BatchState, Document  # noqa: E402
from trellis.config import Settings  # noqa: E402
from trellis.db import transaction  # noqa: E402


def fresh(url_dir: Path, name: str, chain_url: str, n: int):
    url = f"sqlite:///{url_dir / name}.db"
    migrate.upgrade(url)
    factory = db.make_sessionmaker(db.make_engine(url))
    now = utcnow()
    rows = []
    for i in range(n):
        canonical = f'{{"amount_fen":{i},"doc":"{name}-{i}"}}'
        rows.append({"doc_type": "ledger_entry", "doc_id": f"{name}-{i}",
                     "canonical": canonical,
                     "content_hash": hashlib.sha256(canonical.encode()).hexdigest(),
                     "salt": secrets.token_hex(32), "status": "queued", "created_at": now})
    with transaction(factory) as s:
        s.execute(insert(Document), rows)
    contract = client.Chain.connect(Settings(chain_url=chain_url, chain_key=KEY)).deploy()
    settings = Settings(database_url=url, chain_url=chain_url, chain_key=KEY,
                        chain_contract=contract, batch_max_documents=256,
                        batch_max_wait_seconds=0, fingerprint_key="bench")
    return factory, settings


def check(factory, settings) -> int:
    chain = client.get_chain(settings)
    with transaction(factory) as s:
        batches = list(s.scalars(select(Batch)))
    found = chain.anchored_at_many([b.root for b in batches])
    assert all(found), "a root is not anchored"
    return len(batches)


def baseline(factory, settings) -> float:
    """Cut everything, then one batch at a time: sign, send, wait for the receipt."""
    started = time.perf_counter()
    while True:
        with transaction(factory) as s:
            if anchoring.cut_batch(session=s, settings=settings) is None:
                break
    chain = client.get_chain(settings)
    chain.check()
    with transaction(factory) as s:
        ids = list(s.scalars(select(Batch.id).where(Batch.state == BatchState.PENDING)))
    for batch_id in ids:
        with transaction(factory) as s:
            tx = anchoring.prepare(session=s, chain=chain, batch=s.get(Batch, batch_id))
        with transaction(factory) as s:
            anchoring.send(session=s, chain=chain, batch=s.get(Batch, batch_id))
        receipt = chain.wait(tx.tx_hash)
        with transaction(factory) as s:
            anchoring.track(session=s, chain=chain, batch=s.get(Batch, batch_id),
                            settings=settings, head=receipt.block_number)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=46_930)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_anvil(Path(tmp) / "state.json")
        try:
            base_f, base_s = fresh(Path(tmp), "base", url, args.documents)
            ours_f, ours_s = fresh(Path(tmp), "ours", url, args.documents)
            base_t = baseline(base_f, base_s)
            n_base = check(base_f, base_s)
            started = time.perf_counter()
            jobs.anchor_all(session_factory=ours_f, settings=ours_s)
            while True:  # receipts anchor_all left: one tracking pass at a time
                with transaction(ours_f) as s:
                    waiting = list(s.scalars(select(Batch.id).where(
                        Batch.state.in_([BatchState.PENDING, BatchState.SUBMITTED]))))
                if not waiting:
                    break
                jobs.track_all(session_factory=ours_f, settings=ours_s)
            ours_t = time.perf_counter() - started
            n_ours = check(ours_f, ours_s)
        finally:
            proc.terminate()
            proc.wait()
    print(f"first anchoring of {args.documents:,} documents on anvil")
    print(f"  Trellis (anchor_pending + tracking) {ours_t:7.2f} s  {n_ours} batches  "
          f"{args.documents / ours_t:9,.0f} documents/s")
    print(f"  baseline (one receipt at a time)    {base_t:7.2f} s  {n_base} batches  "
          f"{args.documents / base_t:9,.0f} documents/s")
    print(f"  speed-up {base_t / ours_t:.2f}x (both include cutting the batches)")


if __name__ == "__main__":
    main()
