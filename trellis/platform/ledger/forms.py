"""Forms of the ledger pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, Length


class DecisionForm(FlaskForm):
    decision = HiddenField(validators=[AnyOf(("approve", "decline"))])
    reasons = TextAreaField(_l("Reasons (one per line; required to decline)"),
                            validators=[Length(max=2000)])


class AcceptForm(FlaskForm):
    """The vendor signs the offer (no fields: the CSRF token is the form)."""
