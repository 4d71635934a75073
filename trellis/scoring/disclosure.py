"""What an anchor (a buyer) may learn about its suppliers' credit at the bank.

A supplier's internal score, grade and probability of default, its loans, their arrears
and what it owes the bank are the bank's confidential customer information (银行保密义务,
征信信息使用规则): its biggest customer sees none of them. Trellis holds no consent by
which a supplier shares them with a named buyer (a firm's consents, ``trade_data``,
``credit_query`` and ``bank_account``, are all given to the bank), so an anchor is never
shown them. It sees a plain signal instead: whether the supplier's risk rose, and a
reason in words, with no figure behind it. The reason is one and the same for every
rise (:attr:`Reason.BANK_INFORMATION`): were a fallen assessment told apart from an
overdue loan, the buyer would learn which of its suppliers is behind with the bank
(reader 12, G4: the page said loans were confidential, then named a supplier
「该供应商对银行的还款出现逾期」).

:func:`signal_for_anchor` turns the bank's comparison (two scores, two grades, overdue
loans) into that signal; :data:`SIGNAL_TEXT` and :data:`REASON_TEXT` are its words, for
the web layer to translate. What it takes in never leaves this module with it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from trellis.messages import N_

SCORE_DROP = 20          # points; a fall this large (or a worse grade) is a rise in risk
SHARP_DROP = 2 * SCORE_DROP
SHARP_DPD = 30           # days past due from which an overdue loan is a sharp rise
GRADES = "ABCDE"


class Signal(enum.StrEnum):
    """How a supplier's risk moved, as an anchor is told it (worst first)."""

    SHARPLY_UP = "sharply_up"
    UP = "up"
    UNCHANGED = "unchanged"


class Reason(enum.StrEnum):
    """Why, in words, as an anchor may be told it: never the score, the grade, a loan, a
    day count or an amount, nor which of the bank's information moved (a fallen
    assessment or an overdue loan read alike)."""

    BANK_INFORMATION = "bank_information"   # what the bank knows of the firm shows more risk


SIGNAL_TEXT = {
    Signal.SHARPLY_UP: N_("Risk rose sharply"),
    Signal.UP: N_("Risk rising"),
    Signal.UNCHANGED: N_("No change"),
}
REASON_TEXT = {
    Reason.BANK_INFORMATION: N_("Information the bank holds shows this supplier's risk rose"),
}


@dataclass(frozen=True)
class RiskSignal:
    """The signal an anchor sees: its level, the reason in words (one, the same for every
    rise; none when unchanged), and the day the comparison starts from (None: no earlier
    assessment to compare with)."""

    level: Signal
    reasons: tuple[Reason, ...]
    compared_since: date | None

    @property
    def warns(self) -> bool:
        """The supplier's risk rose (either level), so the anchor is warned."""
        return self.level != Signal.UNCHANGED

    @property
    def text(self) -> str:
        """The level in words (an English msgid; the page translates it)."""
        return SIGNAL_TEXT[self.level]

    @property
    def reason_texts(self) -> list[str]:
        """The reason in words (English msgids; the page translates them)."""
        return [REASON_TEXT[r] for r in self.reasons]


def _grade_steps(grade_now: str | None, grade_before: str | None) -> int:
    if not grade_now or not grade_before or grade_now not in GRADES \
            or grade_before not in GRADES:
        return 0
    return GRADES.index(grade_now) - GRADES.index(grade_before)


def fell(score_now: int | None, score_before: int | None, grade_now: str | None,
         grade_before: str | None) -> bool:
    """A fall of :data:`SCORE_DROP` points or more, or a worse grade (two scores needed)."""
    if score_now is None or score_before is None:
        return False
    return (score_before - score_now >= SCORE_DROP
            or _grade_steps(grade_now, grade_before) > 0)


def signal_for_anchor(*, score_now: int | None, score_before: int | None,
                      grade_now: str | None, grade_before: str | None,
                      compared_since: date | None, overdue_loans: int, max_dpd: int
                      ) -> RiskSignal:
    """The signal for one supplier. Risk rose when the score fell :data:`SCORE_DROP`
    points or more or the grade got worse, or a loan is overdue; sharply when it fell
    :data:`SHARP_DROP` or more or two grades, or a loan is :data:`SHARP_DPD` days or more
    past due. *max_dpd*: the most days past due of the supplier's loans (0: none)."""
    sharp = False
    reasons: tuple[Reason, ...] = ()
    fallen = fell(score_now, score_before, grade_now, grade_before)
    if fallen:
        assert score_now is not None and score_before is not None
        sharp = (score_before - score_now >= SHARP_DROP
                 or _grade_steps(grade_now, grade_before) >= 2)
    if overdue_loans:
        sharp = sharp or max_dpd >= SHARP_DPD
    if not (fallen or overdue_loans):
        level = Signal.UNCHANGED
    else:
        level = Signal.SHARPLY_UP if sharp else Signal.UP
        reasons = (Reason.BANK_INFORMATION,)
    return RiskSignal(level, reasons,
                      compared_since if score_before is not None else None)
