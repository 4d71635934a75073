"""Forms of the vendor pages and of registration. Every field validates on the server;
the view adds domain errors next to the field they concern."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms import ValidationError as WTFValidationError
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, Regexp

from trellis import clock
from trellis.accounts.services import EMAIL_RE
from trellis.messages import msg
from trellis.platform.forms import REQUIRED
from trellis.platform.i18n import render
from trellis.platform.vendor_portal.common import AmountTooLarge, parse_yuan
from trellis.trade import phone as phone_rules
from trellis.trade import uscc as uscc_rules
from trellis.trade.firms import USCC_PROBLEM

INDUSTRIES = [("manufacturing", _l("Manufacturing")), ("construction", _l("Construction")),
              ("wholesale_retail", _l("Wholesale and retail")),
              ("transport_logistics", _l("Transport and logistics")), ("other", _l("Other"))]


def yuan_amount(form, field) -> None:
    """Parse a yuan amount into ``field.fen`` (integer fen) or fail with a message
    (``field.too_large`` marks an amount past any, for a page that can say the limit)."""
    try:
        field.fen = parse_yuan(field.data)
    except AmountTooLarge:
        field.too_large = True
        raise


def not_future(form, field) -> None:
    if field.data and field.data > clock.today():
        raise WTFValidationError(_l("The date cannot be in the future."))


def valid_uscc(form, field) -> None:
    code = uscc_rules.normalise(field.data or "")
    problem = uscc_rules.problem_message(code)
    if problem is not None:
        # the words the cores use (trade.firms.by_uscc), in the reader's language
        raise WTFValidationError(render(msg(USCC_PROBLEM, problem=problem)))
    field.data = code


def phone_number(form, field) -> None:
    """A mobile or a landline (trade.phone), kept in its stored form."""
    problem = phone_rules.problem_message(field.data or "")
    if problem is not None:
        raise WTFValidationError(render(problem))
    field.data = phone_rules.normalise(field.data)


def birth_year(form, field) -> None:
    if field.data is None:
        return
    this_year = clock.today().year
    if not this_year - 100 <= field.data <= this_year - 16:
        raise WTFValidationError(_l("Enter the year you were born, e.g. 1985."))


class _BuyerForm(FlaskForm):
    """A document's buyer, typed, with the park's firms offered as the vendor types (a park
    holds hundreds: reader R23); the core reads the text back and names the field when it
    fits no buyer. When it fits several, the page offers them as buttons of the same form
    named ``picked`` (reader Q1, tenth session): the one pressed becomes the buyer, and
    the rest of the form is sent again as typed (it works without JavaScript)."""

    buyer = StringField(_l("Buyer"), validators=[
        DataRequired(message=_l("Choose the buyer.")), Length(max=200)])
    picked = StringField(validators=[Optional(), Length(max=200)])

    def validate(self, extra_validators=None) -> bool:
        if self.picked.data and self.picked.data.strip():
            self.buyer.data = self.picked.data.strip()
            self.buyer.raw_data = [self.buyer.data]
        return super().validate(extra_validators)


class InvoiceForm(_BuyerForm):
    number = StringField(_l("Invoice number"),
                         validators=[DataRequired(message=REQUIRED), Length(max=64)])
    amount = StringField(_l("Amount (yuan, tax included)"),
                         validators=[DataRequired(message=REQUIRED), yuan_amount])
    issue_date = DateField(_l("Issue date"), validators=[DataRequired(
        message=_l("Enter a date, e.g. 2026-03-01.")), not_future])
    due_date = DateField(_l("Due date"), validators=[DataRequired(
        message=_l("Enter a date, e.g. 2026-05-01."))])
    order_number = StringField(_l("Order number (if any)"),
                               validators=[Optional(), Length(max=64)])


class OrderForm(_BuyerForm):
    number = StringField(_l("Order number"),
                         validators=[DataRequired(message=REQUIRED), Length(max=64)])
    amount = StringField(_l("Amount (yuan)"),
                         validators=[DataRequired(message=REQUIRED), yuan_amount])
    order_date = DateField(_l("Order date"), validators=[DataRequired(
        message=_l("Enter a date, e.g. 2026-03-01.")), not_future])


class UploadForm(FlaskForm):
    kind = SelectField(_l("What the file holds"),
                       choices=[("invoices", _l("Invoices")), ("orders", _l("Orders"))])
    file = FileField(_l("CSV or Excel file"),
                     validators=[FileRequired(message=_l("Choose a file to upload."))])


class ProfileForm(FlaskForm):
    legal_rep = StringField(_l("Legal representative"),
                            validators=[DataRequired(message=REQUIRED), Length(max=80)])
    # a firm's number may be a landline (0571-88886666) as well as a mobile
    phone = StringField(_l("Phone (mobile or landline)"),
                        validators=[DataRequired(message=REQUIRED), Length(max=32), phone_number])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    industry = SelectField(_l("Industry"), choices=INDUSTRIES)


CONSENT_TEXT = {
    "trade_data": (
        _l("Use my firm's trade records to decide on financing"),
        _l("Trellis reads the invoices, orders, deliveries and payments of your firm that "
           "you or your buyers enter, to work out a credit score and a limit. We use them "
           "only for your applications and loans, and never sell them.")),
    "credit_query": (
        _l("Ask the credit bureau about my firm"),
        _l("When you apply, Trellis may look up your firm's record at the credit bureau. "
           "The lookup is recorded in your credit report.")),
    "bank_account": (
        _l("Use my firm's bank account data (sensitive)"),
        _l("Trellis stores your firm's bank account number to pay out loans and may read "
           "the account's statements you upload. This is sensitive personal information: "
           "you may refuse, and then we pay out only to an account you confirm each time.")),
}


class ConsentForm(FlaskForm):
    trade_data = BooleanField(CONSENT_TEXT["trade_data"][0])
    credit_query = BooleanField(CONSENT_TEXT["credit_query"][0])
    bank_account = BooleanField(CONSENT_TEXT["bank_account"][0])


class WithdrawForm(FlaskForm):
    purpose = SelectField(choices=[(k, k) for k in CONSENT_TEXT])


class BankAccountForm(FlaskForm):
    bank_name = StringField(_l("Bank and branch"), validators=[
        DataRequired(message=REQUIRED), Length(max=120)])
    new_account = StringField(_l("Account number"), validators=[
        DataRequired(message=REQUIRED), Length(max=40),
        Regexp(r"^[\d\s-]+$", message=_l("Use digits only."))])
    account_name = StringField(_l("Account holder (your firm's registered name)"), validators=[
        DataRequired(message=REQUIRED), Length(max=200)])
    consent = BooleanField(_l("I consent to Trellis paying my firm's loans into this account, "
                              "and only into it."))
    password = PasswordField(_l("Your password (to confirm it is you)"),
                             validators=[DataRequired(message=REQUIRED), Length(max=200)])


class PayoutConfirmForm(FlaskForm):
    """The vendor's consent, for one pending loan, to the payout account now in force."""

    payout_account_id = HiddenField(validators=[DataRequired(message=REQUIRED)])


