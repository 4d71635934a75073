"""Reader 13, J12: full-width digits were accepted as whole numbers but refused with a
full-width point (``１２５００．００``) on the invoice form and the upload, and refused
outright as stress-test days. Every typed-number parser reads through
:func:`trellis.typed.number_text`."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form

from trellis.onboarding.kinds import parse_amount_fen
from trellis.platform.anchor.forms import WholeDaysField
from trellis.platform.vendor_portal.common import parse_yuan
from trellis.typed import number_text


@pytest.mark.parametrize("typed, fen", [
    ("１２５００", 1_250_000), ("１２５００．００", 1_250_000), ("１２，５００．５", 1_250_050),
    ("￥１２３４５．６７", 1_234_567), ("12500.00", 1_250_000), (" ¥1,234.5 ", 123_450),
])
def test_a_typed_amount_reads_the_same_in_the_form_and_the_upload(typed, fen):
    assert parse_yuan(typed) == fen
    assert parse_amount_fen(typed) == fen


class _Days(Form):
    days = WholeDaysField()


@pytest.mark.parametrize("typed, days", [("１０", 10), ("10", 10), (" ３６５ ", 365)])
def test_stress_test_days_accept_full_width_digits(typed, days):
    form = _Days(formdata=MultiDict({"days": typed}))
    assert form.days.data == days and not form.days.process_errors


def test_number_text_keeps_what_is_not_a_number_visible():
    assert number_text("１２ａｂ") == "12ab" and number_text(None) == ""
