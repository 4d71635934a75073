"""The one password rule, for every way a password is set: an admin's new user, a vendor's
registration, a password reset and the ``trellis users create`` command.

A lending platform's vendor and anchor users borrow and confirm invoices, so a password
that anyone guesses first is refused (reader 12, G11: "1111111111" was accepted because
only the length was checked). The password is judged as what it is: NFKC first, so the
full-width ``１２３４５６７８９０`` a Chinese input method types is the run ``1234567890``
(attack 13). The stored hash is still of the password as typed, so logins are unchanged.

A password is refused when it

1. is shorter than :data:`MIN_PASSWORD` characters (or longer than :data:`MAX_PASSWORD`);
2. has fewer than :data:`MIN_DISTINCT` different characters, or repeats one short unit of
   up to four characters ("1111111111", "abababab12" is fine, "abcabcabca" is not);
3. is a run along the digits, the alphabet or a keyboard row, forwards or backwards
   ("1234567890", "abcdefghij", "qwertyuiop", "0987654321");
4. is one of :data:`COMMON` passwords, also with digits or signs before or after it and in
   any letter case ("Password2026!", "woaini1314");
5. contains the name part of the account's e-mail address (three characters or more);
6. is easy to guess by the zxcvbn estimate (fewer than 10^8 guesses, its score below
   :data:`MIN_SCORE`): a common password, word or name, a run, keys side by side, a
   repeat or a date with a little around it, which rules 2-4 miss ("1234567890ab",
   "Aa123456789", attack 13). Its feedback is English, so the longest weak part it found
   is named by one of this module's own messages (:data:`_KINDS`).

Rules 1-5 come first, for their precise words. zxcvbn reads at most the first
:data:`ESTIMATED_CHARS` characters: its l33t matching grows with the length times the
number of look-alike substitutions present, and 64 such characters took five seconds.
Whatever follows a prefix that is hard to guess only makes the password harder to guess;
a weak prefix refuses the password, as it would the prefix alone.

Errors are :class:`~trellis.errors.ValidationError` on the field ``password`` with a
message code; the web layer translates them.
"""

from __future__ import annotations

import re
import threading
import unicodedata

from zxcvbn import zxcvbn

from trellis.errors import ValidationError
from trellis.messages import N_, msg

MIN_PASSWORD = 10
MAX_PASSWORD = 200
MIN_DISTINCT = 4
#: the lowest zxcvbn score taken: 3 is "safely unguessable" (at least 10^8 guesses)
MIN_SCORE = 3
#: how many characters (after NFKC) zxcvbn reads; see the module docstring
ESTIMATED_CHARS = 24

#: Passwords people choose first (the most common ones in published leak lists, Chinese
#: sites' included), compared after lower-casing and stripping digits and signs at either
#: end.
COMMON = frozenset({
    "password", "passw0rd", "passwd", "iloveyou", "woaini", "aini", "qwerty", "qwertyuiop",
    "asdfghjkl", "zxcvbnm", "qazwsx", "qazwsxedc", "1qaz2wsx", "abc", "abcd", "abcdef",
    "admin", "administrator", "root", "letmein", "welcome", "monkey", "dragon", "football",
    "baseball", "sunshine", "princess", "superman", "master", "shadow", "trustno",
    "changeme", "secret", "test", "guest", "user", "login", "trellis", "china", "beijing",
    "shanghai", "zhongguo", "wangyi", "tencent", "huawei", "bank", "yinhang",
})