# --- registration ------------------------------------------------------------------------------

class _UserFields(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(message=REQUIRED),
                                                    Length(max=120)])
    email = EmailField(_l("E-mail (your login)"), validators=[
        DataRequired(message=REQUIRED), Length(max=254),
        Regexp(EMAIL_RE, message=_l("Enter a valid e-mail address."))])
    mobile = StringField(_l("Mobile number"), validators=[
        DataRequired(message=REQUIRED),
        Regexp(r"^1[3-9]\d{9}$", message=_l("Enter an 11-digit mobile number."))])
    birth_year = IntegerField(_l("Year of birth (to show you the right fraud warnings)"),
                              validators=[Optional(), birth_year])
    password = PasswordField(_l("Password (at least 10 characters)"), validators=[
        DataRequired(message=REQUIRED), Length(min=10, max=200,
                                               message=_l("Use 10 to 200 characters."))])
    confirm = PasswordField(_l("Password again"), validators=[
        DataRequired(message=REQUIRED),
        EqualTo("password", message=_l("The two passwords differ."))])


class InviteCodeForm(FlaskForm):
    code = StringField(_l("Invitation code"), validators=[DataRequired(message=REQUIRED),
                                                          Length(max=64)])


class InviteRegisterForm(_UserFields):
    code = StringField(validators=[DataRequired(message=REQUIRED), Length(max=64)])


