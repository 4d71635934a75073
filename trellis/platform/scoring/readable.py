"""A flag's evidence and a firm's feature values as people read them (issue 15).

The cores keep evidence and features as data (amounts in fen, shares as fractions, codes);
the risk page showed them as JSON. Here each key has a label and a unit: an amount in yuan,
a share as a percentage, days, counts and months with their units, a tier, a concentration
or a network weight with what it means. Nested evidence (the latest invoices, the firms of
a cycle) becomes a small table or a list of names. A key without words reads as "other
figure", never as its code.
"""

from __future__ import annotations

import re

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from trellis.platform.i18n import gettext, money, number, percent, text
from trellis.platform.network.views import industry_label
from trellis.platform.network.views import tier_label as tier_words
from trellis.scoring import scorecard
from trellis.trade import industries

# unit kinds: fen, share, days, count, months, times (a multiple), ratio (a plain number),
# change (a relative change: -1 is a fall of 100%), points (a difference of two changes, in
# percentage points, the firm's against its industry's), gap (a difference in percentage
# points between two of the firm's own figures), date, text, bool, tier, weight (a share of
# the cluster's PageRank),
# kwh, people, firm (a USCC shown as the firm's name), code
KEYS: dict[str, tuple] = {
    # evidence of the screens (trellis.scoring.screens)
    "window_days": (_l("Window"), "days"), "recent_fen": (_l("Sales in the window"), "fen"),
    "usual_fen": (_l("Usual sales over as long"), "fen"), "ratio": (_l("Multiple"), "times"),
    "applied_on": (_l("Applied on"), "date"),
    "unbacked_share": (_l("Without order or delivery"), "share"),
    "usual_unbacked_share": (_l("Usually without order or delivery"), "share"),
    "invoices": (_l("Invoices"), "count"), "latest": (_l("Latest invoices"), "rows"),
    "invoice": (_l("Invoice number"), "text"), "issued": (_l("Issued on"), "date"),
    "amount_fen": (_l("Amount"), "fen"), "has_order": (_l("Has an order"), "bool"),
    "count": (_l("Invoices"), "count"), "share": (_l("Share of sales"), "share"),
    "status": (_l("State"), "status"), "buyer": (_l("Buyer"), "firm"),
    "seller": (_l("Seller"), "firm"), "match": (_l("Matched on"), "match"),
    "cycle": (_l("Firms in the cycle"), "firms"), "firms": (_l("Other firms"), "firms"),
    "loops": (_l("Loops round the cycle"), "count"),
    "consistent_months": (_l("Months that agree"), "months"),
    "matched_share": (_l("Amount matched round the cycle"), "share"),
    "volume_balance": (_l("Balance of the legs' volumes"), "share"),
    "paid_round": (_l("Legs paid back"), "share"), "strength": (_l("Strength of evidence"),
                                                                "share"),
    "flag": (_l("Flagged"), "bool"), "volume_fen": (_l("Volume round the cycle"), "fen"),
    "latest_loop": (_l("Latest loop"), "rows"), "leg_volume_fen": (_l("Volume of the leg"),
                                                                   "fen"),
    "rule": (_l("Rule"), "rule"), "months_fen": (_l("Sales of the two months"), "fen"),
    "usual_month_fen": (_l("Usual monthly sales"), "fen"), "value": (_l("Shared value"), "text"),
    "excess_months": (_l("Sales without orders beyond the usual share, in usual months"),
                      "months"),
    "declared_fen": (_l("Declared to the tax office"), "fen"),
    "platform_fen": (_l("Recorded on the platform"), "fen"), "period": (_l("Period"), "text"),
    "months": (_l("Months compared"), "months"), "compared_with": (_l("Compared with"), "basis"),
    "sales_growth": (_l("Sales, times the earlier period"), "times"),
    "power_growth": (_l("Power use, times the earlier period"), "times"),
    "headcount_growth": (_l("Insured staff, times the earlier period"), "times"),
    "last_two_months_kwh": (_l("Power use of the last two months"), "kwh"),
    "usual_kwh": (_l("Usual monthly power use"), "kwh"),
    "recent_sales_fen": (_l("Sales of the last two months"), "fen"),
    "name": (_l("Firm"), "text"), "uscc": (_l("USCC"), "text"),
}

SKIP = {"firm_id"}   # an internal number; the firm's name and USCC are beside it

MATCH = {"fp_content": _l("same seller, buyer, amount and date"),
         "fp_number": _l("same seller and invoice number"),
         "fp_near": _l("nearly the same invoice")}
