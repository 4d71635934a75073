"""Forms shared across areas."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

#: the one message of an empty required field (WTForms' own Chinese reads 该字段是必填字段,
#: the platform's 此项必填: every form passes this one, issue 15)
REQUIRED = _l("This field is required.")


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=200)])


class ForgotForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED), Length(max=254)],
                       render_kw={"autocomplete": "email", "autofocus": True})


class ResetForm(FlaskForm):
    password = PasswordField(_l("New password"),
                             validators=[DataRequired(REQUIRED), Length(max=200)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(REQUIRED), Length(max=200),
                                        EqualTo("password", message=_l(
                                            "The two passwords are not the same."))],
                            render_kw={"autocomplete": "new-password"})


class MfaForm(FlaskForm):
    code = StringField(_l("Verification code"), validators=[DataRequired(REQUIRED), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text",
                                  "autofocus": True})


class LocaleForm(FlaskForm):
    locale = SelectField(choices=[("zh_CN", "中文"), ("en", "English")])


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED), Length(max=254)])
    name = StringField(_l("Full name"), validators=[Optional(), Length(max=120)])
    role = SelectField(_l("Role"), choices=[
        ("admin", _l("Administrator")), ("rm", _l("Relationship manager")),
        ("vendor", _l("Vendor")), ("anchor", _l("Anchor firm")), ("auditor", _l("Auditor"))])
    firm_uscc = StringField(_l("Firm USCC (vendor and anchor users)"),
                            validators=[Optional(), Length(min=18, max=18, message=_l(
                                "A unified social credit code has 18 characters."))])
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(REQUIRED), Length(min=10, max=200, message=_l(
                                 "The password must be 10 to 200 characters long."))])


class TokenForm(FlaskForm):
    firm_uscc = StringField(_l("Firm USCC"),
                            validators=[DataRequired(REQUIRED), Length(min=18, max=18)])
    name = StringField(_l("Token name"), validators=[DataRequired(REQUIRED), Length(max=80)])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change state."""


class IdForm(FlaskForm):
    id = IntegerField(validators=[DataRequired(REQUIRED), NumberRange(min=1)])


class AssignForm(FlaskForm):
    """Assign a relationship manager to a cluster (choices filled by the view)."""

    cluster_id = SelectField(_l("Cluster"), coerce=int, validators=[DataRequired(REQUIRED)])
    user_id = SelectField(_l("Relationship manager"), coerce=int,
                          validators=[DataRequired(REQUIRED)])
