"""The audit trail in words: each recorded action and record type as a reader says it.

Actions are recorded as codes (``cluster.create``); a page shows the words here, and a
code nobody gave words to reads as "other action" (tests/platform/test_audit_words.py
fails when a recorded action has no words). Detail keys read as words too; amounts in fen
as yuan.
"""

from __future__ import annotations

import json

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from trellis import jobs
from trellis.messages import Message
from trellis.platform import words
from trellis.platform.i18n import money, render

ACTIONS = {
    "login": _l("Signed in"),
    "logout": _l("Signed out"),
    "mfa.enrol": _l("Set up two-step sign-in"),
    "mfa.failed": _l("Wrong verification code"),
    "user.create": _l("Created a user"),
    "user.mfa_reset": _l("Reset two-step sign-in"),
    "user.sign_out_everywhere": _l("Signed out on every device"),
    "api_token.issue": _l("Issued an API key"),
    "api_token.revoke": _l("Revoked an API key"),
    "vendor.register": _l("Registered a vendor"),
    "firm.registration_approved": _l("Approved a registration"),
    "firm.profile": _l("Changed the firm's details"),
    "consent.grant": _l("Gave consent"),
    "consent.withdraw": _l("Withdrew consent"),
    "bank_account.change_requested": _l("Asked to change the bank account"),
    "bank_account.change_cancelled": _l("Cancelled a bank account change"),
    "bank_account.reauth_failed": _l("Failed the check before a bank account change"),
    "payout_account.consent": _l("Consented to a payout account"),
    "loan.payout_account_confirmed": _l("Confirmed a loan's payout account"),
    "settlement.proposed": _l("Proposed a settlement account"),
    "settlement.approved": _l("Approved a settlement account"),
    "settlement.rejected": _l("Rejected a settlement account"),
    "cluster.create": _l("Created a cluster"),
    "cluster.edit": _l("Changed a cluster"),
    "cluster.archive": _l("Archived a cluster"),
    "cluster.restore": _l("Restored a cluster"),
    "cluster.assign_rm": _l("Assigned a relationship manager"),
    "cluster.unassign_rm": _l("Removed a relationship manager"),
    "cluster.data_basis": _l("Recorded a data basis"),
    "cluster.data_basis_revoke": _l("Revoked a data basis"),
    "network.import": _l("Imported data"),
    "network.import_mapping": _l("Mapped an import's columns"),
    "network.import_withdraw": _l("Withdrew an import before it ran"),
    "network.invite": _l("Issued invitations"),
    "network.invite_export": _l("Exported invitations"),
    "scoring.score": _l("Scored a firm"),
    "scoring.rescore": _l("Rescored a cluster"),
    "scoring.import": _l("Imported a scorecard"),
    "scoring.promote": _l("Put a scorecard in use"),
    "early_warning.refresh": _l("Refreshed early warnings"),
    "trade.upload": _l("Uploaded trade records"),
    "order.create": _l("Entered an order"),
    "invoice.create": _l("Entered an invoice"),
    "invoice.pay": _l("Recorded an invoice payment"),
    "invoice.confirm": _l("Confirmed an invoice"),
    "invoice.reject": _l("Refused an invoice"),
    "order.confirm": _l("Confirmed an order"),
    "order.reject": _l("Refused an order"),
    "application.submit": _l("Submitted an application"),
    "application.approve": _l("Approved an application"),
    "application.decline": _l("Declined an application"),
    "offer.accept": _l("Accepted an offer"),
    "ledger.payout": _l("Paid out a loan"),
    "loan.repay": _l("Repaid a loan"),
    "loan.repayment": _l("Recorded a repayment"),
    "repayment.refused_foreign_account": _l("Refused a repayment from another account"),
    "voucher.issue": _l("Issued a voucher"),
    "voucher.split": _l("Split a voucher"),
    "voucher.transfer": _l("Transferred a voucher"),
    "voucher.settle": _l("Settled a voucher"),
    "voucher.finance_apply": _l("Applied to finance a voucher"),
    "protection.policy": _l("Changed a protection policy"),
    "fraud_warning.create": _l("Added a fraud warning"),
    "fraud_warning.update": _l("Changed a fraud warning"),
    "job.run": _l("Ran a job"),
    "chain.audit_start": _l("Started a chain audit"),
    "chain.check_upload": _l("Checked a proof"),
    "chain.proof_download": _l("Downloaded a proof"),
    "chain.tree_download": _l("Downloaded a batch's tree"),
    "chain.root_lost": _l("Found an anchored root gone from the chain; sent it to be "
                          "anchored again"),
    "chain.reanchored": _l("Anchored a lost root on the chain again"),
    "assistant.ask": _l("Asked the assistant"),
    "assistant.rm_reply": _l("Answered a question"),
    "assistant.close": _l("Closed a question"),
    "assistant.action_done": _l("Confirmed an action proposed by the assistant"),
    "assistant.action_cancelled": _l("Cancelled an action proposed by the assistant"),
    "assistant.action_failed": _l("An action confirmed in the assistant was refused"),
    "password.reset_requested": _l("Asked for a password reset link"),
    "password.reset_sent": _l("A password reset link was sent"),
    "password.reset": _l("Set a new password with a reset link"),
}