RULE = {"two_months": _l("two months far above the usual")}
DOC_STATUS = {"pending": _l("Waiting for confirmation"), "confirmed": _l("Confirmed"),
              "rejected": _l("Rejected")}
BASIS = {"year": _l("the same months a year before"), "half": _l("the 6 months before")}


def unit_value(kind: str, value, names: dict | None = None) -> str:
    """*value* of unit *kind* in words (see :data:`KEYS`); *names* maps USCCs to firms'
    names for the kind ``firm`` (a USCC nobody named is shown as it is)."""
    if value is None or (isinstance(value, float) and value != value):
        return "—" if kind != "tier" else tier_words(None)
    if isinstance(value, list) and kind not in ("rows", "firms"):
        return "、".join(unit_value(kind, v, names) for v in value)
    if kind == "firm":
        return (names or {}).get(str(value)) or str(value)
    if kind == "change":
        return change_words(float(value))
    if kind == "points":
        return points_words(float(value))
    if kind == "gap":
        return bound_words("gap", float(value))
    if kind == "fen":
        return money(int(value))
    if kind == "share":
        return percent(value, 1)
    if kind == "weight":
        return gettext("%(p)s of the cluster", p=percent(value, 2))
    if kind == "days":
        return gettext("%(n)s days", n=number(round(float(value), 1)))
    if kind == "months":
        return gettext("%(n)s months", n=number(round(float(value), 1)))
    if kind == "count":
        return number(int(value))
    if kind == "people":
        return gettext("%(n)s people", n=number(round(float(value))))
    if kind == "kwh":
        return gettext("%(n)s kWh", n=number(round(float(value), 1)))
    if kind == "times":
        return gettext("%(n)s times", n=number(round(float(value), 2)))
    if kind == "bool":
        return gettext("yes") if value else gettext("no")
    if kind == "tier":
        return tier_words(value)
    if kind == "status":
        return text(DOC_STATUS.get(str(value), _l("Other")))
    if kind == "match":
        return text(MATCH.get(str(value), _l("Other")))
    if kind == "rule":
        return text(RULE.get(str(value), _l("Other")))
    if kind == "basis":
        return text(BASIS.get(str(value), _l("Other")))
    if kind == "industry":
        return industry_label(value)
    if kind == "division":
        return division_words(value)
    if kind == "role":
        return gettext("Anchor firm") if value == "anchor" else gettext("Vendor")
    if isinstance(value, str):  # a category a card did not label: never parsed
        return value if kind in ("text", "code") else category_words(value)
    if kind == "ratio" or isinstance(value, float):
        return number(round(float(value), 2))
    return str(value)


_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def category_words(value: str) -> str:
    """A text value no unit labels (a category a scorecard or a screen did not describe):
    its catalogue entry when it has one; as it is on an English page, or when it holds no
    Latin word (Chinese words, a code such as C36); else, on a Chinese page, words saying
    the category is not described. An English category never reaches a Chinese page."""
    text = value.strip()
    if not text:
        return "—"
    translated = gettext(text)
    if translated != text:
        return translated
    if not _LATIN_WORD.search(text) or not str(get_locale() or "zh").startswith("zh"):
        return text
    return gettext("A category without a description")


def change_words(value: float) -> str:
    """A relative change in words: ``-1`` 下降 100%, ``0.04`` 上升 4.0%, ``0`` 持平."""
    if round(value, 3) == 0:
        return gettext("unchanged")
    if value > 0:
        return gettext("up %(p)s", p=percent(value, 1))
    return gettext("down %(p)s", p=percent(-value, 1))


def points_words(value: float) -> str:
    """A difference of two changes in percentage points, in words."""
    pts = number(round(abs(value) * 100, 1))
    if round(value, 3) == 0:
        return gettext("the same as its industry")
    if value > 0:
        return gettext("%(n)s percentage points above its industry", n=pts)
    return gettext("%(n)s percentage points below its industry", n=pts)


def division_words(value) -> str:
    """The scoring feature ``industry_division`` in words: ``C36`` is division 36 (36
    汽车制造业), ``C`` its section (制造业), ``other`` a division with too few firms in the
    cluster to stand alone."""
    code = str(value or "")
    if code == "other":
        return gettext("Other industries (too few firms in the cluster)")
    if len(code) > 1 and code[0].isalpha():
        code = code[1:]
    return industries.label(code) or str(value)


