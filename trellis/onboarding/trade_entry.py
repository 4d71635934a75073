"""A vendor's own trade documents: entered one by one or uploaded as CSV/XLSX.

A vendor records invoices it issued and orders it received, always as the seller and
always ``pending``: only the buyer confirms. The buyer must be a firm of the vendor's
cluster. Uploads go through the one onboarding importer with a "seller is me" policy (GBK or
UTF-8, Chinese or English headers and aliases, yuan amounts to fen); every row is checked
before anything is written, and a file with any problem writes nothing and lists each
problem by row and column.
"""

from __future__ import annotations

import io
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, union
from sqlmodel import Session, col, select

from trellis import clock, exports
from trellis.db import id_of
from trellis.errors import Conflict, TrellisError, ValidationError, ValidationErrors
from trellis.messages import N_, Message, msg
from trellis.network.build import bump_data_version
from trellis.onboarding.errors import AmbiguousBuyer, ImportRefused
from trellis.onboarding.importer import Policy, column_label, import_file
from trellis.onboarding.kinds import KINDS
from trellis.trade import maturity
from trellis.trade import uscc as uscc_rules
from trellis.trade.models import DocStatus, Firm, Invoice, PurchaseOrder, Relationship

MAX_ROWS = 5000
MAX_UPLOAD = 5 * 1024 * 1024

AWAITING_APPROVAL = ("Your firm registered without an invitation: your relationship manager "
                     "must approve the registration before you can record invoices and "
                     "orders.")


def _known(firm: Firm):
    """A select of the firm ids the vendor may pick by name: its counterparties (a supply
    edge either way, or an invoice or order between them either way) and the anchors of
    its park."""
    me = firm.id
    return union(
        select(Relationship.buyer_id).where(col(Relationship.supplier_id) == me),
        select(Relationship.supplier_id).where(col(Relationship.buyer_id) == me),
        select(Invoice.buyer_id).where(col(Invoice.seller_id) == me),
        select(Invoice.seller_id).where(col(Invoice.buyer_id) == me),
        select(PurchaseOrder.buyer_id).where(col(PurchaseOrder.seller_id) == me),
        select(PurchaseOrder.seller_id).where(col(PurchaseOrder.buyer_id) == me),
        select(Firm.id).where(col(Firm.cluster_id) == firm.cluster_id,
                              col(Firm.role) == "anchor"))


def _known_buyers(firm: Firm):
    """A select of the firms of the vendor's park it may pick by name (:func:`_known`)."""
    return select(Firm).where(col(Firm.cluster_id) == firm.cluster_id, col(Firm.id) != firm.id,
                              col(Firm.id).in_(_known(firm)))


def buyers_for(*, session: Session, firm: Firm) -> list[Firm]:
    """Firms the vendor's buyer list offers: its own counterparties and the anchor firms
    of its park, anchors first (reader 11, F2: every firm of the park was listed); any
    other firm of the park is billed by typing its USCC (:func:`find_buyer`). None while
    the vendor's own registration awaits an RM's approval."""
    if firm.cluster_id is None or firm.awaiting_approval:
        return []
    return list(session.exec(_known_buyers(firm).order_by(Firm.role, Firm.name)))


#: how many buyers an ambiguous entry names (a few are enough to see why it is ambiguous)
NAMED_WHEN_AMBIGUOUS = 5
USCC_PART_MIN = 4   # characters of a USCC typed before it is looked for in the codes
_USCC_LIKE = re.compile(r"[0-9A-Z]{18}")


def buyer_entry(buyer: Firm) -> str:
    """The text that names *buyer* in the buyer box's list, read back by :func:`find_buyer`:
    its name and its USCC ("华星电子有限公司 · 91330100MA2XXXXX0X")."""
    return f"{buyer.name} · {buyer.uscc}"