RECORD_TYPES = {
    "user": _l("User"), "firm": _l("Firm"), "cluster": _l("Cluster"),
    "api_token": _l("API key"), "invoice": _l("Invoice"), "order": _l("Order"),
    "application": _l("Application"), "loan_application": _l("Application"),
    "loan_offer": _l("Offer"), "loan": _l("Loan"), "voucher": _l("Voucher"),
    "scorecard": _l("Scorecard"), "import_run": _l("Import"), "data_basis": _l("Data basis"),
    "policy": _l("Policy"),
    "settlement_change": _l("Settlement account change"),
    "fraud_warning": _l("Fraud warning"), "job": _l("Job"),
    "chain_batch": _l("Batch"), "chain_document": _l("Chain document"),
    "chain_audit_run": _l("Chain audit"), "ticket": _l("Question"),
    "conversation": _l("Conversation"), "assistant_ticket": _l("Question"),
    "assistant_conversation": _l("Conversation"),
    "assistant_action": _l("Action proposed by the assistant"),
    "offer": _l("Offer"), "password_reset": _l("Password reset request"),
}

def record_type_choices() -> list[tuple[str, str]]:
    """The audit trail's record-type filter: (code, words), each reading once (codes with
    the same words, ``application`` and ``loan_application``, are one choice: the first
    code stands for them all, :func:`same_record_type`), by their words."""
    seen: dict[str, str] = {}
    for code, label in RECORD_TYPES.items():
        seen.setdefault(str(label), code)
    return sorted(((code, label) for label, code in seen.items()), key=lambda kv: kv[1])


def same_record_type(code: str) -> list[str]:
    """Every record-type code read with the same words as *code* (itself when unknown)."""
    label = RECORD_TYPES.get(code)
    if label is None:
        return [code]
    return [c for c, w in RECORD_TYPES.items() if str(w) == str(label)]


DETAIL_KEYS = {
    "amount_fen": _l("Amount"), "name": _l("Name"), "code": _l("Code"),
    "region": _l("Region"), "kind": _l("Kind"), "reason": _l("Reason"),
    "role": _l("Role"), "email": _l("E-mail"), "score": _l("Score"), "grade": _l("Grade"),
    "version": _l("Version"), "purpose": _l("Purpose"), "count": _l("Count"),
    "scored": _l("Scored"), "reference": _l("Reference"), "party": _l("Party"),
    "application_id": _l("Application"), "loan_id": _l("Loan"), "number": _l("Number"),
    "scope": _l("Scope"), "via": _l("How registered"),
    "status": _l("Status"), "reasons": _l("Reasons"), "verdict": _l("Result"),
    "why": _l("Why"), "lost_block": _l("Block it was anchored in"),
    "new_block": _l("Block it is anchored in now"),
}

#: what a proof or document check found (chain.check_upload)
VERDICTS = {"verified": _l("verified"), "not_verified": _l("not verified: a check failed"),
            "unknown": _l("not verified: the chain could not be asked"),
            "found": _l("found among the anchored documents"),
            "not_found": _l("not among the anchored documents")}

#: detail keys whose values are codes, and the groups of :mod:`trellis.platform.words`
#: that name them (a ``kind`` is a cluster's, an import's, an upload's or an action's;
#: a ``reason`` is a hand-over's code or a person's own words)
VALUE_GROUPS = {
    "kind": ("cluster_kind", "import_kind", "upload_kind", "assistant_action"),
    "purpose": ("consent",),
    "via": ("registration",),
    "role": ("role",),
    "reason": ("handover_reason",),
    "status": ("ledger_status",),
}
FREE_TEXT = {"reason", "status"}   # a value not among the codes is shown as written


def who_words(actor_label: str) -> str:
    """Who did it: a person's e-mail, an API key by its prefix, or Trellis itself in
    words."""
    if words.has_word("actor", actor_label):
        return words.word("actor", actor_label)
    if actor_label.startswith("api-token:"):
        return gettext("API key %(prefix)s", prefix=actor_label.split(":", 1)[1])
    return actor_label


def action_words(action: str) -> str:
    words = ACTIONS.get(action)
    return str(words) if words is not None else str(_l("Other action"))


def record_words(record_type: str, record_id: str, name: str | None = None) -> str:
    """The record an event is about: its type in words and what it is (*name*: a firm's
    name, an invoice's number and seller, see ``admin.views.record_names``), else its
    number; a job by what it does (its id is a code)."""
    kind = RECORD_TYPES.get(record_type)
    if not record_type:
        return ""
    label = str(kind) if kind is not None else str(_l("Record"))
    if name:
        return gettext("%(label)s: %(value)s", label=label, value=name)
    if record_type == "job":
        try:
            what = gettext(jobs.find(str(record_id)).description)
        except KeyError:
            return label
        return gettext("%(label)s: %(value)s", label=label, value=what)
    return f"{label} {record_id}".strip()


