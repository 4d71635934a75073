"""One rule for abbreviating a hash (issue 15, F3): the same length and form for a
transaction hash, a root and a content hash, wherever it is read."""

from __future__ import annotations

import pytest

from trellis import hashes

TX = "0x" + "3f9c2a1b" + "ab" * 24 + "e41d07"  # 66 characters, a 0x hash
CONTENT = "a1b2c3d4e5" + "cd" * 24 + "0f9e8d"  # 64 characters, sha256sum's form


@pytest.mark.parametrize(
    "value, shown",
    [
        (TX, "0x3f9c2a1b…e41d07"),
        (CONTENT, "a1b2c3d4e5…0f9e8d"),
        ("0x1234", "0x1234"),  # short enough: whole
        (None, "—"),
        ("", "—"),
    ],
)
def test_abbreviate(value, shown):
    assert hashes.abbreviate(value) == shown


def test_every_long_hash_is_shown_at_one_length():
    assert {len(hashes.abbreviate(v)) for v in (TX, CONTENT, "0x" + "0" * 40)} == {17}
    head, middle, tail = hashes.parts(TX)
    assert head + middle + tail == TX  # nothing is lost: the middle is kept
