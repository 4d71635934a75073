"""What a firm may see of a voucher: the privacy rule of the lineage.

A tier-2 supplier that received part of a voucher once saw the whole tree on the
voucher's page: every part its customer still held, split off or financed, and the face
value of its customer's invoice (outside reader 11, F23). A holder's customer's holdings
are the customer's business. The rule, for every page that shows a voucher's parts:

- the issuer (the anchor, which owes every part) and bank staff see every part;
- any other firm sees its *own* parts in full (what it holds or held: amount, state,
  whom it passed one to), and, of the parts held by others, only the *sources*: each
  part another firm passed on along the way to one of its own parts, shown by the firm
  that passed it on and nothing else (from whom; no amount, no state). Its customer's
  other parts, the parts its own suppliers split or passed on further, and the parts of
  firms beside it are not shown at all;
- the face value is shown to the issuer, bank staff and the firm that held the whole
  (the invoice's seller), not to a firm further down.

The voucher's code, issuer and maturity (who pays, and when) are every holder's to see.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from trellis.vouchers.models import FragmentStatus, VoucherEvent, VoucherFragment


@dataclass(frozen=True)
class Sight:
    """What one viewer sees of one voucher's parts (see the module's rule)."""

    everything: bool
    own: frozenset[int]
    sources: frozenset[int]
    face_value: bool

    def shows(self, fragment_id: int | None) -> bool:
        """Whether the part appears at all (in full or as a source)."""
        return self.everything or fragment_id in self.own or fragment_id in self.sources

    def in_full(self, fragment_id: int | None) -> bool:
        """Whether the part's amount and state are shown."""
        return self.everything or fragment_id in self.own


def sight(fragments: Sequence[VoucherFragment], *, viewer_id: int | None, issuer_id: int) -> Sight:
    """What *viewer_id* (a firm; None for bank staff) sees of a voucher whose parts are
    *fragments* (every part, any order) and whose issuer is *issuer_id*."""
    if viewer_id is None or viewer_id == issuer_id:
        return Sight(everything=True, own=frozenset(), sources=frozenset(), face_value=True)
    by_id = {f.id: f for f in fragments}
    own = {f.id for f in fragments if f.holder_id == viewer_id}
    sources: set[int] = set()
    for ident in own:
        parent = by_id[ident].parent_id
        while parent is not None and parent in by_id:
            above = by_id[parent]
            if above.holder_id != viewer_id and above.status == FragmentStatus.TRANSFERRED:
                sources.add(parent)
            parent = above.parent_id
    roots = [f for f in fragments if f.parent_id is None]
    return Sight(
        everything=False,
        own=frozenset(i for i in own if i is not None),
        sources=frozenset(sources),
        face_value=bool(roots) and roots[0].holder_id == viewer_id,
    )


def visible_parent(
    fragment: VoucherFragment, fragments: Iterable[VoucherFragment], seen: Sight
) -> int | None:
    """The nearest ancestor of *fragment* the viewer sees (None: it hangs from the
    issue), so that a picture of the visible parts is still a tree."""
    by_id = {f.id: f for f in fragments}
    parent = fragment.parent_id
    while parent is not None and not seen.shows(parent):
        above = by_id.get(parent)
        parent = above.parent_id if above is not None else None
    return parent


def transfers(fragments: Iterable[VoucherFragment]) -> dict[int, VoucherFragment]:
    """Each part passed on (status ``transferred``) -> the one part it became, held by
    the firm it went to: what a page says instead of showing one amount twice."""
    frags = list(fragments)
    passed = {f.id for f in frags if f.status == FragmentStatus.TRANSFERRED}
    return {f.parent_id: f for f in frags if f.parent_id is not None and f.parent_id in passed}


def visible_events(events: Iterable[VoucherEvent], seen: Sight) -> list[VoucherEvent]:
    """The events of the parts the viewer sees (a source's event: its passing on)."""
    return [e for e in events if seen.shows(e.fragment_id)]
