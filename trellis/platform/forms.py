"""Forms shared across areas."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class ForgotForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "email", "autofocus": True})


class ResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(), Length(max=200),
                                        EqualTo("password", message=_l(
                                            "The two passwords are not the same."))],
                            render_kw={"autocomplete": "new-password"})


class MfaForm(FlaskForm):
    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text",
                                  "autofocus": True})


class LocaleForm(FlaskForm):
    locale = SelectField(choices=[("zh_CN", "中文"), ("en", "English")])


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    role = SelectField(_l("Role"), choices=[
        ("admin", _l("Administrator")), ("rm", _l("Relationship manager")),
        ("vendor", _l("Vendor")), ("anchor", _l("Anchor firm")), ("auditor", _l("Auditor"))])
    firm_uscc = StringField(_l("Firm USCC (vendor and anchor users)"),
                            validators=[Optional(), Length(min=18, max=18)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=10, max=200)])


class TokenForm(FlaskForm):
    firm_uscc = StringField(_l("Firm USCC"), validators=[DataRequired(), Length(min=18, max=18)])
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=80)])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change state."""


class IdForm(FlaskForm):
    id = IntegerField(validators=[DataRequired(), NumberRange(min=1)])


class AssignForm(FlaskForm):
    """Assign a relationship manager to a cluster (choices filled by the view)."""

    cluster_id = SelectField(_l("Cluster"), coerce=int, validators=[DataRequired()])
    user_id = SelectField(_l("Relationship manager"), coerce=int, validators=[DataRequired()])
