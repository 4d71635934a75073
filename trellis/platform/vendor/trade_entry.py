"""A vendor's own trade documents: entered one by one or uploaded as CSV/XLSX. No Flask.

A vendor records invoices it issued and orders it received, always as the seller and
always ``pending``: only the buyer confirms. The buyer must be a firm of the vendor's
cluster. Uploads reuse the onboarding importer's file reader and cell parsers (GBK or
UTF-8, Chinese or English headers, yuan amounts to fen); every row is checked before
anything is written, and a file with any problem writes nothing and lists each problem
by row and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlmodel import Session, select

from trellis.errors import Conflict, ValidationError
from trellis.messages import N_
from trellis.network.build import bump_data_version
from trellis.onboarding import files
from trellis.onboarding.kinds import KINDS, CellError, header_map
from trellis.platform.i18n import render
from trellis.trade import uscc as uscc_rules
from trellis.trade.models import DocStatus, Firm, Invoice, PurchaseOrder

MAX_ROWS = 5000
MAX_UPLOAD = 5 * 1024 * 1024


def buyers_for(*, session: Session, firm: Firm) -> list[Firm]:
    """Firms the vendor may bill: every other firm of its cluster, anchors first."""
    if firm.cluster_id is None:
        return []
    return list(session.exec(select(Firm).where(Firm.cluster_id == firm.cluster_id,
                                                Firm.id != firm.id)
                             .order_by(Firm.role, Firm.name)))


def _buyer(session: Session, firm: Firm, buyer_id: int | None, field: str = "buyer_id") -> Firm:
    buyer = session.get(Firm, buyer_id) if isinstance(buyer_id, int) else None
    if buyer is None or buyer.id == firm.id or buyer.cluster_id != firm.cluster_id \
            or firm.cluster_id is None:
        raise ValidationError("Choose a buyer from your industrial park.", field=field)
    return buyer


def add_invoice(*, session: Session, firm: Firm, buyer_id: int, number: str, amount_fen: int,
                issue_date: date, due_date: date, order_number: str | None = None,
                today: date | None = None) -> Invoice:
    """Record an invoice the vendor issued (pending the buyer's confirmation)."""
    today = today or date.today()
    buyer = _buyer(session, firm, buyer_id)
    number = (number or "").strip()
    if not number:
        raise ValidationError("Enter the invoice number.", field="number")
    if issue_date > today:
        raise ValidationError("The issue date cannot be in the future.", field="issue_date")
    if due_date < issue_date:
        raise ValidationError("The due date cannot be before the issue date.", field="due_date")
    if session.exec(select(Invoice.id).where(Invoice.seller_id == firm.id,
                                             Invoice.number == number)).first():
        raise Conflict(f"You already recorded invoice {number}.")
    order_id = None
    if order_number and order_number.strip():
        order = session.exec(select(PurchaseOrder).where(
            PurchaseOrder.buyer_id == buyer.id, PurchaseOrder.seller_id == firm.id,
            PurchaseOrder.number == order_number.strip())).first()
        if order is None:
            raise ValidationError(N_("No order %(number)s from this buyer is recorded; "
                                     "enter the order first or leave this empty."),
                                  params={"number": order_number.strip()},
                                  field="order_number")
        order_id = order.id
    invoice = Invoice(seller_id=firm.id, buyer_id=buyer.id, number=number,
                      amount_fen=amount_fen, issue_date=issue_date, due_date=due_date,
                      order_id=order_id, status=DocStatus.PENDING)
    session.add(invoice)
    session.flush()
    _changed(session, firm)
    return invoice


def add_order(*, session: Session, firm: Firm, buyer_id: int, number: str, amount_fen: int,
              order_date: date, today: date | None = None) -> PurchaseOrder:
    """Record a purchase order the vendor received (pending the buyer's confirmation)."""
    today = today or date.today()
    buyer = _buyer(session, firm, buyer_id)
    number = (number or "").strip()
    if not number:
        raise ValidationError("Enter the order number.", field="number")
    if order_date > today:
        raise ValidationError("The order date cannot be in the future.", field="order_date")
    if session.exec(select(PurchaseOrder.id).where(PurchaseOrder.buyer_id == buyer.id,
                                                   PurchaseOrder.number == number)).first():
        raise Conflict(f"Order {number} from {buyer.name} is already recorded.")
    order = PurchaseOrder(buyer_id=buyer.id, seller_id=firm.id, number=number,
                          amount_fen=amount_fen, order_date=order_date,
                          status=DocStatus.PENDING)
    session.add(order)
    session.flush()
    _changed(session, firm)
    return order


# --- upload -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    value: str
    problem: str


@dataclass
class UploadResult:
    kind: str
    created: int = 0
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0


class UploadRefused(ValidationError):
    """Raised when an uploaded file has problems; ``problems`` lists every one."""

    code = "upload_refused"

    def __init__(self, message: str, problems: list[Problem]):
        super().__init__(message, field="file")
        self.problems = problems


COLUMNS = {
    "invoices": ("buyer_uscc", "number", "amount", "issue_date", "due_date", "order_number"),
    "orders": ("buyer_uscc", "number", "amount", "order_date"),
}
REQUIRED = {
    "invoices": ("buyer_uscc", "number", "amount", "issue_date", "due_date"),
    "orders": ("buyer_uscc", "number", "amount", "order_date"),
}


def template_csv(kind: str, firm: Firm, example_buyer: Firm | None) -> str:
    """A CSV template with the Chinese headers and one example row."""
    cols = KINDS[kind]
    heads, example = [], []
    buyer = example_buyer.uscc if example_buyer else "91330110MA2H0A001F"
    for key in COLUMNS[kind]:
        col = cols.column(key)
        heads.append(col.zh or key)
        example.append(buyer if key == "buyer_uscc" else (col.example[0] if col.example else ""))
    return ",".join(heads) + "\n" + ",".join(example) + "\n"


def upload(*, session: Session, firm: Firm, kind: str, data: bytes, filename: str,
           today: date | None = None) -> UploadResult:
    """Validate every row of an uploaded file of *kind* ("invoices" or "orders") for
    *firm*, then write them all (pending), or raise :class:`UploadRefused` listing every
    problem and write nothing."""
    today = today or date.today()
    if kind not in COLUMNS:
        raise ValidationError("Choose invoices or orders.", field="kind")
    if not data:
        raise ValidationError("The file is empty.", field="file")
    try:
        table = files.read_table(data, filename, max_bytes=MAX_UPLOAD)
    except Exception as exc:  # the reader's own errors carry a plain message
        message = getattr(exc, "message", None)
        if message is None:
            raise
        raise ValidationError(message, field="file") from None
    spec = KINDS[kind]
    mapping, duplicated = header_map(spec, table.header)
    problems: list[Problem] = []
    for key in duplicated:
        problems.append(Problem(1, key, key, _("the column appears twice in the header")))
    for key in REQUIRED[kind]:
        if key not in mapping:
            col = spec.column(key)
            problems.append(Problem(1, key, "", _("missing required column %(column)s",
                                                  column=col.zh or key)))
    if problems:
        raise UploadRefused(_("The file's header is not usable."), problems)
    if not table.rows:
        raise ValidationError("The file has a header but no rows.", field="file")
    if len(table.rows) > MAX_ROWS:
        raise ValidationError(N_("At most %(n)s rows per file; split it."),
                              params={"n": MAX_ROWS}, field="file")
    seller_col = mapping.get("seller_uscc")
    status_col = mapping.get("status")
    parsed = []
    for number, cells in table.rows:
        values, ok = {}, True
        for key in COLUMNS[kind]:
            if key not in mapping:
                continue
            raw = cells[mapping[key]] if mapping[key] < len(cells) else None
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if key in REQUIRED[kind]:
                    problems.append(Problem(number, key, "", _("required value missing")))
                    ok = False
                continue
            try:
                values[key] = spec.column(key).parse(raw, today)
            except CellError as exc:
                problems.append(Problem(number, key, str(raw)[:60], render(exc.problem)))
                ok = False
        if seller_col is not None and seller_col < len(cells) and str(cells[seller_col]).strip():
            if uscc_rules.normalise(str(cells[seller_col])) != firm.uscc:
                problems.append(Problem(number, "seller_uscc", str(cells[seller_col])[:60],
                                        _("you can only upload your own sales")))
                ok = False
        if status_col is not None and status_col < len(cells):
            raw = str(cells[status_col] or "").strip().lower()
            if raw and raw not in ("pending", "待确权"):
                problems.append(Problem(number, "status", raw[:60],
                                        _("only the buyer can confirm; leave this column empty")))
                ok = False
        if ok and kind == "invoices" and values["due_date"] < values["issue_date"]:
            problems.append(Problem(number, "due_date", values["due_date"].isoformat(),
                                    _("the due date is before the issue date")))
            ok = False
        if ok:
            parsed.append((number, values))
    buyers = {f.uscc: f for f in buyers_for(session=session, firm=firm)}
    seen: dict = {}
    good = []
    for number, v in parsed:
        buyer = buyers.get(v["buyer_uscc"])
        if buyer is None:
            problems.append(Problem(number, "buyer_uscc", v["buyer_uscc"],
                                    _("this buyer is not a firm of your industrial park")))
            continue
        key = (buyer.id, v["number"]) if kind == "orders" else v["number"]
        if key in seen:
            problems.append(Problem(number, "number", v["number"],
                                    _("repeats row %(row)s", row=seen[key])))
            continue
        seen[key] = number
        v["buyer"] = buyer
        good.append((number, v))
    existing = _existing(session, firm, kind, good)
    for number, v in good:
        if (v["buyer"].id, v["number"]) in existing or v["number"] in existing:
            problems.append(Problem(number, "number", v["number"], _("already recorded")))
    orders: dict = {}
    if kind == "invoices":
        wanted = sorted({v["order_number"] for _, v in good if v.get("order_number")})
        for i in range(0, len(wanted), 900):
            for o in session.exec(select(PurchaseOrder).where(
                    PurchaseOrder.seller_id == firm.id,
                    PurchaseOrder.number.in_(wanted[i:i + 900]))):
                orders[(o.buyer_id, o.number)] = o.id
        for number, v in good:
            if v.get("order_number") and (v["buyer"].id, v["order_number"]) not in orders:
                problems.append(Problem(number, "order_number", v["order_number"],
                                        _("no such order from this buyer is recorded")))
    if problems:
        problems.sort(key=lambda p: (p.row, p.column))
        raise UploadRefused(_("%(n)s problem(s) found; nothing was saved.", n=len(problems)),
                            problems)
    for _number, v in good:
        if kind == "invoices":
            session.add(Invoice(seller_id=firm.id, buyer_id=v["buyer"].id, number=v["number"],
                                amount_fen=v["amount"], issue_date=v["issue_date"],
                                due_date=v["due_date"],
                                order_id=orders.get((v["buyer"].id, v.get("order_number"))),
                                status=DocStatus.PENDING))
        else:
            session.add(PurchaseOrder(buyer_id=v["buyer"].id, seller_id=firm.id,
                                      number=v["number"], amount_fen=v["amount"],
                                      order_date=v["order_date"], status=DocStatus.PENDING))
    session.flush()
    if good:
        _changed(session, firm)
    return UploadResult(kind, created=len(good), rows=len(table.rows))


def _changed(session: Session, firm: Firm) -> None:
    """The firm's cluster has new trade: cached graphs must be rebuilt."""
    if firm.cluster_id is not None:
        bump_data_version(session=session, cluster_id=firm.cluster_id)


def _existing(session: Session, firm: Firm, kind: str, rows) -> set:
    numbers = sorted({v["number"] for _, v in rows})
    out: set = set()
    for i in range(0, len(numbers), 900):
        chunk = numbers[i:i + 900]
        if kind == "invoices":
            out |= set(session.exec(select(Invoice.number).where(
                Invoice.seller_id == firm.id, Invoice.number.in_(chunk))).all())
        else:
            out |= {(b, n) for b, n in session.exec(select(PurchaseOrder.buyer_id,
                                                           PurchaseOrder.number)
                                                    .where(PurchaseOrder.number.in_(chunk)))}
    return out
