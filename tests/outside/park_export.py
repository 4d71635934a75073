"""A second industrial-park cluster, exported the way a bank or a park would hand it over.

    python -m tests.outside.park_export --seed N --vendors 400 --out DIR

writes ``DIR/export/*.csv`` (the park's files, see ``FILES``) and, apart from them, the
ground truth ``DIR/truth.json``, ``DIR/truth_firms.csv`` and ``DIR/truth_payments.csv``.
Same seed and arguments, same bytes.  Written from the specification (README, DOMAIN,
issues 13 and 14) without reading Trellis' code; the mechanics are in ``world``,
``trade``, ``plants``, ``loans`` and ``meters``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import time
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from tests.outside import loans, meters, plants, trade, world

ROLE_ZH = {"anchor": "核心企业", "supplier": "供应商", "distributor": "经销商"}
# name -> (kind, encoding, header); the encoding is the one a reader must use.
FILES = {
    "firms.csv": ("firms", "gbk", ["企业名称", "统一社会信用代码", "企业类型", "所属行业",
                                    "法定代表人", "联系电话", "注册地址", "开户银行", "银行账号",
                                    "成立日期", "注册资本(万元)"]),
    "relationships.csv": ("relationships", "utf-8", ["供应商名称", "供应商统一社会信用代码",
                                                     "客户名称", "客户统一社会信用代码",
                                                     "合作开始日期", "合作结束日期"]),
    "orders.csv": ("orders", "utf-8", ["order_no", "date", "buyer_id", "buyer_name",
                                       "seller_id", "seller_name", "amount"]),
    "invoices.csv": ("invoices", "utf-8-sig", ["发票号码", "开票日期", "销方名称", "销方税号",
                                               "购方名称", "购方税号", "金额(元)", "税额(元)",
                                               "价税合计(元)", "订单号", "备注"]),
    "payments.csv": ("payments", "utf-8", ["date", "payer_name", "payer_id", "payer_account",
                                           "payee_name", "payee_id", "payee_account", "amount",
                                           "memo"]),
    "confirmations.csv": ("confirmations", "utf-8", ["核心企业名称", "核心企业税号", "供应商名称",
                                                     "供应商税号", "发票号码", "发票金额(元)",
                                                     "确权状态", "确权日期"]),
    "tax_filings.csv": ("tax_filings", "utf-8", ["纳税人名称", "纳税人识别号", "申报类型",
                                                 "所属期起", "所属期止", "申报日期", "销售额(元)",
                                                 "应纳税额(元)"]),
    "electricity.csv": ("electricity", "utf-8", ["户名", "统一社会信用代码", "抄表日期",
                                                 "用电量(千瓦时)"]),
    "social_insurance.csv": ("social_insurance", "utf-8", ["uscc", "month",
                                                           "insured_headcount"]),
    "loans.csv": ("loans", "utf-8", ["loan_no", "borrower_name", "borrower_id", "product",
                                     "loan_date", "maturity_date", "amount", "defaulted",
                                     "default_date"]),
}
ABSENT_KINDS = ["deliveries", "credit_notes", "returns"]


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def excel_date(day: date) -> str:
    return f"{day.year}/{day.month}/{day.day}"


def half(name: str) -> str:
    """The tax system prints names half-width; the park's list keeps full-width ones."""
    return unicodedata.normalize("NFKC", name)


def simulate(seed: int, vendors: int, cutoff: date, months: int, after_months: int) -> dict:
    rng = np.random.default_rng(seed)
    w = world.build(rng, seed=seed, vendors=vendors, cutoff=cutoff, history_months=months,
                    after_months=after_months)
    plants.choose(rng, w)
    cutoff_loans, rate = loans.at_cutoff(rng, w)
    past_loans = loans.historical(rng, w)
    numbers = trade.Numbers(rng)
    orders, invoices = trade.normal_trade(rng, w, numbers)
    ring_payments: list[dict] = []
    plants.documents(rng, w, numbers, invoices, orders, ring_payments)
    payments = trade.payments(rng, w, invoices) + ring_payments
    return {"world": w, "orders": orders, "invoices": invoices, "payments": payments,
            "confirmations": trade.confirmations(rng, w, invoices),
            "tax": meters.tax(rng, w, invoices), "power": meters.power(rng, w),
            "headcount": meters.headcount(rng, w), "cutoff_loans": cutoff_loans,
            "rate": rate, "past_loans": past_loans}


