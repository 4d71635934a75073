"""The one password rule (reader 12, G11: "1111111111" made an account): every way of
setting a password refuses what anyone guesses first, in words that say why."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import trellis.platform
from trellis.accounts import passwords
from trellis.errors import ValidationError

CATALOGUE = (Path(trellis.platform.__file__).parent
             / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po")


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


# attack 13: what the rules above let through, and zxcvbn (beside them) refuses
@pytest.mark.parametrize("password, why", [
    ("1234567890ab", "common password"),        # a run with a tail
    ("Aa123456789", "common password"),         # a run with a head
    ("\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10", "a run"),   # full-width
    ("\uff41\uff42\uff43\uff44\uff45\uff46\uff47\uff48\uff49\uff4a\uff4b", "a run"),
    ("P@ssw0rd2026", "common password"),
    ("a1b2c3d4e5f6", "common password"),
    ("Aaaaaaaaaaa1!", "repeated characters"),
    ("zxcvbnm,./Q", "neighbouring keys"),
    ("Xiaohe2026", "e-mail name"),              # a part of the e-mail's name, with a year
    ("Michael1990!", "common word or name"),
    ("15.03.1987ab", "date or a year"),
])
def test_passwords_built_on_a_guessable_part_are_refused_with_its_kind(password, why):
    with pytest.raises(ValidationError) as refused:
        passwords.check(password, email="li.xiaohe@example.cn")
    assert refused.value.field == "password" and why in str(refused.value)


@pytest.mark.parametrize("password", [
    "trellis-demo-2026",                 # the demo's (README): still taken
    "Tq7#mVx29pLk",
    "wo ai chi jiaozi 88",               # pinyin and digits
    "hangzhou-xihu-longjing-7",
    "Xiaomao chi yu 2019",
    "huang-he-liu-wan-li-9",
    "chunmian bu jue xiao 1982",
    "\u6625\u7720\u4e0d\u89c9\u6653\u5904\u5904\u95fb\u557c\u9e1f",   # Chinese characters
])
def test_ordinary_strong_passphrases_pass(password):
    assert passwords.check(password, email="li.xiaohe@example.cn") is None


def test_full_width_is_judged_as_what_it_is():
    """The full-width form of a strong password passes too: NFKC changes the characters,
    not how hard they are to guess; the full-width form of a weak one is refused."""
    assert passwords.check(
        "\uff34\uff51\uff17\uff03\uff4d\uff36\uff58\uff12\uff19\uff50\uff4c\uff2b") is None
    with pytest.raises(ValidationError):
        passwords.check("\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10")


def test_a_long_password_is_judged_quickly():
    """zxcvbn reads only the first ESTIMATED_CHARS characters: 200 look-alike characters
    (its l33t matching's worst case) took it 17 s whole."""
    started = time.perf_counter()
    with pytest.raises(ValidationError):   # its prefix repeats a run of digits
        passwords.check("1234567890" * 20)
    passwords.check("!$%(+0123456789<@[{|" * 10)
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("kind", sorted(passwords._KINDS))
def test_each_reason_reads_in_chinese(kind):
    """zxcvbn's own feedback is English: each kind it reports is said by a message of the
    catalogue, in Chinese."""
    with CATALOGUE.open("rb") as fh:
        chinese = {str(m.id): m.string for m in read_po(fh) if m.id}
    assert "密码" in chinese.get(passwords._KINDS[kind], "")