def find_buyer(*, session: Session, firm: Firm, text: str | None) -> Firm:
    """The firm of the vendor's park that *text* names, as a person types it into the buyer
    box (a park may hold hundreds of firms, too many to scroll through): a list entry
    (:func:`buyer_entry`), a USCC, a whole name, or a part of a name or USCC that no other
    firm of the park shares (runs of spaces read as one, Latin letters in any case).

    Raises :class:`ValidationError` on field ``buyer`` when nothing is typed, when no firm
    matches (naming what was typed) or when several do (naming a few of them); and while the
    vendor's registration awaits approval; :class:`AmbiguousBuyer` (a ValidationError,
    with the firms to pick from) when several do."""
    if firm.awaiting_approval:
        raise ValidationError(AWAITING_APPROVAL, field="buyer")
    typed = " ".join((text or "").split())[:200]
    if not typed:
        raise ValidationError(N_("Choose the buyer: type part of its name or its USCC, then "
                                 "pick it from the list."), field="buyer")
    if firm.cluster_id is None:
        raise ValidationError(N_("Choose a buyer from your industrial park."), field="buyer")
    park = select(Firm).where(col(Firm.cluster_id) == firm.cluster_id, col(Firm.id) != firm.id)
    # a list entry or a typed USCC names one firm exactly, of the whole park
    for code in dict.fromkeys(_USCC_LIKE.findall(typed.upper())):
        found = session.exec(park.where(col(Firm.uscc) == code)).first()
        if found is not None:
            return found
    _refuse_bad_uscc(typed)
    # by name only the vendor's counterparties and the park's anchors (reader 11, F2)
    park = _known_buyers(firm)
    named = list(session.exec(park.where(col(Firm.name) == typed).limit(2)))
    if len(named) == 1:
        return named[0]
    part = typed
    fits = func.lower(col(Firm.name)).contains(part.lower(), autoescape=True)
    if len(part) >= USCC_PART_MIN:   # "0" is in every code: a part of one is longer
        fits = fits | col(Firm.uscc).contains(part.upper(), autoescape=True)
    # the firms the vendor already bills first (reader Q1: "江北" named five strangers and
    # neither of the vendor's two buyers), then anchors, then by name
    billed = select(Invoice.buyer_id).where(col(Invoice.seller_id) == firm.id)
    matches = list(session.exec(park.where(fits).order_by(
        col(Firm.id).in_(billed).desc(), col(Firm.role), col(Firm.name))
        .limit(NAMED_WHEN_AMBIGUOUS + 1)))
    if len(matches) == 1:
        return matches[0]
    if not matches:
        code = uscc_rules.normalise(typed)
        if _USCC_LIKE.fullmatch(code):   # a valid code, of no firm of the park
            raise ValidationError(N_("No firm of your industrial park has the USCC "
                                     "%(code)s."), params={"code": code}, field="buyer")
        raise ValidationError(N_("None of your trading partners or the park's anchor firms "
                                 "matches “%(text)s”: pick a buyer from the list, or type "
                                 "the 18-character USCC of another firm of your park."),
                              params={"text": typed}, field="buyer")
    count = session.scalar(select(func.count()).select_from(park.where(fits).subquery())) or 0
    named = matches[:NAMED_WHEN_AMBIGUOUS]
    names = [m.name for m in named]
    raise AmbiguousBuyer(N_("“%(text)s” matches %(count)s buyers (%(names)s): type more of "
                             "the name, or the USCC."),
                          params={"text": typed, "count": count,
                                  "names": names + (["…"] if count > len(names) else [])},
                         field="buyer", choices=[(buyer_entry(m), m.name, m.uscc) for m in named])


#: what reads as an attempt at a USCC rather than a name: letters and digits only,
#: with a digit, about as long as a code
_CODE_ATTEMPT = re.compile(r"(?=.*[0-9])[0-9A-Z]{15,20}")


def _refuse_bad_uscc(typed: str) -> None:
    """Raise :class:`ValidationError` on field ``buyer`` when *typed* is a USCC that
    breaks GB 32100-2015 (a wrong check character, a letter the standard leaves out, a
    wrong length): reader 11, F2, it read as "no such buyer"."""
    code = uscc_rules.normalise(typed)
    if not _CODE_ATTEMPT.fullmatch(code):
        return
    problem = uscc_rules.problem_message(code)
    if problem is not None:
        raise ValidationError(N_("“%(code)s” is not a valid USCC: %(problem)s. Check it "
                                 "against the buyer's business licence (GB 32100-2015)."),
                              params={"code": code, "problem": problem}, field="buyer")


def _buyer(session: Session, firm: Firm, buyer_id: int | str | None,
           field: str = "buyer_id") -> Firm:
    """The buyer a document names: a firm id (the API, the importer) or what a person typed
    in the buyer box (:func:`find_buyer`)."""
    if isinstance(buyer_id, str):
        return find_buyer(session=session, firm=firm, text=buyer_id)
    if firm.awaiting_approval:
        raise ValidationError(AWAITING_APPROVAL, field=field)
    buyer = session.get(Firm, buyer_id) if isinstance(buyer_id, int) else None
    if buyer is None or buyer.id == firm.id or buyer.cluster_id != firm.cluster_id \
            or firm.cluster_id is None:
        raise ValidationError(N_("Choose a buyer from your industrial park."), field=field)
    return buyer