def evidence_usccs(evidence) -> set[str]:
    """The USCCs a flag's evidence names a firm by (a buyer or a seller of a row): the view
    looks their names up once, so no table lists firms by code alone."""
    found: set[str] = set()
    if isinstance(evidence, dict):
        for key, value in evidence.items():
            if KEYS.get(key, ("", ""))[1] == "firm" and isinstance(value, str):
                found.add(value)
            else:
                found |= evidence_usccs(value)
    elif isinstance(evidence, list):
        for item in evidence:
            found |= evidence_usccs(item)
    return found


def evidence_rows(evidence: dict | None, keys: dict | None = None,
                  names: dict | None = None) -> list[dict]:
    """A flag's evidence as rows: ``{"label", "value"}`` for a figure, ``{"label",
    "names"}`` for firms, ``{"label", "columns", "rows"}`` for a list of records. *names*
    maps USCCs to names (:func:`evidence_usccs`); the cycle's own firms are known here."""
    keys = KEYS if keys is None else keys
    names = dict(names or {})
    for ref in (evidence or {}).get("cycle") or ():
        if isinstance(ref, dict) and ref.get("uscc") and ref.get("name"):
            names.setdefault(str(ref["uscc"]), str(ref["name"]))
    out: list[dict] = []
    for key, value in (evidence or {}).items():
        if key in SKIP:
            continue
        label, kind = keys.get(key, (_l("Other figure"), "ratio"))
        if kind == "firms":
            firms = [v.get("name") or v.get("uscc") or "—" if isinstance(v, dict) else str(v)
                     for v in value or ()]
            out.append({"label": str(label), "names": firms})
        elif kind == "rows" or (isinstance(value, list) and value and isinstance(value[0], dict)):
            columns = [k for k in (value[0] if value else {}) if k not in SKIP]
            out.append({"label": str(label),
                        "columns": [str(keys.get(c, (_l("Other figure"),))[0]) for c in columns],
                        "rows": [[unit_value(keys.get(c, ("", "ratio"))[1], r.get(c), names)
                                  for c in columns] for r in value]})
        elif isinstance(value, dict):
            out.append({"label": str(label), "value": "；".join(
                f"{row['label']}：{row.get('value', '')}"
                for row in evidence_rows(value, keys, names))})
        else:
            out.append({"label": str(label), "value": unit_value(kind, value, names)})
    return out


#: a feature's unit (see :func:`unit_value`), by name; a name not here is a plain number
FEATURE_UNITS = {
    "history_months": "months", "tax_period_months": "months", "firm_age_months": "months",
    "power_months_12m": "months", "anchor_tenure_days": "days", "tier": "tier",
    "pagerank": "weight", "anchor_pagerank": "weight", "buyer_hhi_12m": "share",
    "industry_division": "division",
    "invoices_12m": "count", "buyer_count_12m": "count", "anchor_count_12m": "count",
    "neighbours": "count", "past_defaults": "count", "headcount_now": "people",
    "own_loan_dpd_now": "days", "own_loans_written_off": "count",
    "power_kwh_month": "kwh", "seasonal_index_used": "bool", "role": "role",
    "industry": "industry", "sales_drawdown_3m": "share",
    # the coefficient of variation: the months' spread as a share of the mean month
    "sales_cv_12m": "share",
    # multiples of another figure
    "debt_to_inflow": "times", "tax_to_flow_ratio": "times",
    "output_per_kwh_vs_industry": "times",
    # differences of two relative changes (the firm's less its industry's)
    "power_trend_3v6_vs_division": "points", "power_yoy_3m_vs_division": "points",
    "power_trend_3v6_vs_peers": "points",
    # the change of power use less the change of invoiced sales over the same months: a
    # difference with the firm's own figures, not its industry's (reader 12b, H6)
    "power_vs_sales_change": "gap",
    "inflow_to_sales_3m": "times",
    # the eleventh pass (trellis.scoring.dynamics)
    "months_since_last_sale": "months", "sales_gap_months_12m": "months",
    "months_since_last_inflow": "months", "months_since_last_default": "months",
    "months_since_last_loan": "months", "receivable_days": "days", "payable_days": "days",
    "past_loans": "count", "orders_to_sales_3m": "times", "last_loan_to_sales_12m": "times",
    "power_cv_12m": "share", "buyer_late_days_change": "days", "own_late_days_change": "days",
    "top_buyer_share_change": "gap", "headcount_vs_sales_change": "gap",
    "power_slope_12m_vs_peers": "points", "tax_paid_rate": "share",
    "sales_slope_12m": "change", "sales_slope_6m": "change", "orders_slope_12m": "change",
    "power_slope_12m": "change", "power_slope_6m": "change", "headcount_slope_12m": "change",
    "sales_1m_vs_12m": "change", "orders_1m_vs_12m": "change", "power_1m_vs_12m": "change",
    "buyer_count_trend_6v6": "change",
}
#: name parts of relative changes (this period against an earlier one, less 1)
_CHANGE_PARTS = ("_trend_", "_yoy_", "_vs_own_", "headcount_trend_12m")
_SHARE_PARTS = ("share", "_rate_", "conversion", "collection_ratio", "paid_ratio")