def value_words(key: str, value) -> str:
    """A detail value as read: a code in words (see :data:`VALUE_GROUPS`), a data basis's
    scope in words, anything else as it is."""
    if key == "scope":
        return words.scope_words(str(value))
    if key == "why":   # a core's stored message (chain.root_lost)
        return render(Message.loads(str(value)))
    if key == "verdict" and value in VERDICTS:
        return str(VERDICTS[value])
    for group in VALUE_GROUPS.get(key, ()):
        if words.has_word(group, value):
            return words.word(group, value)
    if key in VALUE_GROUPS and key not in FREE_TEXT:
        return words.word(VALUE_GROUPS[key][0], value)   # an unknown code: "other"
    return str(value)


def detail_words(detail: dict | None) -> list[tuple[str, str]]:
    """(label, value) pairs of an event's detail that a reader can read: known keys in
    words, amounts in yuan; keys without words and nested values are left out."""
    out = []
    for key, value in (detail or {}).items():
        label = DETAIL_KEYS.get(key)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            value = "；".join(v.strip().rstrip("。；;") for v in value if v.strip())
            # a person's lines (an application's reasons): shown as written, one after another
        if label is None or isinstance(value, (dict, list)) or value in (None, ""):
            continue
        if key.endswith("_fen") and isinstance(value, int):
            value = money(value)
        else:
            value = value_words(key, value)
        out.append((str(label), str(value)))
    return out


# --- jobs and background tasks ------------------------------------------------------------

WEEKDAYS = {"mon": _l("every Monday"), "tue": _l("every Tuesday"),
            "wed": _l("every Wednesday"), "thu": _l("every Thursday"),
            "fri": _l("every Friday"), "sat": _l("every Saturday"),
            "sun": _l("every Sunday")}


def schedule_words(spec) -> str:
    """A job's schedule in words: "every 30 seconds", "daily at 02:00 (Beijing time)",
    "every Monday at 03:00 (Beijing time)" (the scheduler runs on Asia/Shanghai)."""
    a = spec.args
    if spec.trigger == "cron":
        at = f"{int(a.get('hour', 0)):02d}:{int(a.get('minute', 0)):02d}"
        day = WEEKDAYS.get(str(a.get("day_of_week", "")))
        if day is not None:
            return gettext("%(days)s at %(time)s (Beijing time)", days=str(day), time=at)
        return gettext("daily at %(time)s (Beijing time)", time=at)
    for unit, template in (("seconds", "every %(n)s seconds"),
                           ("minutes", "every %(n)s minutes"),
                           ("hours", "every %(n)s hours")):
        if unit in a:
            return gettext(template, n=a[unit])
    return gettext("on its own schedule")


def job_name(job_id: str) -> str:
    """A job's short name in the reader's language; an unknown id reads as "other job"."""
    try:
        spec = jobs.find(job_id)
    except KeyError:
        return gettext("Other job")
    return gettext(spec.name or spec.description)


def job_purpose(job_id: str) -> str:
    """What a job does, in the reader's language."""
    try:
        return gettext(jobs.find(job_id).description)
    except KeyError:
        return ""


def run_words(run) -> str:
    """How a job's run ended, in words: "succeeded" or "failed"."""
    if run is None:
        return gettext("Never run since the last start of the records")
    return gettext("succeeded") if run.ok else gettext("failed")


#: what a background task's arguments are, as a reader says them (others are left out:
#: a link prefix, say, is plumbing)
TASK_ARGS = {"job_id": _l("Job"), "firm_id": _l("Firm"), "reset_id": _l("Password reset request")}
RUN_OF = {"import_run": _l("Import"), "chain_audit": _l("Chain audit")}


def task_args(run, firm_names: dict[int, str]) -> list[tuple[str, str]]:
    """(label, value) pairs of a task's arguments in words: a job by its name, a firm by
    its name, an import or an audit by its number; nothing raw."""
    try:
        kwargs = json.loads(run.kwargs or "{}")
    except ValueError:
        return []
    if not isinstance(kwargs, dict):
        return []
    out = []
    for key, value in kwargs.items():
        if key == "job_id":
            out.append((str(TASK_ARGS[key]), job_name(str(value))))
        elif key == "firm_id" and isinstance(value, int):
            out.append((str(TASK_ARGS[key]), firm_names.get(value) or gettext("No. %(n)s",
                                                                              n=value)))
        elif key == "reset_id":
            out.append((str(TASK_ARGS[key]), gettext("No. %(n)s", n=value)))
        elif key == "run_id" and run.name in RUN_OF:
            out.append((str(RUN_OF[run.name]), gettext("No. %(n)s", n=value)))
    return out