def _problems(checks) -> list[ValidationError]:
    """Run each check of *checks* (callables raising ValidationError) and keep what they
    raise, so that a form shows every bad field at once (reader Q3, tenth session)."""
    found = []
    for check in checks:
        try:
            check()
        except ValidationErrors as exc:
            found.extend(exc.errors)
        except ValidationError as exc:
            found.append(exc)
    return found


def invoice_problems(*, session: Session, firm: Firm, buyer_id: int | str | None,
                     number: str | None, issue_date: date | None, due_date: date | None,
                     order_number: str | None = None, today: date | None = None,
                     skip: Collection[str] = ()) -> list[ValidationError]:
    """Every problem of an invoice as the vendor entered it (:func:`add_invoice`), one
    :class:`ValidationError` per bad field, in the form's order. Fields in *skip* (those a
    form already refused, e.g. a date it could not read) are not checked, nor is anything
    that depends on them. Reads only."""
    return _check_invoice(session=session, firm=firm, buyer_id=buyer_id, number=number,
                          issue_date=issue_date, due_date=due_date, order_number=order_number,
                          today=today, skip=skip)[0]


def _check_invoice(*, session: Session, firm: Firm, buyer_id: int | str | None,
                   number: str | None, issue_date: date | None, due_date: date | None,
                   order_number: str | None, today: date | None,
                   skip: Collection[str] = ()) -> tuple[list[ValidationError], dict]:
    """:func:`invoice_problems`, and what the checks found on the way (``buyer``, the
    firm; ``order``, the order named), so that saving does not read them again."""
    today = today or clock.today()
    found: dict = {}

    def buyer() -> None:
        found["buyer"] = _buyer(session, firm, buyer_id)

    def num() -> None:
        if not (number or "").strip():
            raise ValidationError(N_("Enter the invoice number."), field="number")

    def issued() -> None:
        if issue_date is not None and issue_date > today:
            raise ValidationError(N_("The issue date cannot be in the future."),
                                  field="issue_date")

    def due() -> None:
        # a refused issue date still read as a date (one in the future) is compared
        if due_date is not None and issue_date is not None and due_date < issue_date:
            raise ValidationError(N_("The due date cannot be before the issue date."),
                                  field="due_date")

    def order() -> None:
        if "buyer" in found and order_number and order_number.strip():
            found["order"] = _order_of(session, firm, found["buyer"], order_number)

    checks = {"buyer": buyer, "number": num, "issue_date": issued, "due_date": due,
              "order_number": order}
    return _problems(check for name, check in checks.items() if name not in skip), found


def _order_of(session: Session, firm: Firm, buyer: Firm, order_number: str) -> PurchaseOrder:
    order = session.exec(select(PurchaseOrder).where(
        PurchaseOrder.buyer_id == buyer.id, PurchaseOrder.seller_id == firm.id,
        PurchaseOrder.number == order_number.strip())).first()
    if order is None:
        raise ValidationError(N_("No order %(number)s from this buyer is recorded; "
                                 "enter the order first or leave this empty."),
                              params={"number": order_number.strip()}, field="order_number")
    return order


def add_invoice(*, session: Session, firm: Firm, buyer_id: int | str, number: str,
                amount_fen: int, issue_date: date, due_date: date,
                order_number: str | None = None, today: date | None = None) -> Invoice:
    """Record an invoice the vendor issued (pending the buyer's confirmation). *buyer_id*
    is a firm id, or the text typed in the buyer box (:func:`find_buyer`).

    Raises :class:`ValidationErrors` naming every bad field (:func:`invoice_problems`),
    then :class:`Conflict` when the vendor already recorded that number."""
    problems, found = _check_invoice(session=session, firm=firm, buyer_id=buyer_id,
                                     number=number, issue_date=issue_date, due_date=due_date,
                                     order_number=order_number, today=today)
    if problems:
        raise ValidationErrors(problems)
    buyer = found["buyer"]
    number = number.strip()
    if session.exec(select(Invoice.id).where(Invoice.seller_id == firm.id,
                                             Invoice.number == number)).first():
        raise Conflict(N_("You already recorded invoice %(number)s."),
                       params={"number": number})
    order_id = id_of(found["order"]) if "order" in found else None
    invoice = Invoice(seller_id=id_of(firm), buyer_id=id_of(buyer), number=number,
                      amount_fen=amount_fen, issue_date=issue_date, due_date=due_date,
                      order_id=order_id, status=DocStatus.PENDING)
    session.add(invoice)
    session.flush()
    _changed(session, firm)
    return invoice