def _rows(sim: dict) -> dict[str, list[list[str]]]:
    w = sim["world"]
    f = w.firms
    out: dict[str, list[list[str]]] = {}
    out["firms.csv"] = [[x.name, x.uscc, ROLE_ZH[x.role], x.sector.label, x.legal_rep, x.phone,
                         x.address, x.bank, x.bank_account, excel_date(x.founded),
                         str(x.capital_wan)] for x in f]
    rel = []
    for e in w.edges:
        s, b = f[e.seller], f[e.buyer]
        start = w.month_start(max(e.start, s.entry, b.entry))
        end = w.month_end(e.end) if e.end < w.months - 1 else None
        rel.append([s.name, s.uscc, b.name, b.uscc, str(start), str(end) if end else ""])
    out["relationships.csv"] = rel
    orders = sorted(sim["orders"], key=lambda o: (o["date"], o["no"]))
    out["orders.csv"] = [[o["no"], str(o["date"]), f[o["buyer"]].uscc, f[o["buyer"]].name,
                          f[o["seller"]].uscc, f[o["seller"]].name, yuan(o["total"])]
                         for o in orders if o["date"] <= w.export_end]
    inv_rows = []
    for inv in sorted(sim["invoices"], key=lambda i: (i["date"], i["no"])):
        net = int(round(inv["total"] / 1.13))
        s, b = f[inv["seller"]], f[inv["buyer"]]
        inv_rows.append([inv["no"], str(inv["date"]), half(s.name), s.uscc, half(b.name), b.uscc,
                         yuan(net), yuan(inv["total"] - net), yuan(inv["total"]),
                         inv["order_no"], ""])
    out["invoices.csv"] = inv_rows
    pays = sorted(sim["payments"], key=lambda p: (p["date"], p["payer"], p["payee"],
                                                  p["amount"]))
    sim["payments_sorted"] = pays
    out["payments.csv"] = [[str(p["date"]), f[p["payer"]].name, f[p["payer"]].uscc,
                            f[p["payer"]].bank_account, f[p["payee"]].name, f[p["payee"]].uscc,
                            f[p["payee"]].bank_account, yuan(p["amount"]), p["memo"]]
                           for p in pays]
    out["confirmations.csv"] = [
        [f[c["invoice"]["buyer"]].name, f[c["invoice"]["buyer"]].uscc,
         half(f[c["invoice"]["seller"]].name), f[c["invoice"]["seller"]].uscc,
         c["invoice"]["no"], yuan(c["invoice"]["total"]), c["status"],
         str(c["date"]) if c["date"] else ""]
        for c in sorted(sim["confirmations"], key=lambda c: (c["invoice"]["buyer"],
                                                             c["invoice"]["date"],
                                                             c["invoice"]["no"]))]
    out["tax_filings.csv"] = [[f[r["firm"]].name, f[r["firm"]].uscc,
                               "季报" if r["style"] == "quarterly" else "年报", str(r["from"]),
                               str(r["to"]), str(r["filed"]), yuan(r["sales"]), yuan(r["tax"])]
                              for r in sim["tax"]]
    out["electricity.csv"] = [[f[r["firm"]].name, f[r["firm"]].uscc, str(r["date"]),
                               str(r["kwh"])] for r in sim["power"]]
    out["social_insurance.csv"] = [[f[r["firm"]].uscc, str(r["month"])[:7], str(r["n"])]
                                   for r in sim["headcount"]]
    out["loans.csv"] = [[f"DK{loan['date']:%Y%m%d}{n:04d}", f[loan["firm"]].name,
                         f[loan["firm"]].uscc, loan["product"], str(loan["date"]),
                         str(loan["maturity"]), yuan(loan["amount"]),
                         "Y" if loan["defaulted"] else "N",
                         str(loan["default_date"]) if loan["default_date"] else ""]
                        for n, loan in enumerate(sim["past_loans"], start=1)]
    return out


