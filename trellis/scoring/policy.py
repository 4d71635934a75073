"""Policy rules: what the lender knows from its own book overrides what the card estimates.

A scorecard estimates a firm's odds of default from its trade flows. A firm that is behind
on a loan from Trellis *now* is not an estimate but a fact, and a bank does not grade a
borrower in arrears with itself as a good risk whatever its trade looks like: the arrears
are the first sign of default (a loan 30 days past due rolls into default far more often
than any trade signal predicts), the trade record may be the anchor's payments only, and
lending more to a firm that does not repay what it owes throws good money after bad. So,
for every card (expert, trained, boosted or blended), after the card's odds:

- a loan Trellis wrote off that the firm still owes on, or a loan more than 90 days past
  due (in default by the 90-day definition of the Basel framework and of the 金融资产风险
  分类 rules, 逾期超过90天): grade **E** at best;
- a loan more than 30 days past due: grade **D** at best (a loan 1-30 days late is often a
  payment in transit or a dispute; the card's own signals and the collectors handle it).

A rule caps the card's log-odds at the best score of the capped grade, so the score, the
PD and the grade stay one consistent triple (prices and limits read the grade and the PD);
a firm the card already grades lower keeps its lower grade. The rule's reason comes first
among the firm's reasons, with the days past due, and the scoring service raises the
``own_loan_overdue`` flag naming the loans, which forces a person to review any decision.

Days past due are the ledger's borrower's count (days since the due date while something is
owed; a write-off does not stop the clock), read by :mod:`trellis.scoring.exposure` into
the features ``own_loan_dpd_now`` and ``own_loans_written_off``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trellis.scoring.result import Flag, Reason

FLAG_CODE = "own_loan_overdue"


@dataclass(frozen=True)
class Rule:
    """A firm whose *feature* is above *above* is graded *grade* at best."""

    code: str
    feature: str
    above: float
    grade: str
    en: str   # reason, formatted with {value}
    zh: str
    why: str


RULES = (
    Rule("own_loan_written_off", "own_loans_written_off", 0, "E",
         "A loan Trellis wrote off is still unpaid ({value:.0f}): graded E at best",
         "在 Trellis 已核销的贷款仍未还清（{value:.0f} 笔）：评级最高为 E",
         "A written-off loan still owed is a default on this lender's own book."),
    Rule("own_loan_in_default", "own_loan_dpd_now", 90, "E",
         "Its Trellis loan is {value:.0f} days past due, in default (over 90 days): "
         "graded E at best",
         "其在 Trellis 的贷款已逾期 {value:.0f} 天，已属违约（逾期超过 90 天）：评级最高为 E",
         "More than 90 days past due is a default under the Basel framework and the "
         "Chinese asset risk classification rules."),
    Rule("own_loan_overdue", "own_loan_dpd_now", 30, "D",
         "Its Trellis loan is {value:.0f} days past due: more than 30 days behind with "
         "Trellis, graded D at best until brought up to date",
         "其在 Trellis 的贷款已逾期 {value:.0f} 天：对 Trellis 逾期超过 30 天，"
         "结清逾期款项前评级最高为 D",
         "A loan more than 30 days past due rolls into default far more often than any trade "
         "signal predicts; the firm must not be priced or limited as a good risk."),
)


def document() -> list[dict]:
    """The rules as plain data, for a card document and the pages."""
    return [{"code": r.code, "feature": r.feature, "above": r.above, "grade": r.grade,
             "reason_en": r.en.replace("{value:.0f}", "N"),
             "reason_zh": r.zh.replace("{value:.0f}", "N"), "why": r.why} for r in RULES]


def ceilings(spec: dict, X: pd.DataFrame) -> tuple[np.ndarray, list[Rule | None], np.ndarray]:
    """Per row of *X*: the highest log-odds (of good) the rules allow (``inf``: no rule
    applies), the rule that applies (the most severe; None) and the rule's feature value.

    The ceiling of grade G is the log-odds of the best score in G: one point below the
    lowest score of the grade above it (its ``min_score``, see ``scorecard.validate``)."""
    from trellis.scoring import scorecard  # cycle: scorecard applies these rules

    n = len(X)
    ceiling = np.full(n, np.inf)
    rule_of: list[Rule | None] = [None] * n
    value = np.full(n, np.nan)
    grades = [g["grade"] for g in spec["grades"]]
    for rule in RULES:  # most severe first: a row keeps the first rule that applies
        if rule.feature not in X:
            continue
        v = pd.to_numeric(X[rule.feature], errors="coerce").to_numpy(dtype=float)
        hit = np.nan_to_num(v, nan=-np.inf) > rule.above
        if not hit.any():
            continue
        above = spec["grades"][grades.index(rule.grade) - 1]
        best_score = float(above["min_score"] if "min_score" in above else
                           np.ceil(scorecard.score_for_pd(spec, above["max_pd"]))) - 1
        lo = (best_score - scorecard.offset(spec)) / scorecard.factor(spec)
        for i in np.flatnonzero(hit):
            if rule_of[i] is None:
                rule_of[i], ceiling[i], value[i] = rule, lo, v[i]
    return ceiling, rule_of, value


def reason(rule: Rule, value: float, points_lost: float) -> Reason:
    """The reason of *rule* for a firm whose feature is *value*."""
    return Reason(code=rule.code, en=rule.en.format(value=value),
                  zh=rule.zh.format(value=value), points_lost=int(round(max(points_lost, 0))))


def fraud_flags(flags) -> list:
    """The fraud and integrity flags among a firm's *flags* (Flag objects or their stored
    dicts): every flag but this module's own-loan flag, which is credit, not fraud (a late
    payer is not a fraud suspect). A fraud flag holds the firm's grade for a person's
    review: the card does not count the evidence, so its grade alone says nothing."""
    return [f for f in flags or []
            if (f.get("code") if isinstance(f, dict) else getattr(f, "code", None)) != FLAG_CODE]


def flags(exposures: pd.DataFrame, firm_ids) -> dict[int, Flag]:
    """Firm id -> the ``own_loan_overdue`` flag for firms of *firm_ids* with a Trellis loan
    more than 30 days past due or written off and still owed, naming each such loan."""
    if exposures is None or not len(exposures) or "days_past_due" not in exposures:
        return {}
    worst = min(r.above for r in RULES if r.feature == "own_loan_dpd_now")
    ex = exposures[(exposures["days_past_due"] > worst) | exposures["written_off"].astype(bool)]
    ex = ex[ex["firm_id"].isin(list(firm_ids))]
    out = {}
    for fid, g in ex.sort_values("loan_id").groupby("firm_id"):
        en, zh = [], []
        for row in g.itertuples():
            days = int(row.days_past_due)
            if bool(row.written_off):
                en.append(f"loan #{row.loan_id} written off, still owed, {days} days past due")
                zh.append(f"贷款 #{row.loan_id} 已核销仍未还清，逾期 {days} 天")
            else:
                en.append(f"loan #{row.loan_id} {days} days past due")
                zh.append(f"贷款 #{row.loan_id} 逾期 {days} 天")
        out[int(fid)] = Flag(
            FLAG_CODE,
            "Behind on its own Trellis loans (" + "; ".join(en) + "): the grade is capped "
            "and a person must review any new credit.",
            "在 Trellis 的贷款逾期（" + "；".join(zh) + "）：评级已封顶，新增授信须人工复核。",
            {"loans": [int(x) for x in g["loan_id"]],
             "days_past_due": [int(x) for x in g["days_past_due"]]})
    return out
