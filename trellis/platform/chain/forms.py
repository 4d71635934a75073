"""Forms of the chain pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField
from wtforms.validators import DataRequired

from trellis.platform.forms import REQUIRED


class CheckForm(FlaskForm):
    upload = FileField(_l("A document or a proof bundle (JSON)"),
                       validators=[FileRequired(_l("Choose the file or the proof bundle to "
                                                   "check first."))])
    original = FileField(_l("The original document, to check against the bundle (optional)"))
    manifest = FileField(_l("The batch's manifest (tree.json), to check against the bundle "
                            "(optional)"))


class AuditForm(FlaskForm):
    date_from = DateField(_l("Committed from"), validators=[DataRequired(REQUIRED)])
    date_to = DateField(_l("Committed to (inclusive)"), validators=[DataRequired(REQUIRED)])