def _write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> None:
    buf = io.StringIO()
    # Excel writes CRLF; the GBK file is the one "saved by Excel"
    writer = csv.writer(buf, lineterminator="\r\n" if encoding == "gbk" else "\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


def _truth(sim: dict, args: dict, files: dict) -> tuple[dict, list[list]]:
    w = sim["world"]
    by_firm = {loan["firm"]: loan for loan in sim["cutoff_loans"]}
    firms, table = [], []
    for x in w.firms:
        loan = by_firm.get(x.idx)
        row = {"uscc": x.uscc, "name": x.name, "role": x.role, "tier": x.tier,
               "sector": x.sector.code, "first_trade_month": str(w.month_start(x.entry))[:7],
               "switched_anchor": x.switched, "fraud": x.fraud,
               "cutoff_loan": loan is not None,
               "loan_amount": yuan(loan["amount"]) if loan else None,
               "defaulted": loan["defaulted"] if loan else None,
               "default_date": str(loan["default_date"]) if loan and loan["default_date"]
               else None,
               "pd_true": round(loan["pd"], 4) if loan else None,
               "has_tax": x.tax_style != "none" and x.role != "anchor",
               "tax_period": x.tax_style if x.role != "anchor" else "none",
               "has_power": x.has_power, "has_headcount": x.has_headcount}
        firms.append(row)
        table.append([row[k] if row[k] is not None else "" for k in row])
    n_loans = len(sim["cutoff_loans"])
    truth = {
        "generator": "tests.outside.park_export", "format": 1, **args,
        "cutoff": str(w.cutoff), "history_start": str(w.start),
        "export_end": str(w.export_end),
        "cutoff_loans": n_loans,
        "cutoff_defaults": sum(loan["defaulted"] for loan in sim["cutoff_loans"]),
        "cutoff_default_rate": round(sim["rate"], 4),
        "files": files, "kinds_present": sorted(v["kind"] for v in files.values()),
        "kinds_absent": ABSENT_KINDS,
        "notes": {
            "amounts": "yuan with 2 decimals; 价税合计 is what orders and payments refer to",
            "names": "firms.csv keeps full-width characters; invoices and confirmations "
                     "print names half-width (NFKC); join on USCC",
            "orders": "most invoices carry 订单号; about 7% of invoices omit it and spot "
                      "sales have none; spike invoices may cite an order number that is not "
                      "in orders.csv",
            "payments": "no reference column; one payment may settle several invoices or "
                        "part of one; anchors pay at month ends; memo sometimes lists "
                        "invoice numbers; truth_payments.csv has the true allocation",
            "firms.csv": "GBK, CRLF, dates as yyyy/m/d (Excel)",
            "loans": "loans.csv is the bank's past book (outcomes known by the cut-off); "
                     "loans taken at the cut-off and their outcomes are only in this truth",
            "tax": "declared sales per period; a filing exists only once filed (申报日期)",
            "decoy_cycle": "legitimate trade cycles among clean firms (fraud none): "
                           "flagging them as circular trading is a false flag",
        },
        "plants": plants.truth(w),
        "firms": firms,
    }
    return truth, table


def generate(seed: int, vendors: int, out: Path | str, *, cutoff: date = date(2025, 6, 30),
             months: int = 30, after_months: int = 0) -> dict:
    """Simulate and write the park; return the truth (also written to ``out``)."""
    if vendors < 60:
        raise ValueError("at least 60 vendors are needed to plant every kind of fraud")
    if (cutoff + timedelta(days=1)).day != 1:
        raise ValueError("the cut-off must be a month end")
    if months < 24:
        raise ValueError("at least 24 months of history are needed")
    out = Path(out)
    (out / "export").mkdir(parents=True, exist_ok=True)
    sim = simulate(seed, vendors, cutoff, months, after_months)
    rows = _rows(sim)
    files = {}
    for name, (kind, encoding, header) in FILES.items():
        _write_csv(out / "export" / name, header, rows[name], encoding)
        files[name] = {"path": f"export/{name}", "kind": kind, "encoding": encoding,
                       "columns": header, "rows": len(rows[name])}
    args = {"seed": seed, "vendors": vendors, "months": months, "after_months": after_months}
    truth, table = _truth(sim, args, files)
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n",
                                    encoding="utf-8")
    header = list(truth["firms"][0].keys())
    _write_csv(out / "truth_firms.csv", header, table, "utf-8")
    pay_rows = [[str(n), str(p["date"]), sim["world"].firms[p["payer"]].uscc,
                 sim["world"].firms[p["payee"]].uscc, yuan(p["amount"]), " ".join(p["invoices"])]
                for n, p in enumerate(sim["payments_sorted"], start=1)]
    _write_csv(out / "truth_payments.csv", ["row", "date", "payer_id", "payee_id", "amount",
                                            "invoices"], pay_rows, "utf-8")
    return truth


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.outside.park_export",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--vendors", type=int, default=400)
    parser.add_argument("--out", required=True, help="directory to write into")
    parser.add_argument("--cutoff", type=date.fromisoformat, default=date(2025, 6, 30),
                        help="a month end (default 2025-06-30)")
    parser.add_argument("--months", type=int, default=30,
                        help="months of history, the cut-off month included (default 30)")
    parser.add_argument("--after-months", type=int, default=0,
                        help="months of trade after the cut-off (a leakage test)")
    a = parser.parse_args(argv)
    began = time.perf_counter()
    try:
        truth = generate(a.seed, a.vendors, a.out, cutoff=a.cutoff, months=a.months,
                         after_months=a.after_months)
    except ValueError as exc:
        parser.error(str(exc))
    counts = ", ".join(f"{k} {v['rows']}" for k, v in truth["files"].items())
    print(f"{a.out}: {counts}; {truth['cutoff_defaults']}/{truth['cutoff_loans']} defaults at "
          f"{truth['cutoff']} ({time.perf_counter() - began:.1f} s)")


if __name__ == "__main__":
    main()
