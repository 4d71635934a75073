"""The scorecard as data: bins, log-odds per bin, scaling and grade cut-offs; and applying it.

A scorecard document (JSON, ``format = "trellis-scorecard/1"``)::

    {"format": "trellis-scorecard/1", "version": "expert-2026.11", "kind": "expert",
     "name": "...", "intercept": 2.4,                 # ln(good:bad odds) before any bin
     "scaling": {"base_score": 600, "base_odds": 20, "pdo": 50, "offset": 383.9,
                 "range": [300, 900]},            # optional: scores held to this range
     "characteristics": [
        {"name": "own_late_days_12m", "type": "numeric", "label_en": ..., "label_zh": ...,
         "reason_en": ..., "reason_zh": ..., "why": "the expert's reason",
         "splits": [5, 15, 30],                       # bins (-inf,5) [5,15) [15,30) [30,inf)
         "bins": [{"logodds": 0.3}, {"logodds": 0.1}, {"logodds": -0.3}, {"logodds": -0.8}],
         "missing": {"logodds": 0.0, "neutral": true},
         "reference_shares": [...]},                  # training shares per bin (+ missing)
        {"name": "industry", "type": "categorical", "groups": [["a", "b"], ["c"]],
         "bins": [...], "missing": {...}, "other": {...}}],
     "grades": [{"grade": "A", "max_pd": 0.01}, ..., {"grade": "E", "max_pd": 1.0}],
     "reference_scores": {"edges": [...], "shares": [...]}}

Scoring: ln(odds) = intercept + sum of the firm's bins' log-odds; then
``score = offset + (PDO / ln 2) x ln(odds)`` with ``offset = base_score - (PDO / ln 2) x
ln(base_odds)``, and ``PD = 1 / (1 + odds)``. A bin's points are ``(PDO / ln 2) x logodds``.
The configured ``range`` (optional) holds the score, never the PD: a firm beyond either end
gets the end's score, its PD and grade unchanged.
The reason codes are the characteristics where the firm lost most points against the best
bin of that characteristic; a bin marked ``neutral`` (a missing tax filing) is never a
reason.

Every card is subject to the lender's policy rules (:mod:`trellis.scoring.policy`): a firm
behind on a loan from Trellis is held at the best score of the grade the rule allows (its
log-odds capped before the score, PD and grade are derived), and the rule's reason comes
first among its reasons.
"""

from __future__ import annotations

import copy
import json
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from trellis import safejson
from trellis.messages import N_, msg
from trellis.scoring import policy
from trellis.scoring.errors import InvalidScorecard
from trellis.scoring.result import Reason

FORMAT = "trellis-scorecard/1"
GRADES = ("A", "B", "C", "D", "E")
TOP_REASONS = 4


def factor(spec: dict) -> float:
    """Points per doubling of the odds divided by ln 2: the scale that turns
    log-odds into points."""
    return float(spec["scaling"]["pdo"]) / math.log(2)


def offset(spec: dict) -> float:
    """The score at odds of 1 to 1 (base score minus factor times ln of the base odds)."""
    s = spec["scaling"]
    return float(s["base_score"]) - factor(spec) * math.log(float(s["base_odds"]))


def score_range(spec: dict) -> tuple[float, float] | None:
    """The configured (lowest, highest) score of *spec*, or None when it has none."""
    r = spec["scaling"].get("range")
    return (float(r[0]), float(r[1])) if r is not None else None


def score_for_pd(spec: dict, pd_: float) -> float:
    """The score of probability of default *pd_* (0 < pd_ < 1) under the card's scaling."""
    return offset(spec) + factor(spec) * math.log((1 - pd_) / pd_)


