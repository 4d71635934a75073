"""JSON from outside is measured before the C decoder sees it (trellis.safejson)."""

from __future__ import annotations

import json
import sys

import pytest

from trellis import safejson


@pytest.mark.parametrize("text, ok", [
    ('{"a": [1, {"b": [2]}]}', True),
    ("[" * 100 + "]" * 100, True),
    ("[" * 101 + "]" * 101, False),
    ('{"a": "' + "[" * 5000 + '"}', True),            # brackets inside a string
    ('{"a": "\\"' + "[" * 5000 + '"}', True),         # after an escaped quote
    ("[[]" * 200 + "]" * 200, False),                 # deep without a run of openers
    ("[]" * 50_000, True),                            # many, shallow
    ("[" * 300, False),                               # malformed and deep
])
def test_depth(text, ok):
    if ok:
        safejson.check_depth(text)
        safejson.check_depth(text.encode())
    else:
        with pytest.raises(safejson.TooDeep):
            safejson.check_depth(text)


def test_loads_is_json_loads_with_the_same_errors():
    assert safejson.loads(b'{"x": [1, 2.5, "\xe4\xb8\xad"]}') == json.loads(
        '{"x": [1, 2.5, "中"]}')
    with pytest.raises(ValueError):
        safejson.loads("{nope")
    with pytest.raises(ValueError):
        safejson.loads("[" * 200_000 + "]" * 200_000)


def test_the_recursion_limit_is_what_makes_it_needed():
    """Why the module exists: once web3's py_ecc is imported, the limit no longer stops
    the C decoder before the stack ends (if this fails, the guard stays harmless)."""
    import trellis.chain.client  # noqa: F401  (imports web3)

    assert sys.getrecursionlimit() >= 100_000
