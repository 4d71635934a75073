"""Fraud warnings that fit the person and the moment.

Warnings are rows of :class:`~trellis.protection.models.FraudWarning` (seeded by the
migration, edited by the risk team on the admin page). For a *moment* (registration,
before accepting an offer, before a repayment, a bank-account change) a user sees the
active warnings meant for everyone plus those for their age band (from the user's birth
year) and their firm's age (new or established, from ``founded_on``), lowest ``sort``
first. Older vendors are targeted by fake police and courts, new founders by fake deals
and investments, young borrowers by "credit repair" and upfront-fee loans.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from trellis import clock
from trellis.accounts.models import User
from trellis.clock import utcnow
from trellis.messages import N_, msg
from trellis.protection.errors import BadWarning, WarningNotFound
from trellis.protection.models import AgeBand, FirmAge, FraudWarning, Moment, ProtectionPolicy

MAX_SHOWN = 4
LIMITS = {"title_en": 120, "title_zh": 60, "body_en": 600, "body_zh": 300}


def policy(*, session: Session) -> ProtectionPolicy:
    """The protection policy row (created with defaults if the seed is missing)."""
    row = session.get(ProtectionPolicy, 1)
    if row is None:
        row = ProtectionPolicy(id=1)
        session.add(row)
        session.flush()
    return row


def age_band(birth_year: int | None, today: date, rules: ProtectionPolicy) -> AgeBand:
    """The user's age band; ``ANY`` (only the general warnings) when the year is unknown."""
    if not birth_year:
        return AgeBand.ANY
    age = today.year - birth_year
    if age < rules.young_below_age:
        return AgeBand.YOUNG
    if age >= rules.senior_from_age:
        return AgeBand.SENIOR
    return AgeBand.MIDDLE


def firm_age(founded_on: date | None, today: date, rules: ProtectionPolicy) -> FirmAge:
    """NEW when founded less than ``new_firm_months`` ago; ``ANY`` when unknown."""
    if founded_on is None:
        return FirmAge.ANY
    months = (today.year - founded_on.year) * 12 + today.month - founded_on.month
    if today.day < founded_on.day:
        months -= 1
    return FirmAge.NEW if months < rules.new_firm_months else FirmAge.ESTABLISHED


@dataclass(frozen=True)
class Shown:
    code: str
    title: str
    body: str


def for_moment(*, session: Session, moment: str, birth_year: int | None,
               founded_on: date | None, lang: str = "zh", today: date | None = None,
               limit: int = MAX_SHOWN) -> list[Shown]:
    """The warnings to show at *moment* for this person, in *lang* ("zh" or "en")."""
    moment = Moment(moment)
    today = today or clock.today()
    rules = policy(session=session)
    band = age_band(birth_year, today, rules)
    fage = firm_age(founded_on, today, rules)
    rows = session.exec(select(FraudWarning).where(
        col(FraudWarning.moment) == moment, col(FraudWarning.active).is_(True),
        col(FraudWarning.age_band).in_({AgeBand.ANY.value, band.value}),
        col(FraudWarning.firm_age).in_({FirmAge.ANY.value, fage.value}))
        .order_by(col(FraudWarning.sort), col(FraudWarning.id)).limit(limit)).all()
    suffix = "zh" if lang.startswith("zh") else "en"
    return [Shown(r.code, getattr(r, f"title_{suffix}"), getattr(r, f"body_{suffix}"))
            for r in rows]


def all_warnings(*, session: Session) -> list[FraudWarning]:
    """Every fraud warning, by moment shown, then their order."""
    return list(session.exec(select(FraudWarning).order_by(FraudWarning.moment,
                                                           col(FraudWarning.sort),
                                                           col(FraudWarning.id))))


def _check(values: dict) -> dict:
    clean: dict[str, Any] = {}
    for key, limit in LIMITS.items():
        text = (values.get(key) or "").strip()
        if not text:
            raise BadWarning(N_("Fill in the title and text in both languages."), field=key)
        if len(text) > limit:
            raise BadWarning(msg(N_("Keep it under %(limit)s characters."), limit=limit), field=key)
        clean[key] = text
    for key, enum in (("moment", Moment), ("age_band", AgeBand), ("firm_age", FirmAge)):
        try:
            clean[key] = enum(values.get(key) or "").value  # "" is refused as None was
        except ValueError:
            raise BadWarning(msg(N_("Choose one of: %(choices)s."),
                                 choices=[e.value for e in enum]),
                             field=key) from None
    sort = values.get("sort", 100)
    if isinstance(sort, bool) or not isinstance(sort, int) or not 0 <= sort <= 1000:
        raise BadWarning(N_("The order is a whole number from 0 to 1000."), field="sort")
    clean["sort"] = sort
    clean["active"] = bool(values.get("active", True))
    return clean


def save(*, session: Session, values: dict, warning_id: int | None = None,
         user: User | None = None) -> FraudWarning:
    """Create a warning (``warning_id`` None, needs a unique ``code``) or update one."""
    clean = _check(values)
    if warning_id is None:
        code = (values.get("code") or "").strip().lower()
        if not code or len(code) > 40 or not code.replace("_", "").isalnum():
            raise BadWarning(N_("Give the warning a short code: letters, digits and _."),
                             field="code")
        if session.exec(select(FraudWarning.id).where(FraudWarning.code == code)).first():
            raise BadWarning(msg(N_("The code %(code)s is already used."), code=code), field="code")
        row = FraudWarning(code=code, **clean)
    else:
        found = session.get(FraudWarning, warning_id)
        if found is None:
            raise WarningNotFound(N_("That warning does not exist."))
        row = found
        for key, value in clean.items():
            setattr(row, key, value)
    row.updated_at = utcnow()
    row.updated_by_id = user.id if user else None
    session.add(row)
    session.flush()
    return row