def validate(spec: dict) -> dict:
    """Check a scorecard document; returns it with ``scaling.offset`` filled in.

    Raises :class:`InvalidScorecard` naming the part that is wrong.
    """
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise InvalidScorecard(msg(N_("Not a scorecard document (format must be %(format)s)."),
                                   format=FORMAT),
                               field="format")
    for key in ("version", "intercept", "scaling", "characteristics", "grades"):
        if key not in spec:
            raise InvalidScorecard(msg(N_("The scorecard has no %(key)s."), key=key), field=key)
    sc = spec["scaling"]
    for key in ("base_score", "base_odds", "pdo"):
        if not isinstance(sc.get(key), (int, float)) or sc[key] <= 0:
            raise InvalidScorecard(msg(N_("scaling.%(key)s must be a positive number."), key=key),
                                   field=f"scaling.{key}")
    if "range" in sc:
        r = sc["range"]
        if (not isinstance(r, (list, tuple)) or len(r) != 2
                or not all(isinstance(x, (int, float)) and math.isfinite(x) for x in r)
                or r[0] >= r[1]):
            raise InvalidScorecard(N_("scaling.range must be two numbers, the lowest score "
                                      "below the highest."), field="scaling.range")
    names = set()
    if spec.get("family") == "gbm":
        from trellis.scoring import boosting  # cycle: the families build on this module

        boosting.validate_model(spec)
    elif spec.get("family") == "blend":
        from trellis.scoring import blend  # cycle: as above

        blend.validate_model(spec)
    for i, ch in enumerate(spec["characteristics"]):
        where = f"characteristics[{i}]"
        name = ch.get("name")
        if not name or name in names:
            raise InvalidScorecard(msg(N_("%(where)s needs a unique name."),
                                       where=where), field=where)
        names.add(name)
        if ch.get("type") == "numeric":
            splits = ch.get("splits", [])
            if list(splits) != sorted(splits) or len(ch.get("bins", [])) != len(splits) + 1:
                raise InvalidScorecard(msg(N_("%(name)s: splits must ascend and there must be "
                                              "one bin more than splits."), name=name), field=where)
        elif ch.get("type") == "categorical":
            if len(ch.get("bins", [])) != len(ch.get("groups", [])):
                raise InvalidScorecard(msg(N_("%(name)s: one bin per group of categories."),
                                           name=name),
                                       field=where)
        else:
            raise InvalidScorecard(msg(N_("%(name)s: type must be numeric or categorical."),
                                       name=name),
                                   field=where)
        for b in ch["bins"] + [ch.get("missing", {"logodds": 0.0})]:
            if not isinstance(b.get("logodds"), (int, float)) or not math.isfinite(b["logodds"]):
                raise InvalidScorecard(msg(N_("%(name)s: every bin needs a finite logodds."),
                                           name=name), field=where)
    grades = [g.get("grade") for g in spec["grades"]]
    if grades != list(GRADES):
        raise InvalidScorecard(N_("grades must be A, B, C, D, E in that order."), field="grades")
    max_pds = [g.get("max_pd") for g in spec["grades"]]
    if any(not isinstance(p, (int, float)) for p in max_pds) or max_pds != sorted(max_pds) \
            or max_pds[-1] < 1.0:
        raise InvalidScorecard(N_("grades need ascending max_pd ending at 1."), field="grades")
    out = copy.deepcopy(spec)
    out["scaling"]["offset"] = round(offset(out), 4)
    for g in out["grades"]:
        g["min_score"] = (None if g["max_pd"] >= 1.0
                          else int(math.ceil(score_for_pd(out, g["max_pd"]))))
    return out


def bin_index(ch: dict, values: pd.Series) -> np.ndarray:
    """Bin of each value: 0..n-1 for the bins, -1 missing, -2 unseen category."""
    if ch["type"] == "numeric":
        v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        idx = np.digitize(v, np.asarray(ch["splits"], dtype=float), right=False)
        return np.where(np.isnan(v), -1, idx)
    lookup = {str(c): i for i, group in enumerate(ch["groups"]) for c in group}
    vals = values.astype("object")
    missing = vals.isna().to_numpy()
    idx = vals.map(lambda x: lookup.get(str(x), -2)).to_numpy(dtype=int)
    return np.where(missing, -1, idx)


def _logodds_table(ch: dict) -> tuple[np.ndarray, float, float]:
    bins = np.asarray([b["logodds"] for b in ch["bins"]], dtype=float)
    missing = float(ch.get("missing", {}).get("logodds", 0.0))
    other = float(ch.get("other", {}).get("logodds", 0.0))
    return bins, missing, other


