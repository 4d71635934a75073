"""Forms of the ledger pages."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional

from trellis.platform.forms import REQUIRED


class DecisionForm(FlaskForm):
    decision = HiddenField(validators=[AnyOf(("approve", "decline"))])
    reasons = TextAreaField(_l("Reasons (one per line; required)"),
                            validators=[Length(max=2000)])


class AcceptForm(FlaskForm):
    """The vendor signs the offer (no fields: the CSRF token is the form)."""


class PayoutForm(FlaskForm):
    """An RM pays out the surplus owed to a vendor; ``key`` (drawn when the page is shown)
    makes a double submit post once."""

    amount = DecimalField(_l("Amount (yuan; empty: everything owed)"), places=2,
                          validators=[Optional(), NumberRange(
                              min=Decimal("0.01"),
                              message=_l("The amount must be more than zero."))])
    key = HiddenField(validators=[DataRequired(REQUIRED), Length(max=64)])