_RUNS = ("0123456789012", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl",
         "zxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "qazwsxedcrfvtgbyhnujmikolp")
_EDGES = re.compile(r"^[\d\W_]+|[\d\W_]+$")


def _repetitive(password: str) -> bool:
    if len(set(password)) < MIN_DISTINCT:
        return True
    return any(all(password[i] == password[i % unit] for i in range(len(password)))
               for unit in range(1, 5))


def _a_run(lowered: str) -> bool:
    return any(lowered in run or lowered in run[::-1] for run in _RUNS)


def _common(lowered: str) -> bool:
    core = _EDGES.sub("", lowered)
    return core in COMMON or (len(core) >= 4 and _a_run(core))


_E_NAME = N_("The password must not contain your e-mail name.")
#: zxcvbn's pattern kinds (a dictionary match by its list) -> why the password is refused
_KINDS = {
    "passwords": N_("The password is too easy to guess: it is built on a common password. "
                    "Add words only you would choose, or make it longer."),
    "user_inputs": _E_NAME,
    "word": N_("The password is too easy to guess: it is built on a common word or name. "
               "Add words only you would choose, or make it longer."),
    "sequence": N_("The password is too easy to guess: it is built on a run of digits, "
                   "letters or neighbouring keys. Add words only you would choose, or make "
                   "it longer."),
    "repeat": N_("The password is too easy to guess: it is built on repeated characters. "
                 "Add words only you would choose, or make it longer."),
    "date": N_("The password is too easy to guess: it is built on a date or a year. Add "
               "words only you would choose, or make it longer."),
    "bruteforce": N_("The password is too easy to guess. Add words only you would choose, "
                     "or make it longer."),
}
_ALIASES = {"spatial": "sequence", "regex": "date"}
# zxcvbn keeps the user inputs of the call in a module-global dictionary: two threads
# judging at once would read each other's e-mail names.
_ESTIMATE = threading.Lock()


def _email_parts(email: str) -> list[str]:
    name = email.strip().lower().partition("@")[0]
    parts = dict.fromkeys([name, *re.split(r"[\W_\d]+", name)])
    return [part for part in parts if len(part) >= 3]


def _weak_kind(password: str, email: str) -> str | None:
    """The kind of the longest weak part zxcvbn found (a key of :data:`_KINDS`), or None
    when the password scores :data:`MIN_SCORE` or more."""
    with _ESTIMATE:
        found = zxcvbn(password[:ESTIMATED_CHARS], user_inputs=_email_parts(email))
    if found["score"] >= MIN_SCORE:
        return None
    parts = [m for m in found["sequence"] if m["pattern"] != "bruteforce"]
    if not parts:
        return "bruteforce"
    longest = max(parts, key=lambda m: len(m["token"]))
    if len(set(longest["token"].lower())) <= 2:   # "Aaaaaaaaaa" is in its film titles
        return "repeat"
    if longest["pattern"] == "dictionary":
        name = longest.get("dictionary_name")
        return name if name in ("passwords", "user_inputs") else "word"
    kind: str = _ALIASES.get(longest["pattern"], longest["pattern"])
    return kind if kind in _KINDS else "bruteforce"


def check(password: str, *, email: str = "") -> None:
    """Raise :class:`ValidationError` (field ``password``) when *password* breaks the rule
    above, for the account with e-mail *email* ("" when none is known yet)."""
    password = unicodedata.normalize("NFKC", password or "")
    if len(password) < MIN_PASSWORD:
        raise ValidationError(msg(N_("The password needs at least %(count)s characters."),
                                  count=MIN_PASSWORD), field="password")
    if len(password) > MAX_PASSWORD:
        raise ValidationError(msg(N_("The password can have at most %(count)s characters."),
                                  count=MAX_PASSWORD), field="password")
    lowered = password.lower()
    if _repetitive(password):
        raise ValidationError(N_("The password is too simple: it repeats one character or a "
                                 "few characters. Choose one that is hard to guess."),
                              field="password")
    if _a_run(lowered):
        raise ValidationError(N_("The password is too simple: it is a run of digits, "
                                 "letters or neighbouring keys. Choose one that is hard to "
                                 "guess."), field="password")
    if _common(lowered):
        raise ValidationError(N_("The password is one of the most common ones and easy to "
                                 "guess. Choose another."), field="password")
    name = email.strip().lower().partition("@")[0]
    if len(name) >= 3 and name in lowered:
        raise ValidationError(_E_NAME, field="password")
    kind = _weak_kind(password, email)
    if kind is not None:
        raise ValidationError(_KINDS[kind], field="password")
