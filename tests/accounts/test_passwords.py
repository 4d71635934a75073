"""The one password rule (reader 12, G11: "1111111111" made an account): every way of
setting a password refuses what anyone guesses first, in words that say why."""

from __future__ import annotations

import pytest

from trellis.accounts import passwords
from trellis.errors import ValidationError


@pytest.mark.parametrize("password, why", [
    ("short", "at least"),
    ("1111111111", "repeats"),
    ("aaaaaaaaaaaaaaa", "repeats"),
    ("ababababab", "repeats"),
    ("abcabcabcabc", "repeats"),
    ("1212123123", "repeats"),
    ("1234567890", "a run"),
    ("0987654321", "a run"),
    ("abcdefghijk", "a run"),
    ("qwertyuiop", "a run"),
    ("Password2026!", "most common"),
    ("woaini1314520", "most common"),
    ("trellis2026", "most common"),
    ("1qaz2wsx3edc", "a run"),
    ("qwerty123456", "most common"),
    ("li.xiaohe-2026", "e-mail name"),
    ("x" * 201, "at most"),
])
def test_guessable_passwords_are_refused_with_the_reason(password, why):
    with pytest.raises(ValidationError) as refused:
        passwords.check(password, email="li.xiaohe@example.cn")
    assert refused.value.field == "password" and why in str(refused.value)


@pytest.mark.parametrize("password", [
    "correct horse battery", "trellis-demo-2026", "a long password", "Hx7#pq2Lm9", "4829173650",
])
def test_passwords_hard_to_guess_pass(password):
    assert passwords.check(password, email="li.xiaohe@example.cn") is None   # no refusal