def feature_unit(name: str) -> str:
    """The unit of feature *name*: money for ``*_fen``, a share for shares and rates, days
    for late days, else :data:`FEATURE_UNITS` or a plain number."""
    if name in FEATURE_UNITS:
        return FEATURE_UNITS[name]
    if name.endswith("_fen"):
        return "fen"
    if "late_days" in name:
        return "days"
    if any(part in name for part in _SHARE_PARTS):
        return "share"
    if any(part in name for part in _CHANGE_PARTS):
        return "change"
    return "ratio"


#: labels of the features a scorecard does not label itself (the card's own labels win)
FEATURE_LABELS = {
    "sales_3m_fen": _l("Sales, last 3 months"), "sales_6m_fen": _l("Sales, last 6 months"),
    "active_share_3m": _l("Months with sales, last 3 months"),
    "active_share_6m": _l("Months with sales, last 6 months"),
    "avg_monthly_sales_12m_fen": _l("Average monthly sales, last 12 months"),
    "seasonal_index_used": _l("Seasonal adjustment used"),
    "sales_trend_3v6": _l("Sales trend (last 3 against last 6 months)"),
    "sales_vs_own_24m": _l("Sales against the firm's own 24 months"),
    "invoices_12m": _l("Invoices, last 12 months"),
    "buyer_count_12m": _l("Buyers, last 12 months"),
    "anchor_sales_share_12m": _l("Share of sales to anchors"),
    "anchor_rejected_share_6m": _l("Share of invoices anchors refused, last 6 months"),
    "anchor_count_12m": _l("Anchors traded with"),
    "confirmed_monthly_6m_fen": _l("Confirmed sales a month, last 6 months"),
    "buyer_late_days_3m": _l("Buyers' days late, last 3 months"),
    "buyer_late_days_6m": _l("Buyers' days late, last 6 months"),
    "own_late_days_3m": _l("Own days late to suppliers, last 3 months"),
    "own_late_days_12m": _l("Own days late to suppliers, last 12 months"),
    "own_loan_dpd_now": _l("Days past due on its own Trellis loans now"),
    "own_loans_written_off": _l("Own Trellis loans written off and still owed"),
    "power_trend_3v12": _l("Power use trend (last 3 against 12 months)"),
    "own_late_days_6m": _l("Own days late to suppliers, last 6 months"),
    "eligible_receivables_fen": _l("Eligible confirmed receivables"),
    "credit_note_rate_3m": _l("Credit notes against sales, last 3 months"),
    "credit_note_rate_6m": _l("Credit notes against sales, last 6 months"),
    "dispute_rate_12m": _l("Disputed share of sales, last 12 months"),
    "inflow_monthly_3m_fen": _l("Money received a month, last 3 months"),
    "collection_ratio_6m": _l("Share of sales collected, last 6 months"),
    "anchor_paid_ratio_12m": _l("Share of anchor invoices paid, last 12 months"),
    "invoice_count_trend_3v12": _l("Invoice count trend (last 3 against 12 months)"),
    "platform_debt_fen": _l("Debt on the platform"),
    "tax_sales_fen": _l("Sales declared for VAT"),
    "tax_period_sales_fen": _l("Platform sales over the tax period"),
    "tax_period_months": _l("Tax period"), "firm_age_months": _l("Age of the firm"),
    "neighbours": _l("Trading partners"), "power_months_12m": _l("Months with power data"),
    "power_kwh_month": _l("Power use a month"), "output_per_kwh": _l("Sales per kWh (yuan)"),
    "headcount_now": _l("Insured staff now"),
    "power_trend_3v6": _l("Power use trend (last 3 against 6 months)"),
    "power_yoy_3m": _l("Power use against a year before (last 3 months)"),
    "headcount_trend_3v6": _l("Insured staff trend (last 3 against 6 months)"),
    "headcount_yoy_3m": _l("Insured staff against a year before (last 3 months)"),
    "chain_power_trend_3v6": _l("Suppliers' power use trend (last 3 against 6 months)"),
    "chain_power_yoy_3m": _l("Suppliers' power use against a year before"),
    "role": _l("Role"), "industry": _l("Industry"),
    "industry_division": _l("Industry division (GB/T 4754)"),
    "division_power_trend_3v6": _l("Its industry's power use trend (last 3 against 6 months)"),
    "division_power_yoy_3m": _l("Its industry's power use against a year before"),
    "power_trend_3v6_vs_division": _l("Power use trend against its industry's"),
    "power_yoy_3m_vs_division": _l("Power use against a year before, against its industry's"),
    "power_trend_3v6_vs_peers": _l("Power use trend against its industry's in the park"),
    "power_vs_sales_change": _l("Change of power use less change of invoiced sales"),
    "inflow_to_sales_3m": _l("Money received against sales invoiced, last 3 months"),
    # the eleventh pass (trellis.scoring.dynamics)
    "months_since_last_sale": _l("Months since its last sale"),
    "sales_gap_months_12m": _l("The longest run of months without sales, last 12 months"),
    "sales_yoy_12m": _l("Sales of the last 12 months against the 12 before"),
    "sales_yoy_6m": _l("Sales of the last 6 months against the same months a year before"),
    "sales_slope_12m": _l("The trend of its sales over the last 12 months"),
    "sales_1m_vs_12m": _l("Last month's sales against its usual month"),
    "top_buyer_share_change": _l("Its main buyer's share of its sales has changed"),
    "lost_buyer_share_6m": _l("Sales to buyers who stopped buying in the last 6 months"),
    "new_buyer_share_6m": _l("Sales to new buyers, last 6 months"),
    "buyer_count_trend_6v6": _l("Buyers of the last 6 months against the 6 before"),
    "buyer_late_days_change": _l("Its buyers pay it later than over the year"),
    "own_late_days_change": _l("It pays its suppliers later than over the year"),
    "inflow_trend_3v12": _l("Money received in the last 3 months against the year"),
    "outflow_trend_3v12": _l("Money paid out in the last 3 months against the year"),
    "months_since_last_inflow": _l("Months since it last received money"),
    "receivable_days": _l("What its buyers owe it, in days of sales"),
    "payable_days": _l("What it owes its suppliers, in days of purchases"),
    "own_overdue_share_now": _l("Share of what it owes its suppliers that is overdue"),
    "past_loans": _l("Its past loans"),
    "past_default_share": _l("Share of its past loans that defaulted"),
    "months_since_last_default": _l("Months since its last defaulted loan"),
    "months_since_last_loan": _l("Months since its last loan"),
    "last_loan_to_sales_12m": _l("Its last loan against its sales of 12 months"),
    "power_cv_12m": _l("How much its power use swings from month to month"),
    "power_1m_vs_12m": _l("Last month's power use against its usual month"),
    "power_yoy_12m": _l("Power use of the last 12 months against the 12 before"),
    "power_slope_12m": _l("The trend of its power use over the last 12 months"),
    "power_slope_6m": _l("The trend of its power use over the last 6 months"),
    "headcount_slope_12m": _l("The trend of its insured staff over the last 12 months"),
    "sales_slope_6m": _l("The trend of its sales over the last 6 months"),
    "power_slope_12m_vs_peers": _l("The trend of its power use against its industry's"),
    "orders_trend_3v6": _l("Orders received in the last 3 months against the 6 before"),
    "orders_1m_vs_12m": _l("Last month's orders against its usual month"),
    "orders_slope_12m": _l("The trend of the orders it received over the last 12 months"),
    "orders_yoy_3m": _l("Orders of the last 3 months against the same months a year before"),
    "orders_to_sales_3m": _l("Orders received against sales invoiced, last 3 months"),
    "headcount_vs_sales_change": _l("Change of insured staff less change of sales"),
    "headcount_trend_2v6": _l("Insured staff of the last 2 months against the 6 before"),
    "tax_paid_rate": _l("VAT paid against the sales it declared"),
}

