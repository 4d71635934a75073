"""The product catalogue as an administrator reads it: each product's rates and terms.

Computed by the same rules that price an offer, from the product rows and scoring's
tables (the LPR and the legal cap in force): the contract rate of every grade the
product lends to, with and without the anchor's confirmation discount
(:func:`trellis.scoring.pricing.quote_rate`), so the range shown is the range offered.
A grade whose rate would be above the cap is listed as refused, as an offer would be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from trellis.errors import TrellisError
from trellis.ledger.models import Product
from trellis.scoring.pricing import legal_cap, lpr, quote_rate


@dataclass(frozen=True)
class ProductTerms:
    """One product's terms: rates as annual fractions (``Decimal("0.065")`` = 6.5 %),
    advance and fee rates in basis points, amounts in fen; ``lowest``/``highest``: the
    contract rates it offers (None when no grade can be priced); ``refused_grades``:
    grades whose rate would exceed the legal cap."""

    product: Product
    lowest: Decimal | None
    highest: Decimal | None
    refused_grades: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Catalogue:
    """The products with their terms on ``as_of``, the LPR and the legal cap then."""

    as_of: date
    lpr: Decimal
    cap: Decimal
    products: list[ProductTerms]


def catalogue(*, session: Session, as_of: date) -> Catalogue:
    """Every product (active first, by code) with its rate range on *as_of*."""
    rows = session.exec(select(Product).order_by(col(Product.active).desc(),
                                                 col(Product.code))).all()
    out = []
    for product in rows:
        rates: list[Decimal] = []
        refused: list[str] = []
        for grade in sorted(product.spreads_bps or {}):
            priced = 0
            for confirmed in (True, False):
                try:
                    rates.append(Decimal(quote_rate(
                        session=session, grade=grade, anchor_confirmed=confirmed,
                        spreads_bps=product.spreads_bps,
                        confirmed_discount_bps=product.confirmed_discount_bps, as_of=as_of)))
                    priced += 1
                except TrellisError:
                    pass   # above the cap (or no valid spread): no offer at this grade
            if not priced:
                refused.append(grade)
        out.append(ProductTerms(product=product, lowest=min(rates) if rates else None,
                                highest=max(rates) if rates else None, refused_grades=refused))
    return Catalogue(as_of=as_of, lpr=Decimal(lpr(session=session, as_of=as_of)),
                     cap=Decimal(legal_cap(session=session, as_of=as_of)), products=out)


__all__ = ["Catalogue", "ProductTerms", "catalogue"]