def cannot_finance(invoice: Invoice, today: date | None = None) -> Message | None:
    """Why *invoice*, just recorded, can never be financed: due by *today* (default the
    current day; :func:`trellis.trade.maturity.unfinanceable_because_due`), or None.
    Such an invoice is still recorded (it is trade history) and the vendor is told."""
    return maturity.unfinanceable_because_due(invoice.due_date, today or clock.today())


def order_problems(*, session: Session, firm: Firm, buyer_id: int | str | None,
                   number: str | None, order_date: date | None, today: date | None = None,
                   skip: Collection[str] = ()) -> list[ValidationError]:
    """Every problem of an order as the vendor entered it (:func:`add_order`), as
    :func:`invoice_problems` does for an invoice. Reads only."""
    return _check_order(session=session, firm=firm, buyer_id=buyer_id, number=number,
                        order_date=order_date, today=today, skip=skip)[0]


def _check_order(*, session: Session, firm: Firm, buyer_id: int | str | None,
                 number: str | None, order_date: date | None, today: date | None,
                 skip: Collection[str] = ()) -> tuple[list[ValidationError], dict]:
    """:func:`order_problems`, and the buyer the checks found (``buyer``), so that saving
    does not look it up again."""
    today = today or clock.today()
    found: dict = {}

    def buyer() -> None:
        found["buyer"] = _buyer(session, firm, buyer_id)

    def num() -> None:
        if not (number or "").strip():
            raise ValidationError(N_("Enter the order number."), field="number")

    def ordered() -> None:
        if order_date is not None and order_date > today:
            raise ValidationError(N_("The order date cannot be in the future."),
                                  field="order_date")

    checks = {"buyer": buyer, "number": num, "order_date": ordered}
    return _problems(check for name, check in checks.items() if name not in skip), found


