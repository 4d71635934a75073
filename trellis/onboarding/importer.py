"""Bulk import of a cluster's firms and trade history from CSV or XLSX files.

:func:`import_file` validates every row before writing anything: if any row has a
problem, :class:`~trellis.onboarding.errors.ImportRefused` lists them all (row, column,
value, problem) and nothing is written. Otherwise all rows are written in the caller's
transaction (flush only; the caller commits once).

Natural keys make a re-import of an unchanged file change nothing: a firm's USCC; a
relationship's (supplier, buyer); an order's (buyer, number); an invoice's (seller,
number); a payment's (payer, reference). A known firm's details are updated from the file
(except its bank account, which only the change process may alter); a known order,
invoice or payment that differs from the file is a duplicate and refused.
"""

from __future__ import annotations

import collections
import functools
import gc
import hashlib
import itertools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, SQLModel
from sqlmodel import col as sql_col

from trellis import clock, db
from trellis.clock import utcnow
from trellis.messages import N_, Message, msg
from trellis.network.build import bump_data_version
from trellis.onboarding import files
from trellis.onboarding import mapping as colmap
from trellis.onboarding.errors import ImportRefused
from trellis.onboarding.kinds import KINDS, CellError, Col, Kind, header_map
from trellis.trade import industries
from trellis.trade.errors import ClusterNotFound
from trellis.trade.models import (
    Cluster,
    DocStatus,
    Firm,
    Industry,
    Invoice,
    Payment,
    PaymentAllocation,
    PurchaseOrder,
    Relationship,
)

logger = logging.getLogger(__name__)

CHUNK = 2000  # rows per progress report while validating
WRITE_CHUNK = 50_000  # rows per bulk write (COPY, executemany) and per progress report
IN_CHUNK = 900  # values per SQL IN (...) list
MAX_ERRORS = 10_000  # problems kept for the report; all are counted

#: ``progress(phase, rows_done, rows_total, errors_so_far)``; phases: validating, writing.
Progress = Callable[[str, int, int, int], None]
#: One row's values by field key, as parsed from its cells (then completed by the planner).
Values = dict[str, Any]
#: Rows that parsed: ``(spreadsheet row number, values)``.
Rows = list[tuple[int, Values]]
_T = TypeVar("_T")
_P = ParamSpec("_P")


@dataclass(frozen=True)
class RowError:
    """One problem: spreadsheet ``row`` (1 = header), ``column`` key, the ``value`` seen."""

    row: int
    column: str
    value: str
    problem: str        # English, for logs and the command line
    what: Message | None = field(default=None, compare=False, repr=False)

    @property
    def problem_message(self) -> Message:
        """The problem as a translatable Message."""
        return self.what if self.what is not None else Message(self.problem)

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.problem}"

    def message(self, kind: Kind | None = None) -> Message:
        """Where and what, with the column named in both languages when *kind* knows it."""
        if not self.column:
            return msg(N_("row %(row)s: %(problem)s"), row=self.row,
                       problem=self.problem_message)
        return msg(N_("row %(row)s, column %(column)s: %(problem)s"), row=self.row,
                   column=column_label(kind, self.column), problem=self.problem_message)


def column_label(kind: Kind | None, key: str) -> dict[str, str]:
    """A column named for people: its key in English, its Chinese header in Chinese."""
    zh = ""
    if kind is not None:
        zh = next((c.zh for c in kind.columns if c.key == key), "")
    return {"en": key, "zh": zh or key}


@dataclass(frozen=True)
class Policy:
    """Who may import what. ``seller_is`` (a USCC): "the seller is me", for a vendor's own
    upload of invoices and orders: the seller column may be left out and, if present,
    must be the vendor; documents go in pending (only the buyer confirms); the buyer must
    be a firm of the vendor's cluster (checked as for any import)."""

    seller_is: str | None = None
    kinds: tuple[str, ...] = ("invoices", "orders")

    @property
    def seller_column(self) -> str:
        """"seller_uscc" when uploads are limited to one seller's own sales, else ""."""
        return "seller_uscc" if self.seller_is else ""

    def apply(self, plan: _Plan, number: int, values: Values) -> bool:
        """Whether row *number* may be imported under this policy; a row of another seller is
        recorded as an error in *plan*."""
        if not self.seller_is:
            return True
        given = values.get("seller_uscc")
        if given is not None and given != self.seller_is:
            plan.error(number, "seller_uscc", given,
                       "you can only upload your own sales")
            return False
        values["seller_uscc"] = self.seller_is
        if values.get("status") not in (None, DocStatus.PENDING.value):
            plan.error(number, "status", values["status"],
                       "only the buyer can confirm; leave this column empty")
            return False
        values.pop("status", None)
        return True


