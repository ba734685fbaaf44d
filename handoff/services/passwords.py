"""Password policy: long enough, not common, not the username, no control characters."""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from handoff.errors import Conflict

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common_passwords.txt"
# zxcvbn ships the 30,000 most frequent passwords of leaked sets, most frequent first;
# the policy refuses the top 10,000 of them plus the shipped file (Chinese favourites
# such as woaini1314 that the English-leaning list ranks low or lacks).
LEAKED_TOP = 10_000
# Swaps people make to "strengthen" a word: p@ssw0rd is password.
_UNLEET = str.maketrans(
    {"@": "a", "4": "a", "3": "e", "1": "i", "!": "i", "0": "o", "$": "s", "5": "s", "7": "t"}
)
_TRAILING = "0123456789!@#$%^&*()-_=+.?,;:~ "


@cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's top :data:`LEAKED_TOP` and the shipped list (lowercase), read once."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    shipped = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    leaked = FREQUENCY_LISTS["passwords"][:LEAKED_TOP]
    return frozenset(shipped | {word.casefold() for word in leaked})


def is_common(password: str) -> bool:
    """True for a listed password, also behind trailing digits and symbols or swaps."""
    lowered = password.casefold()
    common = common_passwords()
    base = lowered.rstrip(_TRAILING)
    candidates = {lowered, base, lowered.translate(_UNLEET), base.translate(_UNLEET)}
    candidates |= {c.rstrip(_TRAILING) for c in set(candidates)}
    return any(c in common for c in candidates if c) or len(set(lowered)) < 4


def check_password(password: str, *, username: str) -> None:
    """Raises :class:`Conflict` saying what is wrong with ``password`` for ``username``."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Conflict(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Conflict(f"passwords have at most {MAX_PASSWORD_LENGTH} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in password):
        raise Conflict("passwords cannot contain control characters")
    if username and username.casefold() in password.casefold():
        raise Conflict("passwords cannot contain the username")
    if is_common(password):
        raise Conflict("this password is too common; choose a longer, less usual one")
