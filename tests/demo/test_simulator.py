"""The simulator's rows are deterministic, valid for the trade tables, and hold the facts
it claims to have planted."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest

from tests.demo.conftest import SMALL
from trellis.demo.data import TABLES
from trellis.demo.errors import BadSimulation
from trellis.demo.simulator import simulate
from trellis.trade import uscc as uscc_mod

SIZES = [SMALL, {"n_vendors": 45, "months": 12, "seed": 3, "end": date(2025, 2, 14)},
         {"n_vendors": 120, "months": 24, "seed": 99, "end": date(2027, 1, 31)}]


def _dump(data):
    return [getattr(data, t) for t in TABLES], data.truth


def test_same_inputs_give_identical_output(small):
    assert _dump(simulate(**SMALL)) == _dump(small)


@pytest.mark.parametrize("change", [{"seed": 8}, {"end": date(2026, 7, 31)},
                                    {"n_vendors": 61}])
def test_other_inputs_give_other_output(small, change):
    assert _dump(simulate(**{**SMALL, **change})) != _dump(small)


def test_global_random_state_untouched():
    random.seed(12345)
    before = random.getstate()
    simulate(**SMALL)
    assert random.getstate() == before


@pytest.mark.parametrize("params", [{"n_vendors": 10}, {"months": 6}, {"months": 61}])
def test_out_of_range_parameters_are_refused(params):
    with pytest.raises(BadSimulation):
        simulate(**{**SMALL, **params})


def _money_and_dates(data):
    for table in TABLES:
        for row in getattr(data, table):
            for key, value in row.items():
                if key.endswith("_fen") and value is not None:
                    yield table, key, value
                if isinstance(value, datetime):
                    assert value.tzinfo is not None, (table, key)
                    yield table, key, value.date()
                elif isinstance(value, date):
                    yield table, key, value


@pytest.mark.parametrize("params", SIZES)
def test_rows_satisfy_the_trade_table_constraints(params):
    data = simulate(**params)
    end = params["end"]
    firms = {f["uscc"] for f in data.firms}
    assert len(firms) == len(data.firms) == params["n_vendors"] + 3
    assert all(uscc_mod.is_valid(u) for u in firms)
    for table, key, value in _money_and_dates(data):
        if key.endswith("_fen"):
            assert type(value) is int and value >= 0, (table, key, value)
            if key == "amount_fen":
                assert value > 0, (table, value)
        elif key != "due_date":  # a due date is a term and may lie ahead
            assert value <= end, (table, key, value)
    for inv in data.invoices:
        assert inv["seller_uscc"] != inv["buyer_uscc"]
        assert {inv["seller_uscc"], inv["buyer_uscc"]} <= firms
        assert inv["due_date"] >= inv["issue_date"]
        assert 0 <= inv["paid_fen"] <= inv["amount_fen"]
    unique = {
        "invoices": [(r["seller_uscc"], r["number"]) for r in data.invoices],
        "purchase_orders": [(r["buyer_uscc"], r["number"]) for r in data.purchase_orders],
        "payments": [(r["payer_uscc"], r["reference"]) for r in data.payments],
        "credit_notes": [(r["seller_uscc"], r["number"]) for r in data.credit_notes],
        "relationships": [(r["supplier_uscc"], r["buyer_uscc"]) for r in data.relationships],
    }
    for table, keys in unique.items():
        assert len(keys) == len(set(keys)), table
    orders = set(unique["purchase_orders"])
    assert all((d["order_buyer_uscc"], d["order_number"]) in orders for d in data.deliveries)
    assert all(inv["order_number"] is None or (inv["buyer_uscc"], inv["order_number"]) in orders
               for inv in data.invoices)


def test_payments_equal_their_allocations_and_invoices_their_payments(small):
    by_payment, by_invoice = Counter(), Counter()
    for a in small.payment_allocations:
        by_payment[(a["payer_uscc"], a["payment_reference"])] += a["amount_fen"]
        by_invoice[(a["seller_uscc"], a["invoice_number"])] += a["amount_fen"]
    assert {(p["payer_uscc"], p["reference"]): p["amount_fen"]
            for p in small.payments} == dict(by_payment)
    assert all(inv["paid_fen"] == by_invoice[(inv["seller_uscc"], inv["number"])]
               for inv in small.invoices)
    credits = Counter()
    for c in small.credit_notes:
        credits[(c["seller_uscc"], c["invoice_number"])] += c["amount_fen"]
    assert all(inv["paid_fen"] + credits[(inv["seller_uscc"], inv["number"])]
               <= inv["amount_fen"] for inv in small.invoices)


def test_anchors_confirm_about_four_in_five_invoices(medium):
    statuses = Counter(inv["status"] for inv in medium.invoices
                       if inv["buyer_uscc"] in medium.truth.anchors)
    total = sum(statuses.values())
    assert 0.72 <= statuses["confirmed"] / total <= 0.88
    assert statuses["pending"] and statuses["rejected"]
    assert all(inv["status"] == "pending" for inv in medium.invoices
               if inv["buyer_uscc"] not in medium.truth.anchors)


def test_some_invoices_are_paid_late_and_some_are_open(medium):
    paid_on = {}
    by_ref = {(p["payer_uscc"], p["reference"]): p["paid_on"] for p in medium.payments}
    for a in medium.payment_allocations:
        key = (a["seller_uscc"], a["invoice_number"])
        paid_on[key] = max(paid_on.get(key, date.min), by_ref[(a["payer_uscc"],
                                                               a["payment_reference"])])
    due = {(v["seller_uscc"], v["number"]): v["due_date"] for v in medium.invoices}
    late = sum(1 for k, d in paid_on.items() if d > due[k] + timedelta(days=5))
    assert 0.05 < late / len(paid_on) < 0.4
    assert any(v["paid_fen"] == 0 and v["due_date"] < medium.end - timedelta(days=60)
               for v in medium.invoices)


def test_planted_tiers_are_distances_to_the_nearest_anchor(medium):
    t = medium.truth
    up, down = defaultdict(set), defaultdict(set)
    for r in medium.relationships:
        up[r["buyer_uscc"]].add(r["supplier_uscc"])
        down[r["supplier_uscc"]].add(r["buyer_uscc"])
    for direction, sign in ((up, 1), (down, -1)):
        dist, frontier = {a: 0 for a in t.anchors}, list(t.anchors)
        while frontier:
            nxt = []
            for u in frontier:
                for v in direction[u]:
                    if v not in dist:
                        dist[v] = dist[u] + 1
                        nxt.append(v)
            frontier = nxt
        planted = {u: k for u, k in t.tiers.items() if k * sign > 0}
        assert planted and all(dist[u] == abs(k) for u, k in planted.items())
    assert set(Counter(t.tiers.values())) == {-1, 0, 1, 2, 3}


def test_ring_invoices_form_a_cycle_with_matching_amounts_and_close_dates(small):
    ring = small.truth.ring
    assert len(ring) in (3, 4)
    members = set(ring)
    legs = [v for v in small.invoices if v["seller_uscc"] in members
            and v["buyer_uscc"] in members]
    edges = {(v["seller_uscc"], v["buyer_uscc"]) for v in legs}
    assert edges == {(ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring))}
    by_amount = defaultdict(list)
    for v in legs:
        by_amount[v["amount_fen"]].append(v)
    full_cycles = 0
    for group in by_amount.values():
        if len(group) == len(ring):
            full_cycles += 1
            days = [v["issue_date"] for v in group]
            assert max(days) - min(days) <= timedelta(days=8)
            assert {v["seller_uscc"] for v in group} == members
    assert full_cycles >= 10
    assert all(v["order_number"] is None for v in legs)


def test_duplicate_invoices_share_seller_buyer_amount_and_date(small):
    invoices = {(v["seller_uscc"], v["number"]): v for v in small.invoices}
    pairs = small.truth.duplicate_invoices
    assert len(pairs) >= 3
    for original, copy in pairs:
        a, b = invoices[original], invoices[copy]
        assert original != copy
        for key in ("seller_uscc", "buyer_uscc", "amount_fen", "issue_date"):
            assert a[key] == b[key], key
    assert len({o[0] for o, _ in pairs}) == len(pairs)


def _sales(data, uscc, start, stop):
    return sum(v["amount_fen"] for v in data.invoices
               if v["seller_uscc"] == uscc and start <= v["issue_date"] < stop)


def test_defaulters_decline_then_default(medium):
    t = medium.truth
    assert 3 <= len(t.defaulters) <= 20
    outcomes = defaultdict(list)
    for row in medium.loan_outcomes:
        outcomes[row["firm_uscc"]].append(row)
    q = timedelta(days=90)
    for u in t.defaulters:
        when, decline = t.default_dates[u], t.decline_dates[u]
        assert medium.start < decline < when
        healthy_from = max(medium.start, decline - 2 * q)
        healthy = _sales(medium, u, healthy_from, decline) / (decline - healthy_from).days
        last = _sales(medium, u, when - q, when) / q.days
        assert last < 0.6 * healthy, u
        assert _sales(medium, u, when, medium.end + timedelta(days=1)) == 0
        assert any(r["defaulted"] and r["disbursed_on"] < when for r in outcomes[u])
    defaulted = {u for u, rows in outcomes.items() if any(r["defaulted"] for r in rows)}
    assert defaulted == t.defaulters
    good = [u for u, rows in outcomes.items() if u not in t.defaulters]
    assert len(good) > 5 * len(t.defaulters)


@pytest.mark.parametrize("fixture", ["small", "medium"])
def test_burst_before_the_application(request, fixture):
    data = request.getfixturevalue(fixture)
    ((u, applied_on),) = data.truth.burst.items()
    window = timedelta(days=28)
    recent = _sales(data, u, applied_on - window + timedelta(days=1), applied_on + timedelta(1))
    first = min(v["issue_date"] for v in data.invoices if v["seller_uscc"] == u)
    months = (applied_on - window - first).days / 30.4
    average = _sales(data, u, first, applied_on - window + timedelta(days=1)) / months
    assert recent > 3 * average


@pytest.mark.parametrize("field,groups", [("phone", "shared_phone"),
                                          ("bank_account", "shared_bank_account"),
                                          ("address", "shared_address")])
def test_shared_identity_groups_really_share_and_no_one_else_does(small, field, groups):
    planted = getattr(small.truth, groups)
    assert len(planted) >= 2 and all(len(g) >= 2 for g in planted)
    by_value = defaultdict(set)
    for f in small.firms:
        by_value[f[field]].add(f["uscc"])
    shared = [members for members in by_value.values() if len(members) > 1]
    assert sorted(map(sorted, shared)) == sorted(map(sorted, planted))


def test_tax_data_for_about_a_third_of_vendors(medium):
    vendors = [f for f in medium.firms if f["role"] == "vendor"]
    with_tax = [f for f in vendors if f["tax_period"] is not None]
    assert {f["uscc"] for f in with_tax} == medium.truth.with_tax
    assert 0.2 <= len(with_tax) / len(vendors) <= 0.45
    for f in with_tax:
        assert f["tax_vat_sales_fen"] > 0 and 0 < f["tax_paid_fen"] < f["tax_vat_sales_fen"]
    assert all(f["tax_vat_sales_fen"] is None and f["tax_paid_fen"] is None
               for f in vendors if f["tax_period"] is None)


def _monthly(data, chain_anchor=None):
    totals = Counter()
    suppliers_of = None
    if chain_anchor:
        tiers = data.truth.tiers
        suppliers_of = {r["supplier_uscc"] for r in data.relationships
                        if r["buyer_uscc"] == chain_anchor and tiers[r["supplier_uscc"]] == 1}
    for v in data.invoices:
        if suppliers_of is None or (v["seller_uscc"] in suppliers_of
                                    and v["buyer_uscc"] == chain_anchor):
            totals[(v["issue_date"].year, v["issue_date"].month)] += v["amount_fen"]
    return totals


def test_spring_festival_dip_in_monthly_totals(medium):
    totals = _monthly(medium)
    ordinary = sorted(totals.values())[len(totals) // 2]
    assert totals[(2026, 2)] < 0.7 * ordinary  # Spring Festival 2026-02-17


def test_construction_season(medium):
    totals = _monthly(medium, medium.truth.anchor_by_industry["construction"])
    around = sum(totals[(2026, m)] for m in (5, 6, 9, 10)) / 2
    summer = totals[(2026, 7)] + totals[(2026, 8)]
    assert summer < 0.85 * around


def test_some_firms_are_young(medium):
    young = medium.truth.young
    assert 0.05 <= len(young) / len(medium.firms) <= 0.3
    founded = {f["uscc"]: f["founded_on"] for f in medium.firms}
    assert all(founded[u] > medium.end - timedelta(days=731) for u in young)


def test_meters_follow_real_activity_and_some_vendors_have_none(medium):
    """About 70% of vendors have power readings and 60% headcount; a defaulter's power
    falls after it defaults; readings cover complete months only, with no zeros for the
    firms the park never metered."""
    data, truth = medium, medium.truth
    vendors = {f["uscc"] for f in data.firms if f["role"] == "vendor"}
    metered = {r["uscc"] for r in data.utility_readings}
    counted = {r["uscc"] for r in data.headcount_records}
    assert 0.6 < len(metered) / len(vendors) < 0.8
    assert 0.5 < len(counted) / len(vendors) < 0.7
    assert all(r["month"] < date(data.end.year, data.end.month, 1)
               for r in data.utility_readings)
    assert all(r["quantity"] > 0 for r in data.utility_readings)
    by = defaultdict(list)
    for r in data.utility_readings:
        by[r["uscc"]].append((r["month"], float(r["quantity"])))
    fell = 0
    for u in truth.defaulters & metered:
        d = truth.default_dates[u]
        before = [q for m, q in by[u] if m < truth.decline_dates.get(u, d)]
        after = [q for m, q in by[u] if m >= d]
        if before and after:
            fell += max(after) < 0.5 * min(before)
    assert fell >= 1
    again = simulate(n_vendors=300, months=18, seed=11, end=date(2026, 11, 30))
    assert again.utility_readings == data.utility_readings
