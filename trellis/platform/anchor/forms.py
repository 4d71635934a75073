"""Forms of the anchor desk."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from trellis.network.confirmations import MAX_REASON

DECISIONS = [("confirm", _l("Confirm")), ("reject", _l("Reject"))]


class DecisionForm(FlaskForm):
    """One document or many (the ``ids`` checkboxes are read by the view)."""

    decision = SelectField(_l("Decision"), choices=DECISIONS,
                           validators=[DataRequired(message=_l("Choose confirm or reject."))])
    reason = TextAreaField(_l("Reason for a rejection (the vendor sees it)"),
                           validators=[Optional(), Length(max=MAX_REASON)])


class TokenForm(FlaskForm):
    name = StringField(_l("Token name (e.g. the ERP system)"),
                       validators=[DataRequired(), Length(max=80)])


class PaymentForm(FlaskForm):
    amount = StringField(_l("Amount paid (yuan)"), validators=[DataRequired()])
    paid_on = DateField(_l("Paid on"), validators=[DataRequired()])
    reference = StringField(_l("Bank reference"), validators=[DataRequired(), Length(max=64)])


class StressForm(FlaskForm):
    days_late = IntegerField(_l("If we pay N days late"),
                             validators=[DataRequired(), NumberRange(min=1, max=365)])


class IssueVoucherForm(FlaskForm):
    invoice_id = IntegerField(_l("Confirmed payable"), validators=[DataRequired()])
    maturity_date = DateField(_l("Maturity date"), validators=[DataRequired()])
