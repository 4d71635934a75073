"""A firm's phone number: mobiles, landlines with their area code, extensions."""

from __future__ import annotations

import pytest

from trellis.trade import phone


@pytest.mark.parametrize("typed, stored", [
    ("13800001111", "13800001111"), ("138-0000-1111", "13800001111"),
    ("+86 138 0000 1111", "13800001111"), ("0086 13800001111", "13800001111"),
    ("0571-88886666", "0571-88886666"), ("057188886666", "0571-88886666"),
    ("(0571)88886666", "0571-88886666"), ("（０５７１）８８８８６６６６", "0571-88886666"),
    ("0571 8888 6666", "0571-88886666"), ("0571-8888-6666", "0571-88886666"),
    ("0574-8888666", "0574-8888666"),            # a 7-digit local number
    ("010-62345678", "010-62345678"), ("01062345678", "010-62345678"),
    ("0571-88886666转801", "0571-88886666-801"), ("0571-88886666-801", "0571-88886666-801"),
    ("0571-88886666 ext 12", "0571-88886666-12"), ("400-820-8820", "400-820-8820"),
])
def test_numbers_people_write(typed, stored):
    assert phone.problem_message(typed) is None
    assert phone.normalise(typed) == stored


@pytest.mark.parametrize("typed, problem", [
    ("88886666", "Add the area code"),
    ("1380000111", "11 digits; this has 10"),
    ("12345678901", "starts with 13 to 19"),
    ("13800001111-12", "11 digits; this has 13"),
    ("0571-0888666", "landline number with its area code"),   # a local number never starts 0
    ("021-6234567", "landline number with its area code"),    # 02x numbers have 8 digits
    ("0571-88886666-1234567", "landline number with its area code"),
    ("tel", "Use digits only"), ("", "Use digits only"),
])
def test_what_is_wrong_is_said(typed, problem):
    assert phone.normalise(typed) is None
    assert problem in str(phone.problem_message(typed))
