"""Voucher parts as something a loan finances: the vouchers' side of two interfaces.

:class:`VoucherParts` implements :class:`trellis.ledger.financed.Parts` (eligibility,
amounts and maturity, pledge and release), and :func:`fingerprint_subjects` gives the
chain's double-financing registry the fingerprints of parts
(:func:`trellis.chain.registry.provide_part_subjects`). :func:`install` hands both over;
``trellis/vouchers/__init__.py`` calls it, so any process that knows voucher tables has
them. Amounts are integer fen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from trellis.chain import registry
from trellis.db import id_of
from trellis.errors import NotFound
from trellis.ledger import financed
from trellis.ledger.errors import IneligibleDocument
from trellis.ledger.models import Loan
from trellis.messages import N_, Message, msg
from trellis.trade.models import Firm, Invoice
from trellis.vouchers.financing import pledge, release
from trellis.vouchers.models import (
    FragmentStatus,
    Voucher,
    VoucherFragment,
    VoucherStatus,
    fragment_word,
)
from trellis.vouchers.naming import part_name, part_numbers


class VoucherParts:
    """:class:`trellis.ledger.financed.Parts` for voucher parts."""

    def eligible(self, session: Session, *, firm_id: int, ids: Sequence[int],
                 as_of: date) -> tuple[int, date]:
        """Parts held (live, not pledged) by the firm, voucher not matured: returns (sum of
        the parts' amounts in fen, latest voucher maturity)."""
        base, latest = 0, None
        for ident in ids:
            frag = session.get(VoucherFragment, ident)
            if frag is None or frag.holder_id != firm_id:
                raise IneligibleDocument(msg(N_("Voucher part %(ident)s is not held by your firm."),
                                             ident=ident),
                                         field="fragment_ids")
            voucher = session.get_one(Voucher, frag.voucher_id)
            if frag.status != FragmentStatus.HELD or voucher.status != VoucherStatus.ACTIVE:
                raise IneligibleDocument(msg(N_("%(name)s is %(status)s; only a part you "
                                                "hold can be financed."),
                                             name=part_name(session, ident, detail=False),
                                             status=fragment_word(frag.status)),
                                         field="fragment_ids")
            if voucher.maturity_date <= as_of:
                raise IneligibleDocument(msg(N_("Voucher %(code)s has matured; it is "
                                                "settled, not financed."),
                                             code=voucher.code), field="fragment_ids")
            base += frag.amount_fen
            latest = max(latest or voucher.maturity_date, voucher.maturity_date)
        if latest is None:   # the ledger asks only about a non-empty list
            raise ValueError("eligible() needs at least one voucher part")
        return base, latest

    def due(self, session: Session, ids: Sequence[int]) -> tuple[int, date]:
        """The total amount in fen of voucher parts *ids* and the latest maturity date among their
        vouchers."""
        frags = [session.get_one(VoucherFragment, i) for i in ids]
        return (sum(f.amount_fen for f in frags),
                max(session.get_one(Voucher, f.voucher_id).maturity_date for f in frags))

    def name(self, session: Session, ident: int) -> Message:
        """Part *ident* in words: its voucher and number, its amount in yuan and who holds
        it (:mod:`trellis.vouchers.naming`)."""
        return part_name(session, ident)

    def covers_invoice(self, session: Session, invoice_id: int) -> bool:
        """Whether the anchor turned the invoice into a digital payable voucher; its parts
        are financed through the voucher, never the invoice itself (no double
        financing)."""
        return invoice_id in self.covered_invoices(session, [invoice_id])

    def covered_invoices(self, session: Session, invoice_ids: Sequence[int]) -> set[int]:
        """Those of *invoice_ids* the anchor turned into vouchers, in one statement."""
        if not invoice_ids:
            return set()
        return {i for i in session.exec(select(Voucher.invoice_id).where(
            col(Voucher.invoice_id).in_(list(invoice_ids)))) if i is not None}

    def pledge(self, session: Session, *, loan: Loan, ids: Sequence[int],
               user_id: int | None) -> None:
        """Pledge voucher parts *ids* to *loan* (the ledger calls this when the loan is made)."""
        pledge(session=session, loan=loan, fragment_ids=ids, user_id=user_id)

    def release(self, session: Session, *, loan: Loan) -> None:
        """Release the voucher parts pledged to *loan* (the loan was withdrawn or closed)."""
        release(session=session, loan=loan)


def fingerprint_subjects(session: Session, key: str,
                         fragment_ids: Sequence[int]) -> list[registry.Subject]:
    """The parts' subjects, then one ``voucher`` subject per voucher holding the
    fingerprints of the invoice it was issued from."""
    out: list[registry.Subject] = []
    vouchers: dict[int, registry.Subject] = {}
    numbers = part_numbers(session, fragment_ids)   # the part's number as pages show it
    for i in dict.fromkeys(fragment_ids):
        frag = session.get(VoucherFragment, i)
        if frag is None:
            raise NotFound(msg(N_("voucher part %(i)s does not exist"), i=i))
        voucher = session.get_one(Voucher, frag.voucher_id)
        invoice = session.get_one(Invoice, voucher.invoice_id)
        anchor = session.get_one(Firm, voucher.issuer_id)
        seller = session.get_one(Firm, invoice.seller_id)
        buyer = session.get_one(Firm, invoice.buyer_id)
        path: list[str] = []
        node: VoucherFragment | None = frag
        while node is not None:
            path.append(str(node.id))
            node = session.get(VoucherFragment, node.parent_id) if node.parent_id else None
        path_text = "/".join(reversed(path))
        label = (f"voucher {voucher.code} part No. {numbers[i]} "
                 f"({frag.amount_fen / 100:,.2f} CNY, "
                 f"anchor {anchor.uscc}, invoice {invoice.number} of {seller.uscc})")
        out.append(registry.Subject("fragment", id_of(frag), label, {
            "full": registry.fragment_fingerprint(
                key, anchor_uscc=anchor.uscc, seller_uscc=seller.uscc,
                number=invoice.number, path=path_text, amount_fen=frag.amount_fen)}))
        if id_of(voucher) not in vouchers:
            vouchers[id_of(voucher)] = registry.Subject(
                "voucher", id_of(voucher),
                f"voucher {voucher.code} issued from invoice {invoice.number} from "
                f"{seller.name} ({seller.uscc}) to {buyer.name} ({buyer.uscc}), "
                f"{invoice.amount_fen / 100:,.2f} CNY of {invoice.issue_date.isoformat()}",
                registry.fingerprints(key, kind="invoice", seller_uscc=seller.uscc,
                                      buyer_uscc=buyer.uscc, number=invoice.number,
                                      amount_fen=invoice.amount_fen,
                                      issued_on=invoice.issue_date))
    return out + list(vouchers.values())


def install() -> None:
    """Hand the ledger and the chain registry what they need to know about parts."""
    financed.provide(VoucherParts())
    registry.provide_part_subjects(fingerprint_subjects)
