"""Batch acquisition: the invitation list and one-time invitation codes.

:func:`candidates` picks the cluster's vendors with enough confirmed trade to be
pre-assessed (and an indicative limit when the caller passes scoring's). :func:`issue` creates a
batch of invitations; each code is derived from a random nonce and the application's
secret (``HMAC-SHA256``), so the codes can be exported again (:func:`export_csv`) while
the database holds only their SHA-256. A code expires and works once (:func:`redeem`).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlmodel import Session, col

from trellis import clock, exports
from trellis.accounts.models import Consent, User
from trellis.clock import beijing_text, utcnow
from trellis.errors import ValidationError
from trellis.messages import N_, msg
from trellis.network.build import cluster_graph
from trellis.network.summary import analyse
from trellis.onboarding.errors import InvitationExpired, InvitationInvalid, InvitationUsed
from trellis.onboarding.models import Invitation
from trellis.trade.errors import ClusterNotFound
from trellis.trade.models import Cluster, Firm

logger = logging.getLogger(__name__)

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols: no 0/O, 1/I
CODE_LENGTH = 12  # 60 bits
DEFAULT_VALID_DAYS = 14
MIN_CONFIRMED_FEN = 5_000_000  # 50,000 yuan confirmed by buyers in 12 months
MIN_TENURE_DAYS = 180


@dataclass
class Candidate:
    firm_id: int
    uscc: str
    name: str
    phone: str | None
    tier: int | None
    confirmed_fen: int
    volume_fen: int
    tenure_days: int
    indicative_limit_fen: int | None = None
    invited: bool = False  # has a live invitation already


@dataclass(frozen=True)
class ConsentState:
    """A firm's consent to the use of its trade data, as the invitation list says it
    (outside reader 11, F25: the column read 企业本人授权 or 无 and never when, nor a
    withdrawal): ``given`` (an active consent, *at* when it was given), ``withdrawn``
    (consent given once and withdrawn since, *at* the latest withdrawal) or ``none``
    (never given, *at* None)."""

    state: str
    at: datetime | None = None


TRADE_DATA = "trade_data"   # the consent purpose a limit needs (scoring's CONSENT_PURPOSE)


def consent_states(*, session: Session, firm_ids: Iterable[int],
                   purpose: str = TRADE_DATA) -> dict[int, ConsentState]:
    """Firm id -> its :class:`ConsentState` for *purpose*, for each of *firm_ids* (one
    statement): the latest active consent wins over any withdrawn one."""
    ids = sorted(set(firm_ids))
    out = {i: ConsentState("none") for i in ids}
    if not ids:
        return out
    rows = session.execute(select(col(Consent.firm_id), col(Consent.granted_at),
                                  col(Consent.withdrawn_at))
                           .where(col(Consent.purpose) == purpose,
                                  col(Consent.firm_id).in_(ids))
                           .order_by(col(Consent.id))).all()
    for firm_id, granted_at, withdrawn_at in rows:
        now = out[firm_id]
        if withdrawn_at is None:
            if now.state != "given" or (now.at is not None and granted_at > now.at):
                out[firm_id] = ConsentState("given", granted_at)
        elif now.state == "none" or (now.state == "withdrawn" and now.at is not None
                                     and withdrawn_at > now.at):
            out[firm_id] = ConsentState("withdrawn", withdrawn_at)
    return out


@dataclass
class Issued:
    invitation: Invitation
    code: str


def normalise_code(raw: str) -> str:
    """An invitation code as typed, upper-case letters and digits only."""
    return "".join(ch for ch in str(raw).upper() if ch.isalnum())


def format_code(code: str) -> str:
    """An invitation code in groups of four separated by dashes, as printed."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def derive_code(*, secret: str, nonce: str) -> str:
    """The 12-character code of an invitation (shown grouped, e.g. ``ABCD-EFGH-JKLM``)."""
    digest = hmac.new(secret.encode(), b"trellis-invitation:" + nonce.encode(),
                      hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big") >> (64 - 5 * CODE_LENGTH)
    chars = []
    for _ in range(CODE_LENGTH):
        number, rest = divmod(number, 32)
        chars.append(ALPHABET[rest])
    return "".join(chars)


def code_hash(code: str) -> str:
    """SHA-256 (64 hex digits) of the normalised code: what is stored instead of the code."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


#: ``limits(session=, cluster_id=, firm_ids=, as_of=) -> {firm id: limit in fen}``; the
#: platform passes :func:`trellis.scoring.service.indicative_limits` (scoring sits above
#: onboarding's records, so onboarding is given it rather than importing it).
Limits = Callable[..., dict[int, int]]
#: ``customers(session=, cluster_id=) -> {firm id}``: firms that already bank with us (a
#: loan or an application) though no one of theirs has a login; the platform passes
#: :func:`trellis.ledger.reports.borrowers` (the ledger sits above onboarding too).
Customers = Callable[..., set[int]]


def candidates(*, session: Session, cluster_id: int, as_of: date | None = None,
               min_confirmed_fen: int = MIN_CONFIRMED_FEN,
               min_tenure_days: int = MIN_TENURE_DAYS, limits: Limits | None = None,
               customers: Customers | None = None,
               now: datetime | None = None) -> list[Candidate]:
    """Vendors of the cluster with no user yet (and, given *customers*, no loan or
    application either: those have an account already) whose buyers confirmed at least
    *min_confirmed_fen* of their 12-month sales and who have traded for at least
    *min_tenure_days*; largest confirmed trade first. *limits* adds an indicative credit
    limit to each (scoring's takes about 0.1 s a firm)."""
    as_of = as_of or clock.today()
    now = now or utcnow()
    if session.get(Cluster, cluster_id) is None:
        raise ClusterNotFound(msg(N_("There is no cluster with id %(cluster_id)s."),
                                  cluster_id=cluster_id))
    G = cluster_graph(session=session, cluster_id=cluster_id, as_of=as_of)
    tiers = analyse(G).tiers
    registered = set(session.execute(
        select(col(User.firm_id)).join(Firm, col(Firm.id) == col(User.firm_id))
        .where(col(Firm.cluster_id) == cluster_id)).scalars())
    if customers is not None:
        registered |= customers(session=session, cluster_id=cluster_id)
    invited = set(session.execute(
        select(col(Invitation.firm_id)).where(col(Invitation.cluster_id) == cluster_id,
                                         col(Invitation.redeemed_at).is_(None),
                                         col(Invitation.revoked_at).is_(None),
                                         col(Invitation.expires_at) > now)).scalars())
    out = []
    for node, d in G.nodes(data=True):
        if d.get("role") != "vendor" or node in registered:
            continue
        sales = list(G.out_edges(node, data=True))
        confirmed = sum(e.get("confirmed_fen", 0) for *_, e in sales)
        tenure = max((e.get("tenure_days", 0) for *_, e in sales), default=0)
        if confirmed < min_confirmed_fen or tenure < min_tenure_days:
            continue
        out.append(Candidate(node, d["uscc"], d["name"], d.get("phone"), tiers.get(node),
                             confirmed, sum(e.get("volume_fen", 0) for *_, e in sales),
                             tenure, invited=node in invited))
    out.sort(key=lambda c: (-c.confirmed_fen, c.firm_id))
    if limits is not None and out:
        try:
            found = limits(session=session, cluster_id=cluster_id,
                           firm_ids=[c.firm_id for c in out], as_of=as_of)
        except Exception:  # an indicative figure must never block the list
            logger.exception("indicative limits failed for cluster %s", cluster_id)
            found = {}
        for c in out:
            c.indicative_limit_fen = found.get(c.firm_id)
    return out


def issue(*, session: Session, cluster_id: int, firm_ids: Iterable[int], secret: str,
          created_by_id: int | None = None, valid_days: int = DEFAULT_VALID_DAYS,
          limits: dict[int, int | None] | None = None, confirmed: dict[int, int] | None = None,
          now: datetime | None = None) -> list[Issued]:
    """Create one invitation per firm (vendors of the cluster) in a new batch. Flushes."""
    if not secret:
        raise ValidationError(N_("An application secret is needed to derive invitation codes."))
    if not 1 <= valid_days <= 90:
        raise ValidationError(N_("Invitations are valid for 1 to 90 days."), field="valid_days")
    ids = sorted(set(firm_ids))
    if not ids:
        raise ValidationError(N_("Choose at least one vendor to invite."), field="firm_ids")
    firms = {f.id: f for f in session.execute(select(Firm).where(col(Firm.id).in_(ids))).scalars()}
    for fid in ids:
        firm = firms.get(fid)
        if firm is None or firm.cluster_id != cluster_id or firm.role != "vendor":
            raise ValidationError(msg(N_("Firm %(fid)s is not a vendor of this cluster."), fid=fid),
                                  field="firm_ids")
    now = now or utcnow()
    batch = now.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3)
    issued = []
    for fid in ids:
        nonce = secrets.token_hex(16)
        code = derive_code(secret=secret, nonce=nonce)
        inv = Invitation(cluster_id=cluster_id, firm_id=fid, batch=batch, nonce=nonce,
                         code_hash=code_hash(code), created_by_id=created_by_id,
                         created_at=now, expires_at=now + timedelta(days=valid_days),
                         confirmed_fen=(confirmed or {}).get(fid, 0),
                         indicative_limit_fen=(limits or {}).get(fid))
        session.add(inv)
        issued.append(Issued(inv, code))
    session.flush()
    logger.info("issued %d invitations in batch %s of cluster %s", len(issued), batch,
                cluster_id)
    return issued


def _find(session: Session, code: str) -> Invitation:
    inv = session.execute(select(Invitation).where(col(Invitation.code_hash) == code_hash(code))
                          ).scalar_one_or_none()
    if inv is None:
        raise InvitationInvalid(N_("This invitation code is not recognised: check it against "
                                   "the message you received."))
    return inv


def _usable(inv: Invitation, now: datetime) -> None:
    if inv.revoked_at is not None or inv.redeemed_at is not None:
        raise InvitationUsed(N_("This invitation code has already been used. Sign in instead, "
                                "or ask your relationship manager for a new code."))
    if inv.expires_at <= now:
        raise InvitationExpired(N_("This invitation code has expired. Ask your relationship "
                                   "manager for a new one."))


def lookup(*, session: Session, code: str, now: datetime | None = None) -> tuple[
        Invitation, Firm]:
    """The invitation and firm for a valid *code*, without using it up."""
    inv = _find(session, code)
    _usable(inv, now or utcnow())
    return inv, session.get_one(Firm, inv.firm_id)


def redeem(*, session: Session, code: str, now: datetime | None = None) -> Firm:
    """Use up *code* and return the firm it invites (for the vendor registration page).

    Raises InvitationInvalid (unknown), InvitationUsed (used or revoked),
    InvitationExpired. Safe against two simultaneous redemptions: only one succeeds.
    """
    now = now or utcnow()
    inv = _find(session, code)
    _usable(inv, now)
    done = cast(CursorResult[Any], session.execute(
        update(Invitation)
        .where(col(Invitation.id) == inv.id, col(Invitation.redeemed_at).is_(None),
               col(Invitation.revoked_at).is_(None), col(Invitation.expires_at) > now)
        .values(redeemed_at=now).execution_options(synchronize_session=False)))
    if done.rowcount != 1:
        raise InvitationUsed(N_("This invitation code has already been used."))
    session.refresh(inv)
    # Any other live code for the same firm is now pointless: revoke it.
    session.execute(update(Invitation)
                    .where(col(Invitation.firm_id) == inv.firm_id, col(Invitation.id) != inv.id,
                           col(Invitation.redeemed_at).is_(None),
                           col(Invitation.revoked_at).is_(None))
                    .values(revoked_at=now).execution_options(synchronize_session=False))
    session.flush()
    return session.get_one(Firm, inv.firm_id)


def revoke(*, session: Session, invitation_id: int, now: datetime | None = None) -> None:
    """Revoke invitation *invitation_id* unless it was redeemed already. Flushes."""
    session.execute(update(Invitation).where(col(Invitation.id) == invitation_id,
                                             col(Invitation.redeemed_at).is_(None))
                    .values(revoked_at=now or utcnow())
                    .execution_options(synchronize_session=False))
    session.flush()


def batches(*, session: Session, cluster_id: int) -> list[dict]:
    """The cluster's invitation batches, newest first, with counts."""
    rows = session.execute(select(col(Invitation.batch), col(Invitation.created_at),
                                  col(Invitation.expires_at), col(Invitation.redeemed_at))
                           .where(col(Invitation.cluster_id) == cluster_id)).all()
    out: dict[str, dict] = {}
    for batch, created, expires, redeemed in rows:
        b = out.setdefault(batch, {"batch": batch, "created_at": created,
                                   "expires_at": expires, "count": 0, "redeemed": 0})
        b["count"] += 1
        b["redeemed"] += redeemed is not None
    return sorted(out.values(), key=lambda b: b["created_at"], reverse=True)


SMS_TEMPLATE = ("【Trellis】{name}：您已被邀请开通供应链融资服务。邀请码 {code}，"
                "{days}天内有效，仅可使用一次。注册链接：{link}")


#: the export's columns, in order (and the header's names when no reader's words are given)
CSV_FIELDS = ("firm", "uscc", "phone", "code", "link", "expires_at", "message")
#: the header a field gets when the caller gives no words for it: the expiry is Beijing
#: time, as every time people read (trellis.clock), and its column says so
CSV_DEFAULT_HEADERS = {"expires_at": "expires_at (Beijing time, UTC+8)"}


def export_csv(*, session: Session, cluster_id: int, batch: str, secret: str,
               base_url: str, now: datetime | None = None,
               headers: dict[str, str] | None = None) -> bytes:
    """A batch as CSV (UTF-8 with BOM) for SMS or WeChat: firm, phone, code, link,
    expiry (Beijing time, to the minute), and a ready message. *base_url* is the
    registration page's absolute URL; the link adds ``?code=...``. The header names the
    :data:`CSV_FIELDS` by *headers* (field -> the reader's word) where given, else by
    :data:`CSV_DEFAULT_HEADERS` or the field name. Used or revoked invitations are left
    out."""
    now = now or utcnow()
    rows = session.execute(
        select(Invitation, col(Firm.name), col(Firm.uscc), col(Firm.phone))
        .join(Firm, col(Firm.id) == col(Invitation.firm_id))
        .where(col(Invitation.cluster_id) == cluster_id, col(Invitation.batch) == batch)
        .order_by(Firm.name)).all()
    out = io.StringIO(newline="")
    writer = exports.writer(out, lineterminator="\r\n")
    names = {**CSV_DEFAULT_HEADERS, **(headers or {})}
    writer.writerow([names.get(field, field) for field in CSV_FIELDS])
    for inv, name, uscc, phone in rows:
        if inv.redeemed_at is not None or inv.revoked_at is not None:
            continue
        code = format_code(derive_code(secret=secret, nonce=inv.nonce))
        link = f"{base_url.rstrip('/')}?code={code}"
        days = max(0, (inv.expires_at - now).days)
        writer.writerow([name, uscc, phone or "", code, link,
                         beijing_text(inv.expires_at),
                         SMS_TEMPLATE.format(name=name, code=code, days=days, link=link)])
    return out.getvalue().encode("utf-8-sig")
