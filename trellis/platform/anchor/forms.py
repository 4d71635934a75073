"""Forms of the anchor desk."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from trellis.ledger.stress import MAX_DAYS
from trellis.network.confirmations import MAX_REASON
from trellis.platform.forms import REQUIRED
from trellis.platform.vendor_portal.common import parse_yuan
from trellis.typed import number_text

DECISIONS = [("confirm", _l("Confirm")), ("reject", _l("Reject"))]


def _checked_to_confirm(form, field) -> None:
    """A confirmation (确权) goes on chain and cannot be withdrawn: the clerk ticks that
    the order and the delivery were checked, on the server as well as in the browser.
    A rejection needs no tick (it asks for a reason instead)."""
    if form.decision.data == "confirm" and not field.data:
        raise StopValidation(_l("Tick \"I have checked the order and the delivery\" "
                                "to confirm: a confirmation goes on chain and cannot be "
                                "withdrawn. Nothing was confirmed."))


class DecisionForm(FlaskForm):
    """One document or many (the ``ids`` checkboxes are read by the view)."""

    decision = SelectField(_l("Decision"), choices=DECISIONS,
                           validators=[DataRequired(message=_l("Choose confirm or reject."))])
    reason = TextAreaField(_l("Reason for a rejection (the vendor sees it)"),
                           validators=[Optional(), Length(max=MAX_REASON)])
    checked = BooleanField(_l("I have checked the order and the delivery"),
                           validators=[_checked_to_confirm])


class TokenForm(FlaskForm):
    name = StringField(_l("Token name (e.g. the ERP system)"),
                       validators=[DataRequired(REQUIRED), Length(max=80)])


def _yuan_amount(form, field) -> None:
    """The amount read as yuan (letters, a negative or too large an amount are told so)
    with the other fields' errors, not on a second try."""
    try:
        parse_yuan(field.data)
    except ValidationError as exc:
        raise StopValidation(str(exc)) from None


class PaymentForm(FlaskForm):
    amount = StringField(_l("Amount paid (yuan)"),
                         validators=[DataRequired(REQUIRED), _yuan_amount])
    paid_on = DateField(_l("Paid on"), validators=[DataRequired(REQUIRED)])
    reference = StringField(_l("Bank reference"),
                            validators=[DataRequired(REQUIRED), Length(max=64)])


def _days_message():
    return _l("Enter a whole number of days from 1 to %(max)s.", max=MAX_DAYS)


class WholeDaysField(IntegerField):
    """A number of days typed by a person: anything but a whole number (``abc``, ``30.5``,
    nothing) is told so, in words, rather than "this field is required"."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = number_text(valuelist[0])   # full-width １０ is 10 (reader 13, J12)
        if not raw.isdigit() or not raw.isascii():
            self.data = None
            raise ValueError(_days_message())
        self.data = int(raw)


def _days_in_range(form, field) -> None:
    if field.process_errors:   # already told: not a whole number
        raise StopValidation()
    if field.data is None or not 1 <= field.data <= MAX_DAYS:
        raise StopValidation(_days_message())


class StressForm(FlaskForm):
    days_late = WholeDaysField(_l("If we pay N days late"), validators=[_days_in_range])


class IssueVoucherForm(FlaskForm):
    invoice_id = IntegerField(_l("Confirmed payable"), validators=[DataRequired(REQUIRED)])
    # empty: the invoice's own due date (vouchers.issue), said next to the field
    maturity_date = DateField(_l("Maturity date"), validators=[Optional()])
