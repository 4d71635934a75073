"""Finding a firm by USCC: malformed codes name the problem, unknown ones say so."""

import pytest

from trellis.errors import NotFound, ValidationError
from trellis.trade import firms


def test_found_whatever_the_case_and_spacing(session, make_firm):
    firm = make_firm()
    spaced = " ".join([firm.uscc[:9].lower(), firm.uscc[9:]])
    assert firms.by_uscc(session=session, code=spaced).id == firm.id


@pytest.mark.parametrize("code, error, message", [
    ("91330100MA00000010", ValidationError, "check character"),
    ("12345", ValidationError, "18 characters"),
    ("91350100M000100Y43", NotFound, "No firm with USCC 91350100M000100Y43"),
])
def test_bad_or_unknown_codes(session, code, error, message):
    with pytest.raises(error, match=message):
        firms.by_uscc(session=session, code=code, field="firm_uscc")