#: one line on what a number means, for the measures that are not self-explaining
EXPLAIN = {
    "buyer_hhi_12m": _l("Concentration: the sum of each buyer's squared share of sales, "
                        "0-100%; 100% is a single buyer, lower is spread over more buyers."),
    "pagerank": _l("Network weight: the firm's share of the whole cluster's importance "
                   "(all firms add up to 100%), higher when large buyers pay it."),
    "anchor_pagerank": _l("Closeness to anchors: the same weight counted only from the "
                          "anchors' payments (all firms add up to 100%)."),
    "tier": _l("Tier: supply steps from the nearest anchor; a buyer is downstream of one; "
               "not connected means no supply path to or from any anchor."),
    "sales_cv_12m": _l("Sales swings: how far the months' sales spread from the average "
                       "month, as a share of it (0% is the same every month)."),
}


def feature_rows(features: dict | None, labels: dict) -> list[dict]:
    """Every feature value a score used, as ``{"name", "label", "value"}`` rows in words
    (see :func:`feature_unit`); *labels* are the scorecard's own."""
    out = []
    for name, value in (features or {}).items():
        label = labels.get(name) or FEATURE_LABELS.get(name) or _l("Other figure")
        out.append({"name": name, "label": text(label),
                    "value": unit_value(feature_unit(name), value)})
    return out