@dataclass
class ImportResult:
    kind: str
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    encoding: str = ""
    seconds: float = 0.0
    # header -> field key used ("" = not used)
    mapping: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)  # headers that fed no field
    warnings: list[RowError] = field(default_factory=list)  # rows kept with a caveat
    #: rows identical to a document already recorded, as (row number, document number):
    #: nothing was saved for them (the first MAX_ERRORS; ``unchanged`` counts them all)
    repeated: list[tuple[int, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the import created or updated any row."""
        return bool(self.created or self.updated)


@dataclass
class _Plan:
    kind: Kind
    cluster: Cluster
    today: date
    total: int
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    inserts: list[Values] = field(default_factory=list)
    updates: list[Values] = field(default_factory=list)
    unchanged: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    mapping: dict[str, str] | None = None  # header -> field key, confirmed by the RM
    used: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    policy: Policy | None = None
    warnings: list[RowError] = field(default_factory=list)
    repeated: list[tuple[int, str]] = field(default_factory=list)

    def warn(self, row: int, column: str, value: object, problem: str) -> None:
        """A row kept with a caveat: counted and shown on the result, not refused."""
        self.warnings.append(RowError(row, column, "" if value is None else str(value)[:200],
                                      problem))

    def error(self, row: int, column: str, value: object, problem: str | Message) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            shown = "" if value is None else str(value)
            what = Message.from_json(problem)
            self.errors.append(RowError(row, column, shown[:200], str(what), what))


def _chunks(items: list[_T], size: int = IN_CHUNK) -> Iterator[list[_T]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _noop(*_args: object) -> None:
    return None


# --- reading and cell checks -----------------------------------------------------------

def _parse_rows(plan: _Plan, table: files.Table,
                progress: Progress) -> Rows | None:
    """Parse every cell; rows with a bad cell are reported and left out. ``None`` when
    the header itself is unusable."""
    kind = plan.kind
    if plan.mapping is None:
        # No confirmed mapping: the field keys, Chinese names and known aliases only; a
        # fuzzy guess is only ever a proposal for the RM to confirm.
        proposal = colmap.propose(kind.name, table.header)
        used = {h: (k if proposal.how.get(h) != "fuzzy" else "")
                for h, k in proposal.fields.items()}
        mapping, duplicated = header_map(kind, table.header)
        for key in duplicated:
            plan.error(1, key, key, N_("the column appears twice in the header"))
    else:
        used = dict(plan.mapping)
    policy = plan.policy
    optional = (policy.seller_column,) if policy and policy.seller_column else ()
    mapping, unmapped, problems = colmap.resolve(kind.name, table.header, used, optional)
    plan.used = {h: used.get(h, "") for h in table.header if h}
    plan.unmapped = unmapped
    for column, problem in problems:
        plan.error(1, column, "", problem)
    if plan.error_count:
        return None
    cols = [(c, mapping[c.key]) for c in kind.columns if c.key in mapping]
    today = plan.today
    check = ROW_CHECKS.get(kind.name)
    rows = table.rows
    # Column by column: each distinct cell value of a column is parsed once (a file
    # names the same firms, dates and statuses over and over), then the rows are put
    # together; a row with a blank or bad cell takes the slow path, which reports its
    # problems in the row's order, as before.
    keys = [col.key for col, _ in cols]
    outs: list[list[Any]] = []
    special: set[int] = set()
    for col, pos in cols:
        out, has_special = _parse_column(col, pos, rows, today)
        outs.append(out)
        if has_special:
            special.update(i for i, v in enumerate(out) if v.__class__ is _Cell)
    parsed: Rows = []
    for i, (number, _cells) in enumerate(rows):
        if i in special:
            values: Values = {}
            ok = True
            for (col, _pos), out in zip(cols, outs, strict=True):
                value = out[i]
                if type(value) is not _Cell:
                    values[col.key] = value
                elif value.problem is not None:
                    plan.error(number, col.key, value.raw, value.problem)
                    ok = False
                elif col.required:
                    plan.error(number, col.key, "", N_("required value missing"))
                    ok = False
        else:
            values = dict(zip(keys, [out[i] for out in outs], strict=True))
            ok = True
        if check is not None and not check(plan, number, values):
            ok = False
        if ok and policy is not None and not policy.apply(plan, number, values):
            ok = False
        if ok:
            parsed.append((number, values))
        if (i + 1) % CHUNK == 0:
            progress("validating", i + 1, plan.total, plan.error_count)
    return parsed


class _Cell:
    """A cell that gave no value: blank (``problem`` None) or bad (its raw value and
    problem)."""

    __slots__ = ("raw", "problem")

    def __init__(self, raw: object, problem: Message | None) -> None:
        self.raw, self.problem = raw, problem


_BLANK = _Cell("", None)
_CACHED_VALUES = 200_000  # distinct cells remembered per column


def _parse_column(col: Col, pos: int, rows: list[tuple[int, list[Any]]], today: date
                  ) -> tuple[list[Any], bool]:
    """Every cell of one column parsed: its value, or a :class:`_Cell` (blank or bad);
    and whether there is any such cell. A parser is a function of the cell and *today*
    alone, so each distinct cell is parsed once (keyed by the text itself, or by type and
    value for a spreadsheet's numbers and dates, so 1, 1.0 and True stay apart); list
    values are not shared between rows."""
    parse = col.parse
    cache: dict[Any, Any] = {}
    out: list[Any] = []
    append = out.append
    miss = cache  # a sentinel no cell value can be
    special = False
    for _number, cells in rows:
        raw = cells[pos] if pos < len(cells) else None
        key = raw if raw.__class__ is str else (raw.__class__, raw)
        hit = cache.get(key, miss)
        if hit is miss:
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                hit = _BLANK
            else:
                try:
                    hit = parse(raw, today)
                except CellError as exc:
                    hit = _Cell(raw, exc.problem)
            if hit.__class__ is _Cell:
                special = True
            if len(cache) < _CACHED_VALUES and not isinstance(hit, (list, dict, set)):
                cache[key] = hit
        append(hit)
    return out, special


def _check_invoice_dates(plan: _Plan, number: int, v: Values) -> bool:
    if "due_date" in v and "issue_date" in v and v["due_date"] < v["issue_date"]:
        plan.error(number, "due_date", v["due_date"].isoformat(),
                   msg(N_("due date is before the issue date %(day)s"),
                       day=v["issue_date"]))
        return False
    return True


#: Checks across the cells of one row, run after the cells parse.
ROW_CHECKS: dict[str, Callable[[_Plan, int, Values], bool]] = {
    "invoices": _check_invoice_dates}


def _firms_by_uscc(session: Session, codes: set[str]) -> dict[str, tuple[int, int | None]]:
    """USCC -> (id, cluster_id) for the known firms among *codes*."""
    found: dict[str, tuple[int, int | None]] = {}
    for chunk in _chunks(sorted(codes)):
        for fid, code, cid in session.execute(
                select(sql_col(Firm.id), sql_col(Firm.uscc),
                       sql_col(Firm.cluster_id)).where(sql_col(Firm.uscc).in_(chunk))):
            found[code] = (fid, cid)
    return found


def _resolve_firms(plan: _Plan, session: Session, rows: Rows,
                   columns: tuple[str, ...]) -> Rows:
    """Replace the USCC columns by firm ids (``<col>`` -> ``<col>_id``) or record errors."""
    codes = {v[c] for _, v in rows for c in columns if c in v}
    known = _firms_by_uscc(session, codes)
    cluster_id = plan.cluster.id
    good: Rows = []
    for number, values in rows:
        ok = True
        for col in columns:
            code = values[col]
            hit = known.get(code)
            if hit is None:
                plan.error(number, col, code, N_("unknown firm: import it with the firms "
                                                 "file first"))
                ok = False
            elif hit[1] != cluster_id:
                plan.error(number, col, code,
                           N_("this firm belongs to another cluster") if hit[1]
                           else N_("this firm is in no cluster: import it with the firms "
                                   "file"))
                ok = False
            else:
                values[col.removesuffix("_uscc") + "_id"] = hit[0]
        if ok:
            good.append((number, values))
    return good


def _first_seen(plan: _Plan, rows: Rows, key: Callable[[Values], object], column: str,
                what: str) -> Rows:
    """Refuse later rows repeating a natural key seen earlier in the same file."""
    seen: dict[object, int] = {}
    good: Rows = []
    for number, values in rows:
        k = key(values)
        if k in seen:
            plan.error(number, column, values.get(column, ""),
                       msg(N_("duplicate %(what)s: already on row %(row)s"),
                           what=msg(what), row=seen[k]))
        else:
            seen[k] = number
            good.append((number, values))
    return good


# --- per kind -----------------------------------------------------------------------------

FIRM_FIELDS = ("name", "role", "industry", "industry_code", "region", "phone", "legal_rep",
               "address", "bank_account", "founded_on", "tax_period")
TAX_FIELDS = {"tax_vat_sales": "tax_vat_sales_fen", "tax_paid": "tax_paid_fen"}


def _plan_firms(plan: _Plan, session: Session, rows: Rows) -> None:
    rows = _first_seen(plan, rows, lambda v: v["uscc"], "uscc", N_("USCC"))
    cols = [*FIRM_FIELDS, *TAX_FIELDS.values()]
    existing: dict[str, Any] = {}
    for chunk in _chunks(sorted(v["uscc"] for _, v in rows)):
        for firm in session.execute(
                select(sql_col(Firm.id), sql_col(Firm.uscc), sql_col(Firm.cluster_id),
                       *[getattr(Firm, c) for c in cols]).where(sql_col(Firm.uscc).in_(chunk))):
            existing[firm.uscc] = firm
    now = utcnow()
    cluster_id = plan.cluster.id
    for number, v in rows:
        for src, dst in TAX_FIELDS.items():
            if src in v:
                v[dst] = v.pop(src)
        if isinstance(v.get("industry"), tuple):
            # 行业 gives the coarse industry and, when it is an official GB/T 4754 name or
            # code, the division; a column of its own for the division wins over it.
            v["industry"], division = v["industry"]
            if not v.get("industry_code"):
                v["industry_code"] = division
        old = existing.get(v["uscc"])
        if old is None:
            record = {c: v.get(c) or None for c in cols}
            record.update(uscc=v["uscc"], name=v["name"], role=v["role"],
                          industry=v.get("industry") or Industry.OTHER.value,
                          region=v.get("region") or "", cluster_id=cluster_id,
                          created_at=now)
            plan.inserts.append(record)
            continue
        if v.get("industry_code") and industries.section(old.industry_code) == \
                v["industry_code"]:
            v["industry_code"] = old.industry_code  # 制造业 says no more than 36 汽车制造业
        if old.cluster_id not in (None, cluster_id):
            plan.error(number, "uscc", v["uscc"], N_("this firm is already registered "
                                                     "in another cluster"))
            continue
        if old.bank_account and v.get("bank_account") and \
                v["bank_account"].replace(" ", "") != old.bank_account.replace(" ", ""):
            plan.error(number, "bank_account", "(masked)",
                       N_("differs from the account on record: bank accounts change "
                          "only through the verified change request"))
            continue
        changes = {c: v[c] for c in cols if v.get(c) not in (None, "") and v[c] != getattr(
            old, c)}
        if old.cluster_id is None:
            changes["cluster_id"] = cluster_id
        if changes:
            plan.updates.append({"id": old.id, **changes})
        else:
            plan.unchanged += 1


def _plan_relationships(plan: _Plan, session: Session, rows: Rows) -> None:
    rows = _resolve_firms(plan, session, rows, ("supplier_uscc", "buyer_uscc"))
    good: Rows = []
    for number, v in rows:
        if v["supplier_id"] == v["buyer_id"]:
            plan.error(number, "buyer_uscc", v["buyer_uscc"],
                       N_("supplier and buyer are the same firm"))
        else:
            good.append((number, v))
    rows = _first_seen(plan, good, lambda v: (v["supplier_id"], v["buyer_id"]),
                       "buyer_uscc", N_("supplier and buyer pair"))
    existing: dict[tuple[int, int], Any] = {}
    for chunk in _chunks(sorted({v["supplier_id"] for _, v in rows})):
        for rel in session.execute(select(sql_col(Relationship.id),
                                          sql_col(Relationship.supplier_id),
                                          sql_col(Relationship.buyer_id),
                                          sql_col(Relationship.since),
                                          sql_col(Relationship.payment_terms_days))
                                   .where(sql_col(Relationship.supplier_id).in_(chunk))):
            existing[(rel.supplier_id, rel.buyer_id)] = rel
    for _, v in rows:
        old = existing.get((v["supplier_id"], v["buyer_id"]))
        terms = v.get("payment_terms_days")
        if old is None:
            plan.inserts.append({"supplier_id": v["supplier_id"], "buyer_id": v["buyer_id"],
                                 "since": v["since"],
                                 "payment_terms_days": 60 if terms is None else terms})
            continue
        changes: Values = {}
        if v["since"] != old.since:
            changes["since"] = v["since"]
        if terms is not None and terms != old.payment_terms_days:
            changes["payment_terms_days"] = terms
        if changes:
            plan.updates.append({"id": old.id, **changes})
        else:
            plan.unchanged += 1


def _existing_docs(session: Session, model: type[SQLModel], owner_col: str, key_col: str,
                   owners: set[int], fields: tuple[str, ...]) -> dict[tuple[Any, Any], Any]:
    cols = [getattr(model, c) for c in ("id", owner_col, key_col, *fields)]
    owner = cols[1]
    # Plain named tuples: a Core row's attribute costs about 2 µs, and the planners read
    # several per file row.
    shape = _row_shape(("id", owner_col, key_col, *fields))
    found: dict[tuple[Any, Any], Any] = {}
    for chunk in _chunks(sorted(owners)):
        for row in session.execute(select(*cols).where(owner.in_(chunk))).all():
            found[(row[1], row[2])] = shape._make(row)
    return found


@functools.lru_cache(maxsize=64)
def _row_shape(names: tuple[str, ...]) -> type[Any]:
    return collections.namedtuple("Row", names, rename=True)


def _col(field_name: str) -> str:
    """The file's column for a stored field: ``amount_fen`` -> ``amount``."""
    return field_name.removesuffix("_fen").removesuffix("_id")


def _compare_doc(plan: _Plan, number: int, v: Values, old: Any, fields: tuple[str, ...],
                 key_col: str, what: str) -> None:
    diffs = [f for f in fields if v[f] != getattr(old, f)]
    if diffs:
        plan.error(number, key_col, v[key_col],
                   msg(N_("duplicate %(what)s: already imported with a different %(fields)s"),
                       what=msg(what), fields=[column_label(plan.kind, _col(d))
                                               for d in diffs]))
    else:
        plan.unchanged += 1
        if len(plan.repeated) < MAX_ERRORS:
            plan.repeated.append((number, str(v[key_col])))


def _status_fields(v: Values, now: datetime) -> Values:
    status = v.get("status") or DocStatus.PENDING.value
    return {"status": status,
            "confirmed_at": now if status == DocStatus.CONFIRMED.value else None}


def _plan_orders(plan: _Plan, session: Session, rows: Rows) -> None:
    rows = _resolve_firms(plan, session, rows, ("buyer_uscc", "seller_uscc"))
    rows = _same_firm_check(plan, rows, "seller_id", "buyer_id", "seller_uscc",
                            N_("seller and buyer are the same firm"))
    rows = _first_seen(plan, rows, lambda v: (v["buyer_id"], v["number"]), "number",
                       N_("order number"))
    fields = ("seller_id", "amount_fen", "order_date")
    existing = _existing_docs(session, PurchaseOrder, "buyer_id", "number",
                              {v["buyer_id"] for _, v in rows}, fields)
    now = utcnow()
    for number, v in rows:
        v["amount_fen"] = v.pop("amount")
        old = existing.get((v["buyer_id"], v["number"]))
        if old is not None:
            _compare_doc(plan, number, v, old, fields, "number", N_("order number"))
            continue
        plan.inserts.append({"buyer_id": v["buyer_id"], "seller_id": v["seller_id"],
                             "number": v["number"], "amount_fen": v["amount_fen"],
                             "order_date": v["order_date"], **_status_fields(v, now)})


def _same_firm_check(plan: _Plan, rows: Rows, a: str, b: str, column: str,
                     problem: str) -> Rows:
    good: Rows = []
    for number, v in rows:
        if v[a] == v[b]:
            plan.error(number, column, v[column], problem)
        else:
            good.append((number, v))
    return good


DEFAULT_TERMS_DAYS = 60  # Relationship.payment_terms_days when a file gives none


def _derive_due_dates(session: Session, rows: Rows) -> None:
    """A row without a due date is due its issue date + the seller-buyer pair's payment
    terms (from the relationships imported), or + 60 days when the pair is unknown."""
    missing = [v for _, v in rows if not v.get("due_date")]
    if not missing:
        return
    terms: dict[tuple[int, int], int] = {}
    for chunk in _chunks(sorted({v["seller_id"] for v in missing})):
        for s_id, b_id, days in session.execute(
                select(sql_col(Relationship.supplier_id), sql_col(Relationship.buyer_id),
                       sql_col(Relationship.payment_terms_days))
                .where(sql_col(Relationship.supplier_id).in_(chunk))):
            terms[(s_id, b_id)] = days
    for v in missing:
        days = terms.get((v["seller_id"], v["buyer_id"]), DEFAULT_TERMS_DAYS)
        v["due_date"] = v["issue_date"] + timedelta(days=days)


def _plan_invoices(plan: _Plan, session: Session, rows: Rows) -> None:
    rows = _resolve_firms(plan, session, rows, ("seller_uscc", "buyer_uscc"))
    rows = _same_firm_check(plan, rows, "seller_id", "buyer_id", "buyer_uscc",
                            N_("seller and buyer are the same firm"))
    _derive_due_dates(session, rows)
    rows = _first_seen(plan, rows, lambda v: (v["seller_id"], v["number"]), "number",
                       N_("invoice number"))
    fields = ("buyer_id", "amount_fen", "issue_date", "due_date")
    existing = _existing_docs(session, Invoice, "seller_id", "number",
                              {v["seller_id"] for _, v in rows}, fields)
    wanted_orders = {(v["buyer_id"], v["order_number"]) for _, v in rows
                     if v.get("order_number")}
    orders: dict[tuple[Any, Any], tuple[int | None, int]] = {}
    if wanted_orders:
        found = _existing_docs(session, PurchaseOrder, "buyer_id", "number",
                               {b for b, _ in wanted_orders}, ("seller_id",))
        orders = {k: (row.id, row.seller_id) for k, row in found.items()
                  if k in wanted_orders}
    now = utcnow()
    for number, v in rows:
        v["amount_fen"] = v.pop("amount")
        old = existing.get((v["seller_id"], v["number"]))
        if old is not None:
            _compare_doc(plan, number, v, old, fields, "number", N_("invoice number"))
            continue
        order_id = None
        if v.get("order_number"):
            hit = orders.get((v["buyer_id"], v["order_number"]))
            if hit is None and plan.policy is not None and plan.policy.seller_is:
                plan.error(number, "order_number", v["order_number"],
                           N_("unknown order number for this buyer: import the orders "
                              "first"))
                continue
            if hit is None:
                # A bank's export is partial: the order may predate it. The invoice is kept
                # without the link, and the report says so (never dropped in silence).
                plan.warn(number, "order_number", v["order_number"],
                          "order not in the data: invoice kept without the order link")
                hit = (None, v["seller_id"])
            if hit[1] != v["seller_id"]:
                plan.error(number, "order_number", v["order_number"],
                           N_("that order was placed with another seller"))
                continue
            order_id = hit[0]
        plan.inserts.append({"seller_id": v["seller_id"], "buyer_id": v["buyer_id"],
                             "number": v["number"], "amount_fen": v["amount_fen"],
                             "issue_date": v["issue_date"], "due_date": v["due_date"],
                             "order_id": order_id, "paid_fen": 0,
                             **_status_fields(v, now)})


def derive_reference(v: Values, occurrence: int) -> str:
    """A payment reference for a row that has none (a bank export may not): the same row
    of the same file always gets the same reference, so a re-import changes nothing.
    *occurrence* counts identical rows (payer, payee, date, amount) before this one."""
    key = f"{v['payer_uscc']}|{v['payee_uscc']}|{v['paid_on'].isoformat()}|{v['amount']}|" \
          f"{occurrence}"
    return "AUTO-" + hashlib.sha256(key.encode()).hexdigest()[:20].upper()


def _plan_payments(plan: _Plan, session: Session, rows: Rows) -> None:
    seen: dict[tuple[Any, ...], int] = {}
    for _, v in rows:
        if not v.get("reference"):
            k = (v["payer_uscc"], v["payee_uscc"], v["paid_on"], v["amount"])
            v["reference"] = derive_reference(v, seen.get(k, 0))
            seen[k] = seen.get(k, 0) + 1
    rows = _resolve_firms(plan, session, rows, ("payer_uscc", "payee_uscc"))
    rows = _same_firm_check(plan, rows, "payer_id", "payee_id", "payee_uscc",
                            N_("payer and payee are the same firm"))
    rows = _first_seen(plan, rows, lambda v: (v["payer_id"], v["reference"]), "reference",
                       N_("payment reference"))
    fields = ("payee_id", "amount_fen", "paid_on")
    existing = _existing_docs(session, Payment, "payer_id", "reference",
                              {v["payer_id"] for _, v in rows}, fields)
    wanted = {(v["payee_id"], n) for _, v in rows for n in v.get("invoice_numbers", ())}
    invoices: dict[tuple[Any, Any], Any] = {}
    if wanted:
        found = _existing_docs(session, Invoice, "seller_id", "number",
                               {s for s, _ in wanted}, ("buyer_id", "amount_fen", "paid_fen"))
        invoices = {k: row for k, row in found.items() if k in wanted}
    paid: dict[int, int] = {}  # invoice id -> paid_fen so far, including earlier rows of this file
    allocations: list[list[tuple[int, int]]] = []
    for number, v in rows:
        v["amount_fen"] = v.pop("amount")
        old = existing.get((v["payer_id"], v["reference"]))
        if old is not None:
            _compare_doc(plan, number, v, old, fields, "reference",
                         N_("payment reference"))
            continue
        remaining = v["amount_fen"]
        mine: list[tuple[int, int]] = []
        ok = True
        for inv_number in v.get("invoice_numbers", ()):
            inv = invoices.get((v["payee_id"], inv_number))
            if inv is None:
                plan.error(number, "invoice_numbers", inv_number,
                           N_("unknown invoice number for this payee"))
                ok = False
                continue
            if inv.buyer_id != v["payer_id"]:
                plan.error(number, "invoice_numbers", inv_number,
                           N_("that invoice was issued to another buyer"))
                ok = False
                continue
            outstanding = inv.amount_fen - paid.get(inv.id, inv.paid_fen)
            share = min(remaining, max(outstanding, 0))
            if share > 0:
                mine.append((inv.id, share))
                remaining -= share
                paid[inv.id] = paid.get(inv.id, inv.paid_fen) + share
        if not ok:
            continue
        plan.inserts.append({"payer_id": v["payer_id"], "payee_id": v["payee_id"],
                             "reference": v["reference"], "amount_fen": v["amount_fen"],
                             "paid_on": v["paid_on"]})
        allocations.append(mine)
    plan.extra["allocations"] = allocations
    plan.extra["paid"] = paid


Planner = Callable[[_Plan, Session, Rows], None]
PLANNERS: dict[str, tuple[type[SQLModel], Planner]] = {
    "firms": (Firm, _plan_firms), "relationships": (Relationship, _plan_relationships),
    "orders": (PurchaseOrder, _plan_orders), "invoices": (Invoice, _plan_invoices),
    "payments": (Payment, _plan_payments)}
# The kinds beyond trade documents live in their own module (it uses the helpers above).
from trellis.onboarding import more_kinds  # noqa: E402

PLANNERS.update(more_kinds.PLANNERS)


# --- writing ------------------------------------------------------------------------------

def _write(plan: _Plan, session: Session, progress: Progress) -> None:
    model, _ = PLANNERS[plan.kind.name]
    total = len(plan.inserts) + len(plan.updates)
    done = 0
    if "write" in plan.extra:  # a kind that writes to more than one table
        plan.extra["write"](plan, session)
        progress("writing", total, total, 0)
        session.flush()
        return
    if plan.kind.name == "payments":
        _write_payments(plan, session, progress, total)
        done = len(plan.inserts)
    else:
        conn = session.connection()
        for chunk in _chunks(plan.inserts, WRITE_CHUNK):
            db.bulk_insert(conn, db.table_of(model), chunk)
            done += len(chunk)
            progress("writing", done, total, 0)
    _update_many(session, model, plan.updates)
    done += len(plan.updates)
    progress("writing", done, total, 0)
    session.flush()


_temp_tables = itertools.count(1)


def _update_many(session: Session, model: type[SQLModel], updates: list[Values]) -> None:
    """UPDATE by primary key, per set of changed columns: on PostgreSQL the new values
    are copied into a temporary table and applied by one ``UPDATE ... FROM``; on SQLite
    one driver ``executemany``; elsewhere Core's executemany."""
    table = db.table_of(model)
    conn = session.connection()
    groups: dict[tuple[str, ...], list[Values]] = {}
    for values in updates:
        cols = tuple(sorted(k for k in values if k != "id"))
        groups.setdefault(cols, []).append(values)
    quote = conn.dialect.identifier_preparer
    for cols, rows in groups.items():
        keys = ["id", *cols]
        procs = db.converters(conn, table, keys)
        if conn.dialect.name == "postgresql" and procs is not None:
            temp = f"trellis_update_{next(_temp_tables)}"
            conn.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS SELECT "
                f"{', '.join(quote.quote(k) for k in keys)} FROM "
                f"{quote.format_table(table)} WITH NO DATA")
            driver: Any = conn.connection.driver_connection   # psycopg's own connection
            with driver.cursor() as cursor, cursor.copy(
                    f"COPY {temp} FROM STDIN") as copy:
                for row in db.row_tuples(rows, keys, procs):
                    copy.write_row(row)
            sets = ", ".join(f"{quote.quote(c)} = t.{quote.quote(c)}" for c in cols)
            conn.exec_driver_sql(f"UPDATE {quote.format_table(table)} AS u SET {sets} "
                                 f"FROM {temp} AS t WHERE u.id = t.id")
            conn.exec_driver_sql(f"DROP TABLE {temp}")
            continue
        if conn.dialect.name == "sqlite" and procs is not None:
            sets = ", ".join(f"{quote.quote(c)} = ?" for c in cols)
            sqlite: Any = conn.connection.driver_connection   # sqlite3's own connection
            cursor = sqlite.cursor()
            try:
                cursor.executemany(
                    f"UPDATE {quote.format_table(table)} SET {sets} WHERE id = ?",
                    [(*t[1:], t[0]) for t in db.row_tuples(rows, keys, procs)])
            finally:
                cursor.close()
            continue
        stmt = (update(table).where(table.c.id == bindparam("b_id"))
                .values({c: bindparam(f"b_{c}") for c in cols}))
        params = [{"b_id": v["id"], **{f"b_{c}": v[c] for c in cols}} for v in rows]
        for chunk in _chunks(params, CHUNK):
            conn.execute(stmt, chunk)


def _write_payments(plan: _Plan, session: Session, progress: Progress, total: int) -> None:
    allocations = plan.extra["allocations"]
    conn = session.connection()
    payments = db.table_of(Payment)
    done = 0
    for start in range(0, len(plan.inserts), WRITE_CHUNK):
        chunk = plan.inserts[start:start + WRITE_CHUNK]
        db.bulk_insert(conn, payments, chunk)
        done += len(chunk)
        progress("writing", done, total, 0)
    # The new payments' ids, read back by their natural key (payer, reference): the
    # file's payments are new, so each key names exactly one of them.
    ids: dict[tuple[int, str], int] = {}
    for owners in _chunks(sorted({p["payer_id"] for p in plan.inserts})):
        for pid, payer, reference in conn.execute(
                select(payments.c.id, payments.c.payer_id, payments.c.reference)
                .where(payments.c.payer_id.in_(owners))):
            ids[(payer, reference)] = pid
    rows = [{"payment_id": ids[(p["payer_id"], p["reference"])], "invoice_id": inv_id,
             "amount_fen": share}
            for p, allocs in zip(plan.inserts, allocations, strict=True)
            for inv_id, share in allocs]
    for chunk in _chunks(rows, WRITE_CHUNK):
        db.bulk_insert(conn, db.table_of(PaymentAllocation), chunk)
    _update_many(session, Invoice, [{"id": inv_id, "paid_fen": paid}
                                    for inv_id, paid in plan.extra["paid"].items()])


# --- entry point --------------------------------------------------------------------------

def _collector_paused(fn: Callable[_P, _T]) -> Callable[_P, _T]:
    """Run *fn* with the cyclic garbage collector paused (restored afterwards): an import
    makes hundreds of thousands of small, acyclic objects, and every full collection
    walked them all again (it cost about a third of a large import's time)."""
    @functools.wraps(fn)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()
    return paused


@_collector_paused
def import_file(*, session: Session, cluster_id: int, kind: str, data: bytes,
                filename: str = "", today: date | None = None, max_bytes: int = 0,
                progress: Progress | None = None, mapping: dict[str, str] | None = None,
                policy: Policy | None = None, max_rows: int = 0) -> ImportResult:
    """Validate and import one file of *kind* (firms, relationships, orders, invoices,
    payments) into cluster *cluster_id*.

    Raises :class:`~trellis.onboarding.errors.FileTooLarge` above *max_bytes* (0: no
    limit), :class:`~trellis.onboarding.errors.UnreadableFile` for an unreadable file and
    :class:`~trellis.onboarding.errors.ImportRefused` (with every problem found) when any
    row is bad; in all these cases nothing is written. Dates after *today* (default: the
    current date) are refused for issue, order, payment and start dates. Bumps the
    cluster's data version when anything changed.
    """
    started = time.perf_counter()
    progress = progress or _noop
    if kind not in KINDS:
        raise ImportRefused(msg(N_("Unknown kind of file %(kind)s: use one of "
                                   "%(choices)s."), kind=kind, choices=list(KINDS)), field="kind")
    cluster = session.get(Cluster, cluster_id)
    if cluster is None:
        raise ClusterNotFound(msg(N_("There is no cluster with id %(cluster_id)s."),
                                  cluster_id=cluster_id))
    # The row limit is counted while the file streams, not after it was read whole.
    limits = files.Limits.for_rows(max_rows) if max_rows else files.DEFAULT_LIMITS
    table = files.read_table(data, filename, max_bytes=max_bytes, limits=limits)
    if policy is not None and policy.seller_is and kind not in policy.kinds:
        raise ImportRefused(msg(N_("You can upload %(kinds)s only."),
                                kinds=list(policy.kinds)), field="kind")
    plan = _Plan(KINDS[kind], cluster, today or clock.today(), len(table.rows),
                 mapping=mapping, policy=policy)
    if not table.rows:
        raise ImportRefused(N_("The file has a header but no data rows; nothing was "
                               "imported."))
    if max_rows and len(table.rows) > max_rows:
        raise ImportRefused(N_("At most %(n)s rows per file; split it."),
                            params={"n": max_rows}, field="file")
    rows = _parse_rows(plan, table, progress)
    if rows is not None:
        # Cross-row and database checks run on the rows whose cells parsed, so the report
        # lists every problem at once.
        PLANNERS[kind][1](plan, session, rows)
    progress("validating", plan.total, plan.total, plan.error_count)
    if plan.error_count:
        plan.errors.sort(key=lambda e: (e.row, e.column))
        first = plan.errors[0]
        raise ImportRefused(
            N_("The file was refused and nothing was imported: %(count)s problem(s). The "
               "first: %(first)s. Download the error report, correct the file and upload "
               "it again."), params={"count": plan.error_count, "first": first.message(plan.kind)},
            errors=plan.errors, count=plan.error_count)
    _write(plan, session, progress)
    result = ImportResult(kind, plan.total, created=len(plan.inserts),
                          updated=len(plan.updates), unchanged=plan.unchanged,
                          encoding=table.encoding, mapping=plan.used,
                          unmapped=plan.unmapped, warnings=plan.warnings,
                          repeated=plan.repeated)
    if result.changed:
        bump_data_version(session=session, cluster_id=cluster_id)
    result.seconds = time.perf_counter() - started
    logger.info("imported %s into cluster %s: %d rows, %d new, %d updated, %d unchanged "
                "in %.1f s", kind, cluster.code, result.rows, result.created, result.updated,
                result.unchanged, result.seconds)
    return result
