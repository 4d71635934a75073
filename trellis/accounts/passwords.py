"""The one password rule, for every way a password is set: an admin's new user, a vendor's
registration, a password reset and the ``trellis users create`` command.

A lending platform's vendor and anchor users borrow and confirm invoices, so a password
that anyone guesses first is refused (reader 12, G11: "1111111111" was accepted because
only the length was checked). The rule is written down rather than taken from a strength
estimator: each refusal says in words which part failed, and the whole rule fits here.

A password is refused when it

1. is shorter than :data:`MIN_PASSWORD` characters (or longer than :data:`MAX_PASSWORD`);
2. has fewer than :data:`MIN_DISTINCT` different characters, or repeats one short unit of
   up to four characters ("1111111111", "abababab12" is fine, "abcabcabca" is not);
3. is a run along the digits, the alphabet or a keyboard row, forwards or backwards
   ("1234567890", "abcdefghij", "qwertyuiop", "0987654321");
4. is one of :data:`COMMON` passwords, also with digits or signs before or after it and in
   any letter case ("Password2026!", "woaini1314");
5. contains the name part of the account's e-mail address (three characters or more).

Errors are :class:`~trellis.errors.ValidationError` on the field ``password`` with a
message code; the web layer translates them.
"""

from __future__ import annotations

import re

from trellis.errors import ValidationError
from trellis.messages import N_, msg

MIN_PASSWORD = 10
MAX_PASSWORD = 200
MIN_DISTINCT = 4

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


def check(password: str, *, email: str = "") -> None:
    """Raise :class:`ValidationError` (field ``password``) when *password* breaks the rule
    above, for the account with e-mail *email* ("" when none is known yet)."""
    password = password or ""
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
        raise ValidationError(N_("The password must not contain your e-mail name."),
                              field="password")
