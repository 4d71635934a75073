"""Measure scoring and screens against the demo simulator's planted truth.

Defaulters are scored point in time: each one as of 30 days before its planted default,
against every other scorable vendor as of the same date, so no score sees the default it
is asked to predict. The AUC is over all (defaulter, non-defaulter) pairs compared on the
same date. Screens are measured as of the simulation's end: recall of the planted ring,
duplicate invoices, burst and shared identities, and the share of clean vendors flagged.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import numpy as np
from sqlmodel import Session

from trellis.scoring import features, frames, screens, service

logger = logging.getLogger(__name__)

LEAD_DAYS = 30
SCREENS = ("circular_trading", "duplicate_invoice", "unbacked_invoices", "sales_burst",
           "shared_phone", "shared_bank_account", "shared_address", "tax_contradiction",
           "paper_trade", "power_stopped")


def ranking(*, session: Session, cluster_id: int, truth, spec: dict,
            lead_days: int = LEAD_DAYS) -> dict:
    """Point-in-time AUC of *spec* for the planted defaulters of one cluster."""
    pairs = wins = 0.0
    found: list[tuple[str, float | None]] = []
    ranks: list[float] = []
    by_date: dict[date, list[str]] = {}
    for uscc, d in truth.default_dates.items():
        by_date.setdefault(d - timedelta(days=lead_days), []).append(uscc)
    latest = max(by_date)
    whole = frames.load(session=session, as_of=latest, cluster_id=cluster_id,
                        lookback_months=frames.LOOKBACK_MONTHS + 24)
    for as_of, usccs in sorted(by_date.items()):
        fr = frames.restrict(whole, as_of)
        results = service.score_frames(fr, spec)
        uid = dict(zip(fr.firms["uscc"], fr.firms["id"], strict=True))
        bad_ids = {uid[u] for u in truth.defaulters}
        scored = {r.firm_id: r for r in results if r.score is not None}
        goods = np.array([r.score for f, r in scored.items() if f not in bad_ids])
        for u in usccs:
            r = scored.get(uid[u])
            if r is None:
                # An unscorable defaulter counts as ranked in the middle (a tie).
                found.append((u, None))
                pairs += len(goods)
                wins += 0.5 * len(goods)
                continue
            # Lower score = riskier; a win is the defaulter scoring below a good firm.
            wins += float((goods > r.score).sum() + 0.5 * (goods == r.score).sum())
            pairs += len(goods)
            ranks.append(float((goods <= r.score).mean()))
            found.append((u, r.score))
    return {"auc": wins / pairs if pairs else float("nan"), "defaulters": len(found),
            "unscorable": sum(1 for _, s in found if s is None),
            "median_percentile": float(np.median(ranks)) if ranks else float("nan")}


def screening(*, session: Session, cluster_id: int, truth, as_of: date) -> dict:
    """Recall of each planted fraud and the false-flag rate among clean vendors."""
    fr = frames.load(session=session, as_of=as_of, cluster_id=cluster_id)

    X = features.compute(fr)
    uid = dict(zip(fr.firms["uscc"], fr.firms["id"], strict=True))
    applied = {uid[u]: d for u, d in truth.burst.items()}
    flags = screens.run(fr, X, fr.scope, applied)
    codes = {f: {x.code for x in fl} for f, fl in flags.items()}
    ring = [uid[u] for u in truth.ring]
    dups = [(uid[a[0]], a[1], b[1]) for a, b in truth.duplicate_invoices]
    dup_hit = 0
    for seller, n1, n2 in dups:
        for fl in flags.get(seller, []):
            if fl.code == "duplicate_invoice" and {n1, n2} <= {
                    i["invoice"] for i in fl.evidence["invoices"]}:
                dup_hit += 1
                break
    groups = ([("shared_phone", g) for g in truth.shared_phone]
              + [("shared_bank_account", g) for g in truth.shared_bank_account]
              + [("shared_address", g) for g in truth.shared_address])
    ident_total = sum(len(g) for _, g in groups)
    ident_hit = sum(1 for code, g in groups for u in g if code in codes.get(uid[u], set()))
    planted = (set(truth.ring) | {a[0] for a, _ in truth.duplicate_invoices}
               | set(truth.burst) | {u for _, g in groups for u in g})
    clean = [uid[u] for u in uid if u not in planted and u not in truth.anchors]
    false_flags = [f for f in clean if f in flags]
    by_screen = {code: sum(1 for f in clean if code in codes.get(f, ())) / len(clean)
                 for code in SCREENS} if clean else {}
    return {
        "ring_recall": sum(1 for f in ring if "circular_trading" in codes.get(f, ())) / len(ring),
        "duplicate_recall": dup_hit / len(dups) if dups else float("nan"),
        "burst_recall": (sum(1 for f in applied if "sales_burst" in codes.get(f, ()))
                         / len(applied)) if applied else float("nan"),
        "identity_recall": ident_hit / ident_total if ident_total else float("nan"),
        "clean_vendors": len(clean), "clean_flagged": len(false_flags),
        "false_flag_rate": len(false_flags) / len(clean) if clean else float("nan"),
        "false_flag_codes": sorted({c for f in false_flags for c in codes[f]}),
        "false_flag_by_screen": by_screen,
    }