def contributions(spec: dict, X: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(log-odds per firm and characteristic, bin index per firm and characteristic)."""
    lo, idx = {}, {}
    for ch in spec["characteristics"]:
        col = X[ch["name"]] if ch["name"] in X else pd.Series(np.nan, index=X.index)
        i = bin_index(ch, col)
        bins, missing, other = _logodds_table(ch)
        lo[ch["name"]] = np.where(i >= 0, bins[np.clip(i, 0, len(bins) - 1)],
                                  np.where(i == -1, missing, other))
        idx[ch["name"]] = i
    return pd.DataFrame(lo, index=X.index), pd.DataFrame(idx, index=X.index)


@dataclass
class Scored:
    """Vectorised scores of many firms."""

    logodds: pd.Series
    score: pd.Series
    pd: pd.Series
    grade: pd.Series
    points: pd.DataFrame
    bins: pd.DataFrame
    # per firm the reason of the policy rule that applies to it (None: none applies)
    policy: pd.Series | None = None


#: (card version, names) -> reads_any's answer. A version's document never changes
#: (versions are immutable, like :func:`trellis.scoring.service.reproduce` assumes), and
#: the answer took a dump of the whole document on every scoring (a boosted card's model
#: text included): kept per version instead. Few versions ever exist: no bound needed
#: beyond :data:`_READS_KEPT`.
_READS: dict[tuple[str, tuple[str, ...]], bool] = {}
_READS_KEPT = 256
_reads_lock = threading.Lock()


def reads_any(spec: dict, names: Iterable[str]) -> bool:
    """Whether the card *spec* reads any feature of *names* (a characteristic's, a model's
    column or member's): found as a JSON string anywhere in the spec. Kept per card
    version (a spec without a version is read every time)."""
    wanted = tuple(names)
    version = spec.get("version")
    key = (version, wanted) if isinstance(version, str) and version else None
    if key is not None:
        with _reads_lock:
            hit = _READS.get(key)
        if hit is not None:
            return hit
    text = json.dumps(spec, ensure_ascii=False)
    found = any(json.dumps(name, ensure_ascii=False) in text for name in wanted)
    if key is not None:
        with _reads_lock:
            if len(_READS) >= _READS_KEPT:
                _READS.clear()
            _READS[key] = found
    return found


def is_gbm(spec: dict) -> bool:
    """True for a gradient-boosted card (family "gbm"), False for a points scorecard."""
    return spec.get("family") == "gbm"


def is_model(spec: dict) -> bool:
    """A card scored by a model held in ``spec["model"]`` (boosted trees or a blend),
    explained by per-feature contributions rather than bins."""
    return spec.get("family") in ("gbm", "blend")


def apply(spec: dict, X: pd.DataFrame) -> Scored:
    """Score every row of *X* (one column per characteristic; NaN is missing)."""
    if is_model(spec):
        from trellis.scoring import blend, boosting  # cycle: as in validate

        lo, rest = (boosting if is_gbm(spec) else blend).contributions(spec, X)
        idx = pd.DataFrame(0, index=X.index, columns=lo.columns)
        total = rest + lo.sum(axis=1)
    else:
        lo, idx = contributions(spec, X)
        total = float(spec["intercept"]) + lo.sum(axis=1)
    f = factor(spec)
    # The lender's own book before the card: a firm behind on a Trellis loan is held at
    # the best score of the grade the rule allows (trellis.scoring.policy).
    ceiling, rule_of, value = policy.ceilings(spec, X)
    lost = f * (total.to_numpy() - ceiling)
    total = pd.Series(np.minimum(total.to_numpy(), ceiling), index=X.index)
    ruled = pd.Series([None if r is None else policy.reason(r, float(value[i]), float(lost[i]))
                       for i, r in enumerate(rule_of)], index=X.index, dtype=object)
    raw = offset(spec) + f * total
    held = score_range(spec)
    if held is not None:
        raw = raw.clip(held[0], held[1])
    score = raw.round().astype("int64")
    pd_ = 1.0 / (1.0 + np.exp(total))
    edges = [g["max_pd"] for g in spec["grades"]]
    grade_idx = np.searchsorted(np.asarray(edges[:-1]), pd_.to_numpy(), side="left")
    grade = pd.Series(np.asarray(GRADES)[grade_idx], index=X.index)
    return Scored(logodds=total, score=score, pd=pd_, grade=grade, points=lo * f, bins=idx,
                  policy=ruled)


def max_points(spec: dict) -> dict[str, float]:
    """The most points each characteristic can give (by name), missing values counted unless
    neutral."""
    f = factor(spec)
    out = {}
    for ch in spec["characteristics"]:
        bins, missing, other = _logodds_table(ch)
        out[ch["name"]] = f * max(bins.max(), missing if not ch.get("missing", {}).get(
            "neutral") else -np.inf)
    return out


def _gbm_reasons(spec: dict, points: pd.DataFrame, k: int) -> dict:
    """Reasons of a boosted or blended card: the features whose contribution lowered the
    firm's good:bad odds the most (exact TreeSHAP contributions, or for a blend the
    weighted sum of its members' contributions, in points)."""
    from trellis.scoring import boosting  # cycle: as in validate

    names = list(points.columns)
    lost = np.where(-points.to_numpy() >= 0.5, -points.to_numpy(), 0.0)
    order = np.argsort(-lost, axis=1, kind="stable")[:, :k]
    texts = [boosting.reason_text(spec, n) for n in names]
    out = {}
    for row, fid in enumerate(points.index):
        out[fid] = [Reason(code=names[j], en=texts[j][0], zh=texts[j][1],
                           points_lost=int(round(lost[row, j])))
                    for j in order[row] if lost[row, j] > 0]
    return out


def breakdown(spec: dict, points: pd.Series, bins: pd.Series) -> list[dict]:
    """One firm's points characteristic by characteristic, as its risk page shows them
    and its reasons count them: ``{"name", "points", "best", "lost", "best_band"}``,
    whole points (``best_band``: :func:`best_band`).

    ``points`` is what the characteristic gave the firm and ``best`` the most it can give
    (:func:`max_points`), each rounded to a whole point; ``lost`` is ``best - points``
    of those whole points (what a clerk computes from the page, as the page defines it:
    reader 13, J9 read "0 | 12 | 0" on a missing value), the figure a reason states.
    ``missing`` is True for a neutral missing value: its points short of the best are
    shown but it is never a reason (its points are 0, an ordinary firm's). A boosted or
    blended card has no bins: ``best`` is 0 and ``lost`` the points a feature took away."""
    if is_model(spec):
        return [{"name": name, "points": int(round(float(v))), "best": 0,
                 "lost": max(0, -int(round(float(v)))), "best_band": None, "missing": False}
                for name, v in points.items()]
    best = max_points(spec)
    out = []
    for ch in spec["characteristics"]:
        name = ch["name"]
        got, top = int(round(float(points[name]))), int(round(best[name]))
        neutral = int(bins[name]) == -1 and bool(ch.get("missing", {}).get("neutral"))
        out.append({"name": name, "points": got, "best": top, "lost": max(0, top - got),
                    "best_band": best_band(ch), "missing": neutral})
    return out


def best_band(ch: dict) -> tuple[float | None, float | None] | None:
    """The values for which numeric characteristic *ch* gives its most points, as
    (from, below): ``from`` inclusive or None (no lower bound), ``below`` exclusive or
    None; None for a categorical characteristic or when the most points come only from
    a missing value. A clerk reads "0 of 29" beside a rising headcount as a penalty
    unless the page says what earns the 29 (reader 12, G10)."""
    if ch.get("type") != "numeric" or not ch.get("bins"):
        return None
    odds = [float(b["logodds"]) for b in ch["bins"]]
    i = int(np.argmax(odds))
    splits = [float(x) for x in ch.get("splits", [])]
    if len(splits) != len(odds) - 1:
        return None
    return (splits[i - 1] if i > 0 else None, splits[i] if i < len(splits) else None)


def reasons(spec: dict, points: pd.Series, bins: pd.Series, k: int = TOP_REASONS,
            ruled: Reason | None = None) -> list[Reason]:
    """The *k* characteristics where this firm lost most points, most first, ties in the
    card's order (the ``lost`` of :func:`breakdown`, the figures the risk page shows); a
    policy rule's reason *ruled* (``Scored.policy``) before them.

    Only characteristics that count against the firm are reasons: those whose points are
    below 0, an ordinary firm's (the expert card's neutral band; a trained card's average,
    where the weight of evidence is 0). A reason's words name a weakness ("it has cut
    staff"); a firm whose staff grew 4% lost points against the best band (growth of 5% or
    more) but has no such weakness, and is not told it has."""
    first = [] if ruled is None else [ruled]
    if is_model(spec):
        return first + _gbm_reasons(spec, points.to_frame().T, k)[points.name]
    by_name = {ch["name"]: ch for ch in spec["characteristics"]}
    rows = sorted((r for r in breakdown(spec, points, bins)
                   if r["lost"] > 0 and r["points"] < 0 and not r["missing"]),
                  key=lambda r: -r["lost"])
    return first + [Reason(code=by_name[r["name"]].get("reason_code", r["name"]),
                   en=by_name[r["name"]]["reason_en"], zh=by_name[r["name"]]["reason_zh"],
                   points_lost=r["lost"]) for r in rows[:k]]


def all_reasons(spec: dict, scored: Scored, k: int = TOP_REASONS) -> dict:
    """:func:`reasons` for every firm of *scored* at once (vectorised, the same whole
    points as :func:`breakdown`), a policy rule's reason first."""
    out = _all_reasons(spec, scored, k)
    if scored.policy is not None:
        for fid, r in scored.policy.items():
            if r is not None:
                out[fid] = [r, *out[fid]]
    return out


def _all_reasons(spec: dict, scored: Scored, k: int) -> dict:
    if is_model(spec):
        return _gbm_reasons(spec, scored.points, k)
    best = max_points(spec)
    chars = spec["characteristics"]
    names = [c["name"] for c in chars]
    lost = np.column_stack([np.round(best[n]) - np.round(scored.points[n].to_numpy())
                            for n in names]) \
        if names else np.zeros((len(scored.points), 0))
    neutral_missing = np.column_stack([
        (scored.bins[c["name"]].to_numpy() == -1) & bool(c.get("missing", {}).get("neutral"))
        for c in chars]) if names else lost.astype(bool)
    # a reason says what counts against the firm ("it has cut staff"): a characteristic
    # whose points are not below an ordinary firm's (0) is not one, however far below its
    # best band it is (staff up 4% is short of the best band, not a cut)
    against = np.column_stack([np.round(scored.points[n].to_numpy()) < 0 for n in names]) \
        if names else lost.astype(bool)
    lost = np.where(neutral_missing | (lost < 1) | ~against, 0.0, lost)
    order = np.argsort(-lost, axis=1, kind="stable")[:, :k]
    gaps = np.take_along_axis(lost, order, axis=1)
    # A reason is a frozen value: one per (characteristic, points lost), shared by the
    # firms that lost the same whole points on it.
    made: dict[tuple[int, float], Reason] = {}
    out = {}
    for fid, js, row_gaps in zip(scored.points.index, order.tolist(), gaps.tolist(),
                                 strict=True):
        items = []
        for j, gap in zip(js, row_gaps, strict=True):
            if gap <= 0:
                break
            reason = made.get((j, gap))
            if reason is None:
                ch = chars[j]
                reason = made[(j, gap)] = Reason(
                    code=ch.get("reason_code", ch["name"]), en=ch["reason_en"],
                    zh=ch["reason_zh"], points_lost=int(gap))
            items.append(reason)
        out[fid] = items
    return out


def to_decimal_pd(p: float) -> Decimal:
    """Probability *p* (0 to 1) as a Decimal rounded to six places, as results store it."""
    return Decimal(str(round(float(p), 6)))


def scorecard_table(spec: dict) -> list[dict]:
    """Rows for display: characteristic, bin label, points (rounded)."""
    f = factor(spec)
    rows = []
    for ch in spec["characteristics"]:
        labels = bin_labels(ch)
        for label, b in zip(labels, ch["bins"], strict=True):
            rows.append({"characteristic": ch["name"], "label_en": ch.get("label_en", ""),
                         "label_zh": ch.get("label_zh", ""), "bin": label,
                         "points": int(round(f * b["logodds"])), "why": b.get("why", "")})
        m = ch.get("missing", {"logodds": 0.0})
        rows.append({"characteristic": ch["name"], "label_en": ch.get("label_en", ""),
                     "label_zh": ch.get("label_zh", ""), "bin": "missing",
                     "points": int(round(f * m["logodds"])), "why": m.get("why", "")})
    return rows


def bin_labels(ch: dict) -> list[str]:
    """A label per bin of characteristic *ch*: its groups of categories, or its numeric ranges."""
    if ch["type"] == "categorical":
        return [", ".join(map(str, g)) for g in ch["groups"]]
    s = ch["splits"]
    if not s:
        return ["all"]
    fmt = lambda x: f"{x:g}"  # noqa: E731
    return ([f"< {fmt(s[0])}"] + [f"[{fmt(a)}, {fmt(b)})" for a, b in zip(s, s[1:], strict=False)]
            + [f">= {fmt(s[-1])}"])


def dumps(spec: dict) -> str:
    """The scorecard document as indented JSON text (non-ASCII kept, key order kept)."""
    return json.dumps(spec, ensure_ascii=False, indent=2, sort_keys=False)


def loads(text: str) -> dict:
    """The scorecard document in JSON *text*, validated; raises InvalidScorecard for bad JSON or
    content."""
    try:
        spec = safejson.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidScorecard(msg(N_("The scorecard file is not valid JSON (line %(lineno)s)."),
                                   lineno=exc.lineno, detail=exc.msg), field="file") from None
    except ValueError as exc:   # nested too deep
        raise InvalidScorecard(msg(N_("The scorecard file is not valid JSON."), detail=str(exc)),
                               field="file") from None
    return validate(spec)