def add_order(*, session: Session, firm: Firm, buyer_id: int | str, number: str,
              amount_fen: int, order_date: date, today: date | None = None) -> PurchaseOrder:
    """Record a purchase order the vendor received (pending the buyer's confirmation).
    *buyer_id* as for :func:`add_invoice`. Raises :class:`ValidationErrors` naming every
    bad field (:func:`order_problems`), then :class:`Conflict` for a number recorded."""
    problems, found = _check_order(session=session, firm=firm, buyer_id=buyer_id,
                                   number=number, order_date=order_date, today=today)
    if problems:
        raise ValidationErrors(problems)
    buyer = found["buyer"]
    number = number.strip()
    if session.exec(select(PurchaseOrder.id).where(PurchaseOrder.buyer_id == buyer.id,
                                                   PurchaseOrder.number == number)).first():
        raise Conflict(N_("Order %(number)s from %(buyer)s is already recorded."),
                       params={"number": number, "buyer": buyer.name})
    order = PurchaseOrder(buyer_id=id_of(buyer), seller_id=id_of(firm), number=number,
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
    problem: str                      # English
    what: Message | None = None       # the problem, for the reader's language
    label: dict | None = None         # the column in both languages


@dataclass
class UploadResult:
    kind: str
    created: int = 0
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    #: of the documents created, those sold to a buyer that is no anchor firm: they stay
    #: pending with no one on Trellis to confirm them (only an anchor confirms, 确权)
    unconfirmable: int = 0
    #: of the invoices created, those already due: recorded as trade history, never
    #: financed (:func:`cannot_finance`)
    past_due: int = 0
    #: rows identical to a document the vendor already recorded, as (row, number): not
    #: saved again (a re-upload changes nothing, and the vendor is told which rows)
    repeated: list[tuple[int, str]] = field(default_factory=list)


class UploadRefused(ValidationError):
    """Raised when an uploaded file has problems; ``problems`` lists every one."""

    code = "upload_refused"

    def __init__(self, message: str | Message, problems: list[Problem]):
        super().__init__(message, field="file")
        self.problems = problems


COLUMNS = {
    "invoices": ("buyer_uscc", "number", "amount", "issue_date", "due_date", "order_number"),
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
    out = io.StringIO()
    # the one CSV writer (quoting, and no cell read as a formula), like every export
    writer = exports.writer(out, lineterminator="\n")
    writer.writerow(heads)
    writer.writerow(example)
    return out.getvalue()


#: The importer's wording of a problem -> the vendor's (who imports their own sales).
_VENDOR_WORDING = (
    (re.compile(r"^(unknown firm|this firm belongs to another cluster|this firm is in no "
                r"cluster).*"), N_("this buyer is not a firm of your industrial park")),
    (re.compile(r"^duplicate \w+ number: already on row (\d+)$"), N_("repeats row %(row)s")),
    (re.compile(r"^duplicate \w+ number: already imported.*"), N_("already recorded")),
    (re.compile(r"^unknown order number for this buyer.*"),
     N_("no such order from this buyer is recorded")),
)


def _vendor_words(error) -> Message:
    """The importer's problem *error* (a RowError) in the vendor's words."""
    for pattern, words in _VENDOR_WORDING:
        found = pattern.match(error.problem)
        if found:
            return msg(words, row=int(found.group(1))) if "%(row)s" in words else msg(words)
    return error.problem_message


def upload(*, session: Session, firm: Firm, kind: str, data: bytes, filename: str,
           today: date | None = None) -> UploadResult:
    """Import an uploaded file of *kind* ("invoices" or "orders") for *firm* through the
    one importer (``trellis.onboarding.importer``) with the "seller is me" policy: the
    seller column may be left out, documents go in pending (only the buyer confirms), the
    buyer must be a firm of the vendor's park. Every row is checked first; with any
    problem :class:`UploadRefused` lists them all and nothing is written."""
    if kind not in COLUMNS:
        raise ValidationError(N_("Choose invoices or orders."), field="kind")
    if firm.awaiting_approval:
        raise ValidationError(AWAITING_APPROVAL, field="file")
    if not data:
        raise ValidationError(N_("The file is empty."), field="file")
    if firm.cluster_id is None:
        raise ValidationError(N_("Your firm is not in an industrial park yet; ask your "
                                 "relationship manager."), field="file")
    model = Invoice if kind == "invoices" else PurchaseOrder
    before = session.exec(select(func.max(model.id))).one() or 0
    try:
        result = import_file(session=session, cluster_id=firm.cluster_id, kind=kind,
                             data=data, filename=filename, today=today,
                             max_bytes=MAX_UPLOAD, max_rows=MAX_ROWS,
                             policy=Policy(seller_is=firm.uscc))
    except ImportRefused as exc:
        if not exc.errors:
            message = Message(exc.template, exc.params)
            if "no data rows" in exc.message:
                message = Message(N_("The file has a header but no rows."))
            raise ValidationError(message, field="file") from None
        spec = KINDS[kind]
        problems = []
        for e in exc.errors:
            what = _vendor_words(e)
            problems.append(Problem(e.row, e.column, e.value[:60], str(what), what,
                                    column_label(spec, e.column)))
        if all(p.row == 1 for p in problems):
            raise UploadRefused(N_("The file's header is not usable."), problems) from None
        raise UploadRefused(msg(N_("%(n)s problem(s) found; nothing was saved."),
                                n=exc.count), problems) from None
    except TrellisError as exc:  # too large, unreadable: the reader's plain message
        raise ValidationError(Message(exc.template, exc.params), field="file") from None
    return UploadResult(kind, created=result.created, rows=result.rows,
                        unconfirmable=_unconfirmable(session, model, firm, after=before),
                        past_due=_past_due(session, firm, after=before, today=today)
                        if kind == "invoices" else 0,
                        repeated=result.repeated)


def _past_due(session: Session, firm: Firm, *, after: int, today: date | None) -> int:
    """How many of *firm*'s invoices above id *after* (those just created) are already due
    (:func:`trellis.trade.maturity.is_due`, as a query)."""
    return session.exec(
        select(func.count()).select_from(Invoice)
        .where(col(Invoice.seller_id) == firm.id, col(Invoice.id) > after,
               col(Invoice.due_date) <= (today or clock.today()))).one()


def _unconfirmable(session: Session, model: type[Invoice] | type[PurchaseOrder], firm: Firm,
                   *, after: int) -> int:
    """How many of *firm*'s pending documents above id *after* (those just created) are sold
    to a buyer that is no anchor firm."""
    session.flush()
    return session.exec(
        select(func.count()).select_from(model)
        .join(Firm, col(Firm.id) == col(model.buyer_id))
        .where(col(model.seller_id) == firm.id, col(model.id) > after,
               col(model.status) == DocStatus.PENDING, col(Firm.role) != "anchor")).one()


def _changed(session: Session, firm: Firm) -> None:
    """The firm's cluster has new trade: cached graphs must be rebuilt."""
    if firm.cluster_id is not None:
        bump_data_version(session=session, cluster_id=firm.cluster_id)
