"""Fraud screens: each planted pattern is flagged with evidence; ordinary trade is not."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from trellis.scoring import features, frames, screens

AS_OF = date(2026, 1, 15)


def run(session, cluster, applied_on=None):
    fr = frames.load(session=session, as_of=AS_OF, cluster_id=cluster.id)
    return screens.run(fr, features.compute(fr), applied_on=applied_on)


@pytest.fixture
def firms(make_cluster, make_firm):
    cluster = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=cluster.id)
    vs = [make_firm(cluster_id=cluster.id) for _ in range(4)]
    return cluster, anchor, vs


@pytest.mark.parametrize("lined_up", [True, False])
def test_circular_trading_needs_amounts_and_dates_that_line_up(session, trade, firms, lined_up):
    cluster, _, (a, b, c, _) = firms
    rng = np.random.default_rng(3)
    day = date(2025, 6, 1)
    for k in range(5):
        amount = 300_000_00 + k * 1_000_00
        for i, (s, t) in enumerate([(a, b), (b, c), (c, a)]):
            if lined_up:
                trade.sale(s, t, amount, day + timedelta(days=i), order=False)
            else:  # the same three edges, but unrelated amounts and dates
                trade.sale(s, t, int(rng.integers(10, 90)) * 10_000_00,
                           day + timedelta(days=int(rng.integers(0, 120))))
        day += timedelta(days=20)
    flags = run(session, cluster)
    got = {f for f, fl in flags.items() if any(x.code == "circular_trading" for x in fl)}
    if lined_up:
        assert got == {a.id, b.id, c.id}
        ev = next(x for x in flags[a.id] if x.code == "circular_trading").evidence
        assert ev["loops"] == 5 and len(ev["latest_loop"]) == 3
    else:
        assert got == set()


@pytest.mark.parametrize("order", ["reverse", "shuffled", "split"])
def test_a_ring_is_found_whatever_order_its_legs_are_issued_in(session, trade, firms, order):
    """The ring of issue 14: a real cycle whose legs were not issued in cycle order (the
    old screen only followed legs issued 0-15 days apart in cycle order), or whose legs
    carry the same money in different invoices."""
    cluster, _, (a, b, c, d) = firms
    rng = np.random.default_rng(11)
    legs = [(a, b), (b, c), (c, d), (d, a)]
    day = date(2025, 3, 3)
    for _k in range(8):
        amount = int(rng.integers(30, 70)) * 10_000_00
        if order == "reverse":
            issue = [day + timedelta(days=3 * (3 - i)) for i in range(4)]
        else:
            offsets = rng.permutation(4) * int(rng.integers(2, 9))
            issue = [day + timedelta(days=int(o)) for o in offsets]
        for (s_, t), when in zip(legs, issue, strict=True):
            if order == "split" and s_ is b:  # the same money in two invoices
                trade.sale(s_, t, amount // 2, when, order=False, paid_after=30)
                trade.sale(s_, t, amount - amount // 2, when + timedelta(days=1),
                           order=False, paid_after=30)
            else:
                trade.sale(s_, t, amount, when, order=False, paid_after=30)
        day += timedelta(days=31)
    flags = run(session, cluster)
    got = {f for f, fl in flags.items() if any(x.code == "circular_trading" for x in fl)}
    assert got == {a.id, b.id, c.id, d.id}
    ev = next(x for x in flags[a.id] if x.code == "circular_trading").evidence
    assert ev["strength"] >= screens.RING_MIN_STRENGTH and ev["paid_round"] == 1.0
    assert max(ev["loops"], ev["consistent_months"]) >= 4
    zh = next(x for x in flags[a.id] if x.code == "circular_trading").zh
    assert "循环交易" in zh
    # the strength reads as the evidence table shows it (issue 15: 0.98 beside 98.5%)
    assert f"，{ev['strength']:.1%}）" in zh


def test_ring_evidence_strength_grows_with_each_kind_of_evidence():
    day = np.arange(0, 300, 30)
    amounts = np.full(day.size, 500_000_00.0)
    legs = [{"day": day + i, "amount": amounts} for i in range(3)]
    unpaid = screens.ring_evidence(legs, [0, 0, 0], 330)
    paid = screens.ring_evidence(legs, [amounts.sum()] * 3, 330)
    assert paid["strength"] > unpaid["strength"] and paid["flag"]
    rng = np.random.default_rng(0)
    noise = [{"day": np.sort(rng.integers(0, 330, 10)),
              "amount": rng.integers(10, 90, 10) * 10_000_00.0} for _ in range(3)]
    weak = screens.ring_evidence(noise, [float(x["amount"].sum()) for x in noise], 330)
    assert weak["strength"] < screens.RING_MIN_STRENGTH and not weak["flag"]


@pytest.mark.parametrize("amount_b,day_b,flagged", [
    (120_000_01, date(2025, 9, 1), True),    # a cent more, same day
    (120_000_00, date(2025, 9, 2), True),    # the same amount a day later
    (120_000_99, date(2025, 9, 3), True),    # 99 fen more, two days later
    (120_090_00, date(2025, 9, 1), False),   # 90 yuan more (0.075%): another sale
    (121_000_00, date(2025, 9, 1), False),   # 1,000 yuan more: another sale
    (120_000_00, date(2025, 9, 20), False),  # the same amount weeks later
])
def test_near_duplicate_invoices(session, trade, firms, amount_b, day_b, flagged):
    cluster, anchor, (v, *_) = firms
    trade.sale(v, anchor, 120_000_00, date(2025, 9, 1), number="00001234")
    trade.sale(v, anchor, amount_b, day_b, number="00009876")
    hits = [f for f in run(session, cluster).get(v.id, []) if f.code == "duplicate_invoice"]
    assert bool(hits) == flagged
    if hits:
        assert hits[0].evidence["match"] == "fp_near"
        assert {r["invoice"] for r in hits[0].evidence["invoices"]} == {"00001234", "00009876"}


def test_identical_daily_deliveries_are_a_routine_not_duplicates(session, trade, firms):
    cluster, anchor, (v, *_) = firms
    for d in range(10):
        trade.sale(v, anchor, 50_000_00, date(2025, 9, 1) + timedelta(days=d))
    assert not [f for f in run(session, cluster).get(v.id, []) if f.code == "duplicate_invoice"]


@pytest.mark.parametrize("number_a,number_b,same_content,flagged", [
    ("INV-0001", "INV-0002", True, True),    # same buyer, amount and date, new number
    ("INV-0001", "inv0001", False, True),    # the same number written differently
    ("INV-0001", "INV-0002", False, False),  # two ordinary invoices
])
def test_duplicate_invoices(session, trade, firms, number_a, number_b, same_content, flagged):
    cluster, anchor, (v, *_) = firms
    trade.sale(v, anchor, 120_000_00, date(2025, 9, 1), number=number_a)
    trade.sale(v, anchor, 120_000_00 if same_content else 80_000_00,
               date(2025, 9, 1) if same_content else date(2025, 10, 3), number=number_b,
               order=False)
    flags = run(session, cluster).get(v.id, [])
    dup = [f for f in flags if f.code == "duplicate_invoice"]
    assert bool(dup) == flagged
    if flagged:
        assert {i["invoice"] for i in dup[0].evidence["invoices"]} == {number_a, number_b}


@pytest.mark.parametrize("number_b,amount_b,day_b", [
    ("INV-0002", 120_000_00, date(2025, 9, 1)),   # same buyer, amount and date
    ("inv0001", 80_000_00, date(2025, 10, 3)),    # the same number, a month later
    ("INV-0002", 120_000_01, date(2025, 9, 2)),   # near: a cent more, a day later
])
@pytest.mark.parametrize("rejected", ["copy", "original", "neither"])
def test_a_rejected_invoice_is_named_only_as_a_rejected_copy(session, trade, firms, number_b,
                                                             amount_b, day_b, rejected):
    """G28: the warning named an invoice the buyer had rejected as a duplicate, as if it
    could still be financed twice (the anchor's queue names no rejected twin,
    ``evidence.duplicate_numbers``). A copy the buyer rejected is still flagged (the
    seller issued the invoice twice) in words that say the buyer rejected it; an original
    the buyer rejected and the seller then re-issued later is ordinary business."""
    cluster, anchor, (v, *_) = firms
    a = trade.sale(v, anchor, 120_000_00, date(2025, 9, 1), number="INV-0001")
    b = trade.sale(v, anchor, amount_b, day_b, number=number_b, order=False)
    if rejected != "neither":
        (b if rejected == "copy" else a).status = "rejected"
        session.flush()
    dup = [f for f in run(session, cluster).get(v.id, []) if f.code == "duplicate_invoice"]
    # an original rejected on the very day of its twin: that twin cannot be its re-issue
    reissued = rejected == "original" and day_b > date(2025, 9, 1)
    assert len(dup) == (0 if reissued else 1)
    if dup:
        assert {i["invoice"] for i in dup[0].evidence["invoices"]} == {"INV-0001", number_b}
        caught = "INV-0001" if rejected == "original" else number_b
        if rejected == "neither":
            assert "rejected" not in dup[0].en and "拒绝" not in dup[0].zh
        else:
            assert dup[0].en.startswith(f"The buyer rejected {caught}, a copy of invoice ")
            assert dup[0].zh.startswith(f"买方已拒绝发票{caught}，")


def test_a_rejected_third_copy_is_not_named_beside_two_live_ones(session, trade, firms):
    cluster, anchor, (v, *_) = firms
    for number, status in (("INV-7", "pending"), ("INV-8", "confirmed"), ("INV-9", "rejected")):
        trade.sale(v, anchor, 120_000_00, date(2025, 9, 1), number=number).status = status
    session.flush()
    dup = [f for f in run(session, cluster).get(v.id, []) if f.code == "duplicate_invoice"]
    assert [{i["invoice"] for i in f.evidence["invoices"]} for f in dup] == [{"INV-7", "INV-8"}]
    assert "INV-9" not in dup[0].en + dup[0].zh


@pytest.mark.parametrize("unbacked,flagged", [(0, False), (1, False), (6, True)])
def test_invoices_without_order_or_delivery(session, trade, firms, unbacked, flagged):
    cluster, anchor, (v, *_) = firms
    for i in range(8):
        trade.sale(v, anchor, 50_000_00, date(2025, 3, 1) + timedelta(days=30 * i),
                   order=i >= unbacked, delivered=True)
    codes = {f.code for f in run(session, cluster).get(v.id, [])}
    assert ("unbacked_invoices" in codes) == flagged


@pytest.mark.parametrize("n,amount_fen,backed,flagged", [
    (4, 67_000_00, False, True),   # 3.5 x the usual 28 days, unbacked: flagged
    (4, 67_000_00, True, False),   # 3.5 x, every invoice ordered and delivered: business
    (6, 80_000_00, True, False),   # 6.3 x, ordered and delivered: a lumpy seller's month
    (8, 80_000_00, True, True),    # 8.4 x: flagged even with orders behind it
])
def test_burst_before_application(session, trade, firms, n, amount_fen, backed, flagged):
    cluster, anchor, (v, *_) = firms
    # 100k a month from March to November 2025: about 76.5k in a usual 28 days.
    trade.monthly_sales(v, anchor, start=date(2025, 3, 5), months=9, amount_fen=100_000_00)
    applied = date(2026, 1, 10)
    for k in range(n):
        trade.sale(v, anchor, amount_fen, applied - timedelta(days=2 + 2 * k),
                   order=backed, delivered=backed)
    flags = run(session, cluster, applied_on={v.id: applied}).get(v.id, [])
    burst = [f for f in flags if f.code == "sales_burst"]
    assert bool(burst) == flagged
    if flagged:
        assert burst[0].evidence["ratio"] > 3 and burst[0].evidence["applied_on"] == "2026-01-10"


@pytest.mark.parametrize("field,a,b,flagged", [
    ("phone", "138-0000-1111", "13800001111", True),
    ("phone", "13800001111", "13800002222", False),
    ("bank_account", "6222 0210 0111 2222", "6222021001112222", True),
    ("address", "杭州市 滨江区 1号", "杭州市滨江区1号", True),
])
def test_shared_identity(session, firms, field, a, b, flagged):
    cluster, _, (v, w, *_) = firms
    setattr(v, field, a)
    setattr(w, field, b)
    session.add_all([v, w])
    session.flush()
    flags = run(session, cluster)
    for me, other in ((v, w), (w, v)):
        hits = [f for f in flags.get(me.id, []) if f.code == f"shared_{field}"]
        assert bool(hits) == flagged
        if flagged:
            assert hits[0].evidence["firms"][0]["firm_id"] == other.id


@pytest.mark.parametrize("declared_yuan,flagged", [(None, False), (2_400_000, False),
                                                   (5_000_000, False), (600_000, True)])
def test_tax_filing_that_contradicts_the_flows(session, trade, firms, declared_yuan, flagged):
    cluster, anchor, (v, *_) = firms
    trade.monthly_sales(v, anchor, start=date(2025, 1, 5), months=12, amount_fen=200_000_00)
    if declared_yuan is not None:
        v.tax_vat_sales_fen = declared_yuan * 100
        v.tax_period = "2025"
        session.add(v)
        session.flush()
    codes = {f.code for f in run(session, cluster).get(v.id, [])}
    assert ("tax_contradiction" in codes) == flagged


@pytest.mark.parametrize("period,declared_yuan,flagged", [
    ("2025Q2", 1_200_000, False),      # a quarter's filing against that quarter's sales
    ("2025年第2季度", 300_000, True),   # a quarter declared at a quarter of its sales
    ("2025-03", 400_000, False),       # one month
    ("2025-01~2025-06", 2_400_000, False),
    ("2026Q1", 100, False),            # the quarter has not ended: not assessed
    ("soon", 100, False),              # unreadable period: not assessed
])
def test_tax_comparison_uses_the_filings_period(session, trade, firms, period, declared_yuan,
                                                flagged):
    """Sales grow from 100,000 to 650,000 yuan a month over 2025: comparing a quarterly
    filing with a year of sales (the old rule) would call every filing a contradiction."""
    cluster, anchor, (v, *_) = firms
    for i in range(12):
        trade.sale(v, anchor, (100_000 + 50_000 * i) * 100, date(2025, i + 1, 5))
    v.tax_vat_sales_fen = declared_yuan * 100
    v.tax_period = period
    session.add(v)
    session.flush()
    fr = frames.load(session=session, as_of=AS_OF, cluster_id=cluster.id)
    X = features.compute(fr)
    flags = screens.run(fr, X)
    hits = [f for f in flags.get(v.id, []) if f.code == "tax_contradiction"]
    assert bool(hits) == flagged
    if period in ("2026Q1", "soon"):
        assert np.isnan(X.loc[v.id, "tax_to_flow_ratio"])
    if hits:
        assert hits[0].evidence["platform_fen"] == (250_000 + 300_000 + 350_000) * 100


@pytest.mark.parametrize("text,bounds", [
    ("2025", ("2025-01-01", "2026-01-01")), ("2025年", ("2025-01-01", "2026-01-01")),
    ("2025Q4", ("2025-10-01", "2026-01-01")), ("2025-q1", ("2025-01-01", "2025-04-01")),
    ("202506", ("2025-06-01", "2025-07-01")), ("2025年6月", ("2025-06-01", "2025-07-01")),
    ("2025-11至2026-02", ("2025-11-01", "2026-03-01")), ("2025-13", None), ("", None),
    (None, None),
])
def test_tax_period_bounds(text, bounds):
    got = features.tax_period_bounds(text)
    assert (None if got is None else tuple(x.date().isoformat() for x in got)) == bounds


@pytest.mark.parametrize("kind,verdicts", [
    ("benford", {"close", "acceptable"}),
    ("uniform", {"nonconformity"}),
])
def test_benford_first_digit(kind, verdicts):
    rng = np.random.default_rng(1)
    if kind == "benford":
        amounts = (10 ** rng.uniform(3, 7, 20_000) * 100).astype("int64")
    else:
        amounts = rng.integers(1_000, 9_999, 20_000) * 100
    out = screens.benford(amounts)
    assert out["verdict"] in verdicts and out["n"] == 20_000
    assert out["p_value"] < 0.01 if kind == "uniform" else True


def test_a_clean_supply_chain_raises_no_flag(session, trade, firms):
    cluster, anchor, (a, b, c, d) = firms
    for s, t in ((a, anchor), (b, anchor), (c, a), (d, b)):
        trade.monthly_sales(s, t, start=date(2025, 1, 5), months=12, amount_fen=70_000_00,
                            per_month=2)
    assert run(session, cluster) == {}


@pytest.mark.parametrize("backed,flagged", [(False, True), (True, False)])
def test_a_spike_over_the_last_two_months_is_a_burst(session, trade, firms, backed, flagged):
    """Each of the last two complete months at 5 x a usual month, mostly without orders:
    flagged though the 28 days before the application hold nothing unusual."""
    cluster, anchor, (v, *_) = firms
    trade.monthly_sales(v, anchor, start=date(2024, 11, 5), months=14, amount_fen=100_000_00)
    for month in (11, 12):
        for k in range(4):
            trade.sale(v, anchor, 100_000_00, date(2025, month, 2 + k),
                       order=backed, delivered=backed)
    burst = [f for f in run(session, cluster).get(v.id, []) if f.code == "sales_burst"]
    assert bool(burst) == flagged
    if flagged:
        ev = burst[0].evidence
        assert ev["rule"] == "two_months" and ev["ratio"] >= 4.0
        assert ev["unbacked_share"] == pytest.approx(0.8) and ev["usual_unbacked_share"] == 0


@pytest.mark.parametrize("nov,dec,backed,flagged", [
    (3.6, 1.95, False, True),    # 4.6x then 2.95x, 74% without orders: park 4903's miss
    (3.6, 1.95, True, False),    # the same two months, ordered and delivered: business
    (1.0, 1.0, False, False),    # 2x in each, half without orders: 2.0 usual months
    (0.0, 3.6, False, True),     # a quiet month, then 4.6x: 3.6 usual months unbacked
])
def test_a_two_month_spike_is_scored_by_its_unbacked_sales_beyond_the_usual(
        session, trade, firms, nov, dec, backed, flagged):
    """The two months are weighed together (issue 14, park 4903: a lumpy seller whose
    May was 4.6x its usual month but June 2.95x, 91% without orders, escaped a rule that
    wanted 3x in each month): their sales without an order beyond the firm's usual share
    must come to SPIKE_MIN_EXCESS_MONTHS usual months. Extra sales on the 2nd-3rd, so
    that the 28-day rule (28 days before 15 January) sees none of them."""
    cluster, anchor, (v, *_) = firms
    trade.monthly_sales(v, anchor, start=date(2024, 11, 5), months=14, amount_fen=100_000_00)
    for month, times in ((11, nov), (12, dec)):
        for k in range(2):
            if times:
                trade.sale(v, anchor, int(times * 50_000_00), date(2025, month, 2 + k),
                           order=backed, delivered=backed)
    burst = [f for f in run(session, cluster).get(v.id, []) if f.code == "sales_burst"]
    assert bool(burst) == flagged
    if flagged:
        ev = burst[0].evidence
        assert ev["rule"] == "two_months" and ev["usual_unbacked_share"] == 0
        assert ev["excess_months"] == pytest.approx(nov + dec, abs=0.01)
        assert ev["ratio"] == pytest.approx(1 + (nov + dec) / 2, abs=0.01)


@pytest.mark.parametrize("months_before,flagged", [(4, True), (2, False)])
def test_a_young_firms_two_month_spike_is_a_burst(session, trade, firms, months_before,
                                                   flagged):
    """A vendor trading for a few months (at least the 28-day rule's three of history) whose
    last two complete months jump to 5 x its usual month, mostly without orders, is
    flagged (outside park 4902's missed spike: four months of sales, then the spike); two
    months of history are too few to call anything usual."""
    cluster, anchor, (v, *_) = firms
    trade.monthly_sales(v, anchor, start=date(2025, 11 - months_before, 5),
                        months=months_before + 2, amount_fen=100_000_00)
    for month in (11, 12):
        for k in range(4):
            trade.sale(v, anchor, 100_000_00, date(2025, month, 2 + k), order=False,
                       delivered=False)
    burst = [f for f in run(session, cluster).get(v.id, []) if f.code == "sales_burst"]
    assert bool(burst) == flagged
    if flagged:
        assert burst[0].evidence["rule"] == "two_months"
        assert burst[0].evidence["ratio"] >= 4.0


@pytest.mark.parametrize("numbers", [
    ["INV-0001", "inv0001", "0007", "7", "", "0", "000", "ab-0c", "00１２", "中文123", "x\r0y",
     "--00-ab", "é0", "0é0", "ß", "ǅ", "ﬁ", "0" * 32 + "1", "a" * 100, " 0 0a", "\t007\x00"],
    ["25332000010000000001", "25332000010000000002", "025332000010000000002"],
    ["same", "same"],
])
def test_invoice_numbers_normalised_as_bytes_equal_normalise_number(numbers):
    """The duplicate screen's normalised numbers for many invoices at once (bytes, zero
    padded 64-bit keys) equal :func:`screens.normalise_number` one by one, and two rows
    have equal keys exactly when their normalised numbers are equal."""
    packed = screens._Numbers.of(numbers)
    want = [screens.normalise_number(x) for x in numbers]
    assert [packed.text(i) for i in range(len(numbers))] == want
    keys = [packed.keys[i].tobytes() for i in range(len(numbers))]
    assert len(set(keys)) == len(set(want)) == len(set(zip(keys, want, strict=True)))


@pytest.mark.parametrize("numbers", [["a\nb", "c"], ["\ud800"], ["0" * 33 + "1"], []])
def test_invoice_numbers_the_bytes_cannot_hold_fall_back(numbers):
    """A number holding a newline, a lone surrogate or many leading zeros: None (the
    screen then normalises each number with the regular expression)."""
    assert screens._Numbers.of(numbers) is None