class RegisterForm(_UserFields):
    uscc = StringField(_l("Unified social credit code (18 characters)"),
                       validators=[DataRequired(message=REQUIRED), Length(max=30), valid_uscc])
    firm_name = StringField(_l("Firm name"), validators=[DataRequired(message=REQUIRED),
                                                         Length(max=200)])
    legal_rep = StringField(_l("Legal representative"),
                            validators=[DataRequired(message=REQUIRED), Length(max=80)])
    industry = SelectField(_l("Industry"), choices=INDUSTRIES)
    cluster_id = SelectField(_l("Industrial park"), coerce=int, validate_choice=False,
                             validators=[DataRequired(message=_l("Choose your park."))])
    founded_on = DateField(_l("Date founded"), validators=[Optional(), not_future])


class WarningForm(FlaskForm):
    code = StringField(_l("Code"), validators=[Optional(), Length(max=40)])
    moment = SelectField(_l("When"), choices=[
        ("registration", _l("At registration")), ("offer", _l("Before accepting an offer")),
        ("repayment", _l("Before a repayment")), ("bank_change", _l("Bank-account change"))])
    age_band = SelectField(_l("Age group"), choices=[
        ("any", _l("Everyone")), ("young", _l("Young")), ("middle", _l("Middle-aged")),
        ("senior", _l("Older people"))])
    firm_age = SelectField(_l("Firm"), choices=[
        ("any", _l("Any firm")), ("new", _l("New firm")),
        ("established", _l("Established firm"))])
    title_zh = StringField(_l("Title (Chinese)"), validators=[DataRequired(message=REQUIRED),
                                                              Length(max=60)])
    body_zh = TextAreaField(_l("Text (Chinese)"), validators=[DataRequired(message=REQUIRED),
                                                              Length(max=300)])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(message=REQUIRED),
                                                              Length(max=120)])
    body_en = TextAreaField(_l("Text (English)"), validators=[DataRequired(message=REQUIRED),
                                                             Length(max=600)])
    sort = IntegerField(_l("Order (lower first)"), default=100,
                        validators=[Optional(), NumberRange(min=0, max=1000)])
    active = BooleanField(_l("Shown"), default=True)


def yuan_list(form, field) -> None:
    """Parse "600000, 400000.50" into ``field.fen_list`` (integer fen each)."""
    parts = [p for p in re.split(r"[;；\s、/]+", field.data or "") if p.strip()]
    if len(parts) < 2:
        raise WTFValidationError(_l("Enter two or more amounts separated by spaces or ';'."))
    field.fen_list = [parse_yuan(p) for p in parts]


class PassOnForm(FlaskForm):
    to_firm_id = SelectField(_l("Pass to (one of your suppliers)"), coerce=int,
                             validate_choice=False,
                             validators=[DataRequired(message=_l("Choose a supplier."))])
    amount = StringField(_l("Amount to pass on (yuan)"),
                         validators=[DataRequired(message=REQUIRED), yuan_amount])


class SplitForm(FlaskForm):
    amounts = StringField(_l("Split into parts (yuan, separated by spaces or ';')"),
                          validators=[DataRequired(message=REQUIRED), Length(max=400),
                                      yuan_list])


class ApplyForm(FlaskForm):
    product = SelectField(_l("Product"), choices=[
        ("RF-STD", _l("Receivable financing: against confirmed invoices")),
        ("OF-STD", _l("Order financing: against confirmed orders"))])
    amount = StringField(_l("Amount (yuan; leave empty for the most you can get)"),
                         validators=[Optional()])   # parse_yuan says what is wrong


class AcceptForm(FlaskForm):
    # the payout account the offer page showed: accepting consents to paying the loan there
    payout_account_id = HiddenField()
    read = BooleanField(_l("I have read the offer: the amount, the annualised rate, the total "
                           "cost, the schedule and my right to cool off."),
                        validators=[DataRequired(message=_l("Tick the box to confirm you "
                                                            "have read the offer."))])


class RepayForm(FlaskForm):
    amount = StringField(_l("Amount to repay (yuan)"),
                         validators=[DataRequired(message=REQUIRED), yuan_amount])
    payee_account = StringField(_l("Were you given an account to pay into? Enter it here"),
                                validators=[Optional(), Length(max=40)])
    key = StringField(validators=[DataRequired(REQUIRED), Length(min=8, max=64)])


class FinancePartForm(FlaskForm):
    """Financing a voucher part: the amount asked for (the most the part allows unless
    changed), then an explicit submit; nothing is borrowed before an offer is signed."""
    amount = StringField(_l("Amount to borrow (yuan)"),
                         validators=[Optional()])   # parse_yuan says what is wrong