def bound_words(kind: str, value: float) -> str:
    """One edge of a scorecard bin in the characteristic's unit: a share or a change as a
    percentage (a change signed), a multiple, days, months, yuan, a count."""
    if kind == "share":
        return percent(value, 0 if abs(value * 100 - round(value * 100)) < 1e-9 else 1)
    if kind in ("change", "points", "gap"):
        sign = "+" if value > 0 else ("−" if value < 0 else "")
        shown = percent(abs(value), 0 if abs(value * 100 - round(value * 100)) < 1e-9 else 1)
        return sign + shown if kind == "change" else gettext(
            "%(n)s percentage points", n=sign + number(round(abs(value) * 100, 1)))
    if kind in ("fen", "days", "months", "count", "people", "kwh", "times"):
        return unit_value(kind, int(value) if float(value).is_integer() and kind != "times"
                          else value)
    return number(round(float(value), 4))


def bin_words(ch: dict) -> list[str]:
    """The bins of scorecard characteristic *ch* in words and in its unit (the card keeps
    fractions: ``[0.2, 0.5)`` of a share reads 20% 至 50%（不含）)."""
    kind = feature_unit(ch["name"])
    if ch["type"] == "categorical":
        return ["、".join(unit_value(kind, v) if kind not in ("ratio", "share") else str(v)
                         for v in group) for group in ch["groups"]]
    s = ch["splits"]
    if not s:
        return [gettext("any value")]
    b = [bound_words(kind, x) for x in s]
    return ([gettext("below %(a)s", a=b[0])]
            + [gettext("%(a)s to under %(b)s", a=x, b=y) for x, y in zip(b, b[1:],
                                                                        strict=False)]
            + [gettext("%(a)s or more", a=b[-1])])


def best_words(ch: dict) -> str | None:
    """"Most points: ..." for numeric characteristic *ch*, the band of its bins that gives
    the most points (:func:`trellis.scoring.scorecard.best_band`) in the words of
    :func:`bin_words`; None for a categorical one or one whose bins all give the same."""
    band = scorecard.best_band(ch)
    odds = [float(b["logodds"]) for b in ch.get("bins", [])]
    if band is None or len(set(odds)) < 2:
        return None
    return gettext("Most points: %(band)s.", band=bin_words(ch)[odds.index(max(odds))])


def grade_bands(spec: dict) -> list[dict]:
    """Each grade of *spec* with its band of default probability as a credit officer reads
    it (``{"grade", "words", "min_score"}``): a grade is "PD up to" its ``max_pd``; the
    last grade, whose ``max_pd`` is 1 (any PD), is "PD above" the grade before it, never
    "PD up to 100%"."""
    grades = spec.get("grades", [])
    out = []
    for i, g in enumerate(grades):
        last_open = i == len(grades) - 1 and i > 0 and float(g["max_pd"]) >= 1.0
        words = (gettext("PD above %(p)s", p=percent(grades[i - 1]["max_pd"], 1)) if last_open
                 else gettext("PD up to %(p)s", p=percent(g["max_pd"], 1)))
        out.append({"grade": g["grade"], "words": words, "min_score": g.get("min_score")})
    return out


def bin_rows(spec: dict, table: list[dict]) -> list[dict]:
    """*table* (:func:`trellis.scoring.scorecard.scorecard_table`) with each row's bin in
    words (``words``); the missing bin keeps its key."""
    words = {ch["name"]: iter(bin_words(ch)) for ch in spec["characteristics"]}
    out = []
    for row in table:
        shown = (gettext("missing") if row["bin"] == "missing"
                 else next(words[row["characteristic"]], row["bin"]))
        out.append({**row, "words": shown})
    return out
