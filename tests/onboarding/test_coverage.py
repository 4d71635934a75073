"""Data coverage: a screen that needs a kind of data the firm's sources never provided
says "not assessable" instead of firing; tax is compared within the filing's period."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from trellis import clock
from trellis.accounts.services import grant_consent
from trellis.onboarding import coverage
from trellis.scoring import service
from trellis.trade.models import Delivery, PurchaseOrder, TaxFiling

AS_OF = clock.today()


@pytest.fixture
def park(session, make_cluster, make_firm, make_invoice):
    """A vendor selling to an anchor for 14 months, every invoice against an order."""
    c = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=c.id)
    vendor = make_firm(cluster_id=c.id)
    grant_consent(session=session, firm_id=vendor.id, purpose="trade_data")
    start = AS_OF - timedelta(days=420)
    invoices = []
    for i in range(28):
        day = start + timedelta(days=15 * i)
        order = PurchaseOrder(buyer_id=anchor.id, seller_id=vendor.id, number=f"PO{i}",
                              amount_fen=40_000_00, order_date=day - timedelta(days=5),
                              status="confirmed")
        session.add(order)
        session.flush()
        invoices.append(make_invoice(vendor, anchor, 40_000_00, day, status="confirmed",
                                     order_id=order.id))
    return c, anchor, vendor, invoices


def _result(session, c, vendor):
    results, _ = service.score_portfolio(session=session, cluster_id=c.id, store=False)
    return next(r for r in results if r.firm_id == vendor.id)


def test_orders_without_deliveries_do_not_read_as_unbacked(session, park):
    c, _, vendor, _ = park
    r = _result(session, c, vendor)
    assert "unbacked_invoices" not in {f.code for f in r.flags}
    kinds = coverage.kinds_by_firm(session=session, firm_ids=[vendor.id])[vendor.id]["kinds"]
    assert "orders" in kinds and "deliveries" not in kinds


def test_invoices_without_orders_still_flag_when_the_source_has_orders(session, park,
                                                                      make_invoice):
    c, anchor, vendor, _ = park
    for i in range(6):  # invented invoices: no order behind them
        make_invoice(vendor, anchor, 90_000_00, AS_OF - timedelta(days=10 + 20 * i))
    r = _result(session, c, vendor)
    assert "unbacked_invoices" in {f.code for f in r.flags}


def test_with_deliveries_imported_an_undelivered_order_counts(session, park, make_firm):
    c, anchor, vendor, invoices = park
    other = make_firm(cluster_id=c.id)
    order = PurchaseOrder(buyer_id=anchor.id, seller_id=other.id, number="OTHER-1",
                          amount_fen=1_00, order_date=AS_OF - timedelta(days=30))
    session.add(order)
    session.flush()
    session.add(Delivery(order_id=order.id, delivered_on=AS_OF - timedelta(days=20),
                         amount_fen=1_00))  # the source now holds deliveries
    session.flush()
    r = _result(session, c, vendor)
    assert "unbacked_invoices" in {f.code for f in r.flags}  # vendor's orders never delivered


def test_no_orders_nor_deliveries_is_not_assessable(session, make_cluster, make_firm,
                                                    make_invoice):
    c = make_cluster()
    anchor = make_firm(role="anchor", cluster_id=c.id)
    vendor = make_firm(cluster_id=c.id)
    grant_consent(session=session, firm_id=vendor.id, purpose="trade_data")
    for i in range(20):
        make_invoice(vendor, anchor, 30_000_00, AS_OF - timedelta(days=20 * i + 1),
                     status="confirmed")
    r = _result(session, c, vendor)
    assert "unbacked_invoices" not in {f.code for f in r.flags}
    assert {"unbacked_invoices", "sales_burst"} <= {x["code"] for x in r.not_assessable}
    assert all(x["zh"] and x["en"] for x in r.not_assessable)


def test_tax_is_compared_within_the_filing_period(session, park):
    c, _, vendor, invoices = park
    year = AS_OF.year - 1
    in_year = sum(i.amount_fen for i in invoices if i.issue_date.year == year)
    start = min(i.issue_date for i in invoices)
    period_start = max(date(year, 1, 1), start)
    session.add(TaxFiling(firm_id=vendor.id, period_start=period_start,
                          period_end=date(year, 12, 31), vat_sales_fen=in_year))
    session.flush()
    r = _result(session, c, vendor)
    assert "tax_contradiction" not in {f.code for f in r.flags}
    filing = session.query(TaxFiling).one()
    filing.vat_sales_fen = in_year // 3  # declared a third of what was invoiced that year
    session.flush()
    r = _result(session, c, vendor)
    flag = next(f for f in r.flags if f.code == "tax_contradiction")
    assert flag.evidence["platform_fen"] == in_year


def test_pages_show_coverage(client, logged_in, session, park):
    c, _, vendor, _ = park
    logged_in("admin")
    page = client.get(f"/network/firms/{vendor.id}").get_data(as_text=True)
    assert "firm-coverage" in page
    page = client.get(f"/network/{c.code}/settings").get_data(as_text=True)
    assert "cluster-coverage" in page
    rows = coverage.cluster_coverage(session=session, cluster_id=c.id)
    by_kind = {r["kind"]: r for r in rows}
    assert by_kind["orders"]["rows"] == 28 and by_kind["deliveries"]["rows"] == 0


def _every_kind_read(session, firm_ids, as_of=None):
    """kinds_by_firm's kinds the long way: the clusters' kinds and every kind of the firms'
    own rows."""
    cluster_of = coverage._cluster_of(session, firm_ids)
    by_cluster = coverage.cluster_kinds(
        session=session, cluster_ids=sorted({c for c in cluster_of.values() if c}))
    per_firm = coverage._per_firm(session, firm_ids, as_of)
    return {f: frozenset(set(by_cluster.get(cluster_of.get(f), ()))
                         | {k for k, found in per_firm.items() if f in found})
            for f in firm_ids}


def test_a_firm_whose_cluster_holds_every_kind_costs_no_grouped_query(session, park,
                                                                      make_cluster, make_firm,
                                                                      make_invoice):
    from sqlalchemy import event

    c, anchor, vendor, _ = park
    lone_cluster = make_cluster()
    lone = make_firm(cluster_id=lone_cluster.id)        # its cluster holds its invoice only
    make_invoice(lone, anchor, 10_000_00, AS_OF - timedelta(days=20))
    orphan = make_firm()                                 # no cluster at all
    ids = [anchor.id, vendor.id, lone.id, orphan.id]
    got = coverage.kinds_by_firm(session=session, firm_ids=ids, as_of=AS_OF)
    assert {f: v["kinds"] for f, v in got.items()} == _every_kind_read(session, ids, AS_OF)
    assert "invoices" in got[lone.id]["kinds"] and not got[orphan.id]["kinds"]

    by_cluster = {c.id: set(coverage.KIND_LABELS)}       # as the scoring service keeps it
    statements: list[str] = []
    engine = session.get_bind()

    def listen(conn, cursor, sql, *args):
        statements.append(sql)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        got = coverage.kinds_by_firm(session=session, firm_ids=[vendor.id], as_of=AS_OF,
                                     by_cluster=by_cluster)
        stamp = coverage.rows_stamp(session)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert got[vendor.id]["kinds"] == frozenset(coverage.KIND_LABELS)
    assert not any("GROUP BY" in s.upper() for s in statements), statements
    # the cluster, the tax filings, the tax on the firm record (tax.declared), the stamp
    assert len(statements) <= 4, statements
    from sqlalchemy import func, select

    sources = {src for _c, _d, src in coverage._firm_queries().values()} | {coverage.Invoice}
    tables = [getattr(src, "__table__", src) for src in sorted(sources, key=str)]
    one_by_one = tuple(session.execute(select(func.max(getattr(t, "left", t).c.id))).scalar()
                       for t in tables)                  # the stamp as it was read before
    assert len(stamp) == 10 and stamp == one_by_one


def _tax_one_by_one(session, declared, as_of):
    """tax_in_period as it read each firm before (two statements a firm): the reference."""
    from sqlalchemy import func, select

    from trellis.trade.models import Invoice
    out = {}
    for fid, d in declared.items():
        if d.start is None or d.end is None or not d.ended_by(as_of):
            continue
        platform = session.execute(
            select(func.coalesce(func.sum(Invoice.amount_fen), 0))
            .where(Invoice.seller_id == fid, Invoice.status != "rejected",
                   Invoice.issue_date >= d.start, Invoice.issue_date < d.end)).scalar()
        first = session.execute(select(func.min(Invoice.issue_date))
                                .where(Invoice.seller_id == fid)).scalar()
        out[fid] = {"declared_fen": d.vat_sales_fen, "platform_fen": int(platform),
                    "period_start": d.start.isoformat(),
                    "period_end": (d.end - timedelta(days=1)).isoformat(),
                    "source": d.source,
                    "invoices_cover_period": first is not None
                    and first <= d.start + timedelta(days=31)}
    return out


def test_tax_in_period_reads_many_firms_in_a_few_grouped_statements(session, park, make_firm,
                                                                    make_invoice):
    """Each firm's sales within its own filing's period, rejected invoices left out, and
    whether its invoices cover the period: the same answer as a query per firm, in a
    number of statements that does not grow with the firms."""
    from sqlalchemy import event

    from trellis.onboarding import tax as tax_

    c, anchor, vendor, invoices = park
    year = AS_OF.year - 1
    firms = [vendor]
    for i in range(12):
        f = make_firm(cluster_id=c.id)
        firms.append(f)
        for k in range(i % 4):      # some firms sell nothing, some start late
            make_invoice(f, anchor, (k + 1) * 1_000_00, date(year, 3 + 3 * k, 10 + i),
                         status="rejected" if k == 2 else "confirmed")
    for i, f in enumerate(firms):
        period = ((date(year, 1, 1), date(year, 12, 31)) if i % 3 else
                  (date(year, 4, 1), date(year, 6, 30)))
        session.add(TaxFiling(firm_id=f.id, period_start=period[0], period_end=period[1],
                              vat_sales_fen=1_000_00 * (i + 1)))
    late = make_firm(cluster_id=c.id)  # a period not yet over: absent
    session.add(TaxFiling(firm_id=late.id, period_start=AS_OF.replace(day=1),
                          period_end=AS_OF + timedelta(days=40), vat_sales_fen=5))
    session.flush()
    ids = [f.id for f in firms] + [late.id]
    declared = tax_.declared(session=session, firm_ids=ids, as_of=AS_OF)
    statements: list[str] = []
    engine = session.get_bind()

    def listen(conn, cursor, sql, *args):
        statements.append(sql)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        got = coverage.tax_in_period(session=session, firm_ids=ids, as_of=AS_OF,
                                     declared=declared)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert got == _tax_one_by_one(session, declared, AS_OF)
    assert late.id not in got and len(got) == len(firms)
    assert {g["invoices_cover_period"] for g in got.values()} == {True, False}
    assert len({g["platform_fen"] for g in got.values()}) > 3
    assert len(statements) <= 3, statements   # two periods, the first invoices


def test_tax_declared_on_the_firms_record_counts_as_tax_data_of_the_park(session, park):
    """Outside reader 10, R7: the park's coverage read "纳税申报 0 / 303：未导入" while the
    firms' records carried their declared VAT sales (the firm file's tax columns), which the
    scorer reads and every risk page compared with a park median."""
    c, _, vendor, _ = park
    row = next(r for r in coverage.cluster_coverage(session=session, cluster_id=c.id)
               if r["kind"] == "tax_filings")
    assert row["firms"] == 0
    vendor.tax_vat_sales_fen, vendor.tax_period = 5_000_000_00, "2025"
    session.add(vendor)
    session.flush()
    row = next(r for r in coverage.cluster_coverage(session=session, cluster_id=c.id)
               if r["kind"] == "tax_filings")
    assert row["firms"] == 1 and row["rows"] == 1


def test_kinds_the_frames_show_are_not_asked_again(session, park, make_firm, make_invoice,
                                                  monkeypatch):
    """The scorer's frames tell the coverage which kinds a cluster holds
    (``service.kinds_seen``): each kind they show is one the database's probes find, the
    answer is the same with and without them, and only the kinds the frames do not show
    are probed (the park has no deliveries, payments, credit notes, readings, loans)."""
    from sqlalchemy import event

    from trellis.scoring import frames

    c, anchor, vendor, invoices = park
    other = make_firm(cluster_id=c.id)
    make_invoice(other, anchor, 1_000_00, AS_OF - timedelta(days=30), status="rejected")
    vendor.tax_vat_sales_fen, vendor.tax_period = 5_000_000_00, str(AS_OF.year - 1)
    session.add(vendor)
    session.flush()
    fr = frames.load(session=session, as_of=AS_OF, cluster_id=c.id)
    seen = service.kinds_seen(fr)
    monkeypatch.setattr(service, "SEEN_TABLE_IDS", 0)   # ids looked up sorted instead
    assert service.kinds_seen(fr) == seen
    probed = coverage.cluster_kinds(session=session, cluster_ids=[c.id])
    assert seen[c.id] == {"invoices", "confirmations", "orders", "tax_filings"}
    assert seen[c.id] <= probed[c.id]
    statements: list[str] = []
    engine = session.get_bind()

    def listen(conn, cursor, sql, *args):
        statements.append(sql)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        again = coverage.cluster_kinds(session=session, cluster_ids=[c.id], present=seen)
        firms = coverage.kinds_by_firm(session=session, firm_ids=fr.scope, as_of=AS_OF,
                                       present=seen)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert again == probed
    assert firms == coverage.kinds_by_firm(session=session, firm_ids=fr.scope, as_of=AS_OF)
    probes = [s for s in statements if "EXISTS" in s.upper()]
    # the kinds not seen, in each of the two calls (relationships is none of the park's)
    assert len(probes) == 2 * (len(coverage.KIND_LABELS) - len(seen[c.id])), probes


def test_declared_tax_from_the_records_read_is_the_declared_tax_read(session, park,
                                                                     make_firm):
    """tax.declared given the firm records' tax columns as the scorer's frames read them
    (``frames._tax_records``) answers as it does reading them itself: filings first, then
    the record's figure (empty, a year, text it cannot read, no period), one statement
    fewer per 900 firms."""
    from trellis.onboarding import tax as tax_
    from trellis.scoring import frames

    c, _, vendor, _ = park
    year = AS_OF.year - 1
    session.add(TaxFiling(firm_id=vendor.id, period_start=date(year, 1, 1),
                          period_end=date(year, 12, 31), vat_sales_fen=7_00))
    vendor.tax_vat_sales_fen, vendor.tax_period = 9_00, str(year)  # the filing wins
    for sales, paid, period in ((5_000_00, 1_00, str(year)), (3_00, None, "soon"),
                                (4_00, 2_00, None), (None, 5_00, "2025Q1"), (None, None, "")):
        make_firm(cluster_id=c.id, tax_vat_sales_fen=sales, tax_paid_fen=paid,
                  tax_period=period)
    session.flush()
    read = frames._read(session, frames.select(*frames.FIRM_COLUMNS).where(
        frames.Firm.cluster_id == c.id)).set_index("id", drop=False)
    records = frames._tax_records(read)
    assert records is not None and len(records) == len(read)
    ids = read.index.tolist()
    got = tax_.declared(session=session, firm_ids=ids, as_of=AS_OF, records=records)
    assert got == tax_.declared(session=session, firm_ids=ids, as_of=AS_OF)
    assert {d.source for d in got.values()} == {tax_.FILING, tax_.FIRM_RECORD}
    assert len(got) == 4
