"""The outside park generator itself: deterministic, valid identities, the promised shape.

These tests read the export the way a stranger would (files and truth only).
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections import defaultdict
from datetime import date, timedelta
from itertools import combinations, pairwise

import numpy as np
import pytest

from tests.outside import baseline, identity, loans, park_export, plants, world

SEED = 11


@pytest.fixture(scope="module")
def park(tmp_path_factory):
    out = tmp_path_factory.mktemp("park")
    began = time.perf_counter()
    truth = park_export.generate(SEED, 400, out)
    return {"dir": out, "truth": truth, "seconds": time.perf_counter() - began}


def read(park, name: str) -> list[dict]:
    """The rows of an exported file, decoded with the encoding the truth names (cached)."""
    cache = park.setdefault("rows", {})
    if name not in cache:
        spec = park["truth"]["files"][name]
        text = (park["dir"] / spec["path"]).read_bytes().decode(spec["encoding"])
        cache[name] = list(csv.DictReader(io.StringIO(text, newline="")))
    return cache[name]


def month_key(text: str) -> str:
    return text[:7]


def auc(score: np.ndarray, y: np.ndarray) -> float:
    ranks = np.argsort(np.argsort(score)) + 1.0
    n1 = y.sum()
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def test_fast_enough(park):
    assert park["seconds"] < 30  # a few seconds on an idle core; generous for a shared one


def test_same_seed_same_bytes(tmp_path):
    park_export.generate(5, 60, tmp_path / "a")
    park_export.generate(5, 60, tmp_path / "b")
    park_export.generate(6, 60, tmp_path / "c")
    names = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert len(names) == len(park_export.FILES) + 3
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    inv = "export/invoices.csv"
    assert (tmp_path / "a" / inv).read_bytes() != (tmp_path / "c" / inv).read_bytes()


@pytest.mark.parametrize("code", ["914403001922038216", "91440300708461136T",
                                  "91330100716105852F"])
def test_check_characters_of_real_codes(code):
    assert identity.uscc_valid(code)
    assert identity.uscc_check(code[:17]) == code[17]
    assert identity.org_check(code[8:16]) == code[16]
    for pos in (3, 10, 17):  # any single changed character is refused
        other = "1" if code[pos] != "1" else "2"
        assert not identity.uscc_valid(code[:pos] + other + code[pos + 1:])


@pytest.mark.parametrize("body,check", [("19220382", "1"), ("70846113", "6"),
                                        ("00000000", "0"), ("00000006", "X")])
def test_org_code_check(body, check):
    # the last two rows: 11 - (sum mod 11) = 11 is written 0, 10 is written X
    assert identity.org_check(body) == check


def test_every_uscc_valid_and_known(park):
    firms = read(park, "firms.csv")
    codes = [f["统一社会信用代码"] for f in firms]
    assert len(codes) == len(set(codes)) == 405
    assert all(identity.uscc_valid(c) for c in codes)
    known = set(codes)
    for inv in read(park, "invoices.csv"):
        assert inv["销方税号"] in known and inv["购方税号"] in known
    for pay in read(park, "payments.csv"):
        assert pay["payer_id"] in known and pay["payee_id"] in known


def test_default_rate_in_range(park):
    truth = park["truth"]
    rows = [f for f in truth["firms"] if f["cutoff_loan"]]
    rate = sum(f["defaulted"] for f in rows) / len(rows)
    assert 0.20 <= rate <= 0.25
    assert rate == pytest.approx(truth["cutoff_default_rate"], abs=1e-4)
    assert len(rows) >= 380
    for f in rows:
        if f["defaulted"]:
            assert date.fromisoformat(f["default_date"]) > date.fromisoformat(truth["cutoff"])


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_default_rate_in_range_for_other_seeds(seed):
    rng = np.random.default_rng(seed)
    w = world.build(rng, seed=seed, vendors=400, cutoff=date(2025, 6, 30), history_months=30,
                    after_months=0)
    plants.choose(rng, w)
    booked, rate = loans.at_cutoff(rng, w)
    assert 0.20 <= rate <= 0.25
    assert rate == sum(loan["defaulted"] for loan in booked) / len(booked)


def test_defaults_are_learnable_from_the_export(park):
    truth = park["truth"]
    rows = [f for f in truth["firms"] if f["cutoff_loan"]]
    y = np.array([f["defaulted"] for f in rows], dtype=float)
    assert auc(np.array([f["pd_true"] for f in rows]), y) > 0.85  # the ceiling
    cutoff = date.fromisoformat(truth["cutoff"])
    recent = {month_key(str(cutoff - timedelta(days=31 * k))) for k in range(3)}
    before = {month_key(str(cutoff - timedelta(days=31 * k))) for k in range(3, 9)}
    sales = defaultdict(lambda: [0.0, 0.0])
    for inv in read(park, "invoices.csv"):
        m = month_key(inv["开票日期"])
        if m in recent:
            sales[inv["销方税号"]][0] += float(inv["价税合计(元)"]) / 3
        elif m in before:
            sales[inv["销方税号"]][1] += float(inv["价税合计(元)"]) / 6
    shrink = np.array([np.log((sales[f["uscc"]][1] + 1) / (sales[f["uscc"]][0] + 1))
                       for f in rows])
    assert auc(shrink, y) > 0.62  # one raw trace already separates; a model can do better


def test_no_deliveries_and_the_promised_headers(park):
    export = park["dir"] / "export"
    names = sorted(p.name for p in export.iterdir())
    assert names == sorted(park_export.FILES)
    assert not any("deliver" in n or "发货" in n for n in names)
    assert "deliveries" in park["truth"]["kinds_absent"]
    pays = read(park, "payments.csv")
    assert not any("ref" in k.lower() or "流水" in k for k in pays[0])
    assert {"发票号码", "开票日期", "金额(元)", "购方税号", "销方税号"} <= set(
        read(park, "invoices.csv")[0])
    assert {"order_no", "date", "amount"} <= set(read(park, "orders.csv")[0])
    money = re.compile(r"^-?\d+\.\d{2}$")
    assert all(money.match(p["amount"]) for p in pays)


def test_orders_on_most_invoices_not_all(park):
    invs = read(park, "invoices.csv")
    orders = {o["order_no"] for o in read(park, "orders.csv")}
    missing = sum(1 for i in invs if not i["订单号"]) / len(invs)
    assert 0.04 <= missing <= 0.20
    cited = [i["订单号"] for i in invs if i["订单号"]]
    assert sum(1 for o in cited if o in orders) / len(cited) > 0.99


def test_payments_settle_several_parts_and_late(park):
    pays = read(park, "payments.csv")
    allocation = list(csv.DictReader((park["dir"] / "truth_payments.csv").open(
        encoding="utf-8", newline="")))
    assert len(allocation) == len(pays)
    many = sum(1 for a in allocation if len(a["invoices"].split()) > 1)
    assert many > 0.05 * len(allocation)
    invs = {i["发票号码"]: i for i in read(park, "invoices.csv")}
    paid = defaultdict(float)
    for a in allocation:
        if len(a["invoices"].split()) == 1:
            paid[a["invoices"]] += float(a["amount"])
    partial = sum(1 for no, amount in paid.items()
                  if amount < float(invs[no]["价税合计(元)"]) - 0.005)
    assert partial > 50
    anchors = {f["uscc"] for f in park["truth"]["firms"] if f["role"] == "anchor"}
    by_anchor = [p for p in pays if p["payer_id"] in anchors]
    month_ends = sum(1 for p in by_anchor
                     if (date.fromisoformat(p["date"]) + timedelta(days=1)).day == 1)
    assert month_ends == len(by_anchor) > 0


def test_gbk_file_as_excel_saves_it(park):
    raw = (park["dir"] / "export" / "firms.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gbk")
    assert text.startswith("企业名称,统一社会信用代码")
    assert "\r\n" in text
    assert re.search("[\uff01-\uff5e]", text), "some names carry full-width characters"
    assert (park["dir"] / "export" / "invoices.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_tax_meters_and_loans_cover_some_firms_not_all(park):
    vendors = {f["uscc"] for f in park["truth"]["firms"] if f["role"] != "anchor"}
    tax = read(park, "tax_filings.csv")
    assert {"季报", "年报"} == {t["申报类型"] for t in tax}
    for rows, key in ((tax, "纳税人识别号"), (read(park, "electricity.csv"), "统一社会信用代码"),
                      (read(park, "social_insurance.csv"), "uscc")):
        covered = {r[key] for r in rows}
        assert 0.3 * len(vendors) < len(covered & vendors) < 0.9 * len(vendors)
    cutoff = park["truth"]["cutoff"]
    assert all(t["申报日期"] <= cutoff for t in tax)
    past = read(park, "loans.csv")
    assert {"Y", "N"} == {loan["defaulted"] for loan in past}
    assert all(loan["default_date"] <= cutoff for loan in past if loan["defaulted"] == "Y")
    assert all(loan["loan_date"] < cutoff for loan in past)


def test_nothing_dated_after_the_cutoff_by_default(park):
    cutoff = park["truth"]["cutoff"]
    assert max(i["开票日期"] for i in read(park, "invoices.csv")) <= cutoff
    assert max(p["date"] for p in read(park, "payments.csv")) <= cutoff
    assert max(o["date"] for o in read(park, "orders.csv")) <= cutoff


def test_switchers_and_seasons(park):
    truth = park["truth"]
    switched = [f["uscc"] for f in truth["firms"] if f["switched_anchor"]]
    assert len(switched) >= 5
    rel = read(park, "relationships.csv")
    ended = {r["供应商统一社会信用代码"] for r in rel if r["合作结束日期"]}
    assert set(switched) <= ended
    appliance = {f["uscc"] for f in truth["firms"] if f["sector"] == "appliance"}
    by_month = defaultdict(float)
    for inv in read(park, "invoices.csv"):
        if inv["销方税号"] in appliance:
            by_month[inv["开票日期"][5:7]] += float(inv["价税合计(元)"])
    assert by_month["05"] > 1.5 * by_month["11"]


def _sales_by_month(park, seller: str) -> dict[str, float]:
    if "sales" not in park:
        park["sales"] = defaultdict(lambda: defaultdict(float))
        for inv in read(park, "invoices.csv"):
            park["sales"][inv["销方税号"]][month_key(inv["开票日期"])] += float(
                inv["价税合计(元)"])
    return park["sales"][seller]


def test_every_kind_of_fraud_is_planted(park):
    truth = park["truth"]
    kinds = {f["fraud"] for f in truth["firms"]}
    assert kinds == {"none", *plants.KINDS}
    for kind in plants.KINDS:
        assert truth["plants"][kind], kind


def test_rings_close_in_any_order_with_money_round(park):
    invs = {i["发票号码"]: i for i in read(park, "invoices.csv")}
    pays = read(park, "payments.csv")
    paid = {(p["payer_id"], p["payee_id"], p["amount"]) for p in pays}
    out_of_order = 0
    for ring in park["truth"]["plants"]["circular_ring"]:
        members = ring["firms"]
        assert 3 <= len(members) <= 5
        legs = [invs[n] for n in ring["invoices"]]
        by_month = defaultdict(list)
        for leg in legs:
            by_month[month_key(leg["开票日期"])].append(leg)
        for month_legs in by_month.values():
            assert len(month_legs) == len(members)
            edges = {(leg["销方税号"], leg["购方税号"]) for leg in month_legs}
            k = len(members)
            assert edges == {(members[j], members[(j + 1) % k]) for j in range(k)}
            amounts = [float(leg["价税合计(元)"]) for leg in month_legs]
            assert max(amounts) / min(amounts) < 1.07
            dated = sorted(month_legs, key=lambda leg: leg["开票日期"])
            sellers = [members.index(leg["销方税号"]) for leg in dated]
            in_cycle_order = all((b - a) % k == 1 for a, b in pairwise(sellers))
            out_of_order += not in_cycle_order
        for leg in legs[:-len(members)]:  # all but the last month are paid by the cut-off
            assert (leg["购方税号"], leg["销方税号"], leg["价税合计(元)"]) in paid
    assert out_of_order >= 3


def test_decoy_cycles_are_clean_trade(park):
    truth = park["truth"]
    fraud = {f["uscc"]: f["fraud"] for f in truth["firms"]}
    legs = defaultdict(list)
    for inv in read(park, "invoices.csv"):
        legs[(inv["销方税号"], inv["购方税号"])].append(float(inv["价税合计(元)"]))
    assert len(truth["plants"]["decoy_cycle"]) == 2
    for decoy in truth["plants"]["decoy_cycle"]:
        members = decoy["firms"]
        assert all(fraud[u] == "none" for u in members)
        totals = [sum(legs[(members[j], members[(j + 1) % 3])]) for j in range(3)]
        assert min(totals) > 0


def test_duplicate_pairs(park):
    invs = {i["发票号码"]: i for i in read(park, "invoices.csv")}
    pairs = park["truth"]["plants"]["duplicate_invoice"]
    assert {p["variant"] for p in pairs} == {"amount_1fen", "date_1day"}
    for pair in pairs:
        a, b = invs[pair["original"]], invs[pair["duplicate"]]
        assert (a["销方税号"], a["购方税号"]) == (b["销方税号"], b["购方税号"])
        assert a["销方税号"] == pair["seller"]
        cents = abs(round(float(a["价税合计(元)"]) * 100) - round(float(b["价税合计(元)"]) * 100))
        days = abs((date.fromisoformat(a["开票日期"]) - date.fromisoformat(b["开票日期"])).days)
        assert (cents, days) in {(1, 0), (0, 1)}


def test_shared_identities_only_where_planted(park):
    firms = {f["统一社会信用代码"]: f for f in read(park, "firms.csv")}
    columns = {"phone": "联系电话", "legal_rep": "法定代表人", "address": "注册地址",
               "bank_account": "银行账号"}
    planted = set()
    for plant in park["truth"]["plants"]["shared_identity"]:
        a, b = (firms[u] for u in plant["firms"])
        for attr in plant["shared"]:
            assert a[columns[attr]] == b[columns[attr]]
        planted.add(frozenset(plant["firms"]))
    found = set()
    for a, b in combinations(firms.values(), 2):
        if any(a[c] == b[c] for c in columns.values()):
            found.add(frozenset((a["统一社会信用代码"], b["统一社会信用代码"])))
    assert found == planted


def months_back(day: date, k: int) -> str:
    y, m = divmod(day.year * 12 + day.month - 1 - k, 12)
    return f"{y:04d}-{m + 1:02d}"


def test_spikes_and_paper_trade(park):
    truth = park["truth"]
    cutoff = date.fromisoformat(truth["cutoff"])
    months = [months_back(cutoff, k) for k in range(18)]
    power = defaultdict(dict)
    for r in read(park, "electricity.csv"):
        power[r["统一社会信用代码"]][month_key(r["抄表日期"])] = float(r["用电量(千瓦时)"])
    heads = defaultdict(dict)
    for r in read(park, "social_insurance.csv"):
        heads[r["uscc"]][r["month"]] = float(r["insured_headcount"])
    for plant in truth["plants"]["invoice_spike"]:
        sales = _sales_by_month(park, plant["firm"])
        usual = np.mean([sales.get(m, 0.0) for m in months[2:12]])
        assert min(sales[m] for m in plant["months"]) > 2.5 * usual
    for plant in truth["plants"]["paper_trade"]:
        sales = _sales_by_month(park, plant["firm"])
        year_before = np.mean([sales.get(m, 0.0) for m in months[12:18]])
        last = np.mean([sales.get(m, 0.0) for m in months[0:3]])
        assert last > 1.8 * year_before
        for meter in (power, heads):
            series = meter[plant["firm"]]
            a = np.mean([series[m] for m in months[12:15] if m in series])
            b = np.mean([series[m] for m in months[0:3] if m in series])
            assert 0.75 < b / a < 1.33


def test_truth_files(park):
    data = json.loads((park["dir"] / "truth.json").read_text(encoding="utf-8"))
    assert data["cutoff"] == "2025-06-30" and data["seed"] == SEED
    assert {v["kind"] for v in data["files"].values()} == set(data["kinds_present"])
    table = list(csv.DictReader((park["dir"] / "truth_firms.csv").open(encoding="utf-8")))
    assert len(table) == len(data["firms"]) == 405
    assert {r["fraud"] for r in table} == {"none", *plants.KINDS}


def test_after_months_adds_later_trade(tmp_path):
    truth = park_export.generate(3, 60, tmp_path, after_months=2)
    text = (tmp_path / "export" / "invoices.csv").read_text(encoding="utf-8-sig")
    dates = [row["开票日期"] for row in csv.DictReader(io.StringIO(text))]
    assert max(dates) > truth["cutoff"]
    assert truth["export_end"] == "2025-08-31"


def test_refuses_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="month end"):
        park_export.generate(1, 100, tmp_path, cutoff=date(2025, 6, 15))
    with pytest.raises(ValueError, match="60 vendors"):
        park_export.generate(1, 10, tmp_path)


def test_plain_baseline_from_the_export_alone(park):
    truth = park["truth"]
    names, x, codes = baseline.features(park["dir"], truth)
    assert x.shape == (truth["cutoff_loans"], len(names))
    y = np.array([f["defaulted"] for f in truth["firms"] if f["cutoff_loan"]], dtype=float)
    scores = baseline.cross_validated_auc(x, y)
    ceiling = auc(np.array([f["pd_true"] for f in truth["firms"] if f["cutoff_loan"]]), y)
    assert 0.7 < np.mean(scores) < ceiling
