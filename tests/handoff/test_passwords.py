"""The password policy's list of common passwords: zxcvbn's top 10,000 and the shipped file."""

from __future__ import annotations

import pytest
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from handoff.errors import Conflict
from handoff.services.passwords import LEAKED_TOP, check_password, common_passwords, is_common


def test_the_list_holds_the_top_ten_thousand_and_the_shipped_words() -> None:
    common = common_passwords()
    leaked = FREQUENCY_LISTS["passwords"]
    assert len(common) >= LEAKED_TOP
    assert all(word.casefold() in common for word in leaked[:LEAKED_TOP])
    assert "woaini1314" in common  # from the shipped file, a Chinese favourite


@pytest.mark.parametrize(
    # Ten or more characters, so only the list can refuse them: ranks ~1,000 to ~9,000.
    "password",
    ["manchester", "1qaz2wsx3edc", "terminator", "qazwsxedcrfv", "Manchester2026!"],
)
def test_long_passwords_from_the_leaked_list_are_refused(password: str) -> None:
    assert is_common(password)
    with pytest.raises(Conflict, match="too common"):
        check_password(password, username="alice")


def test_words_past_the_top_ten_thousand_are_not_refused_for_being_listed() -> None:
    beyond = [w for w in FREQUENCY_LISTS["passwords"][LEAKED_TOP + 5_000 :] if len(w) >= 10]
    shipped_or_leaked = common_passwords()
    unlisted = [w for w in beyond if w not in shipped_or_leaked and len(set(w)) >= 4]
    assert unlisted, "the ranks past the top 10,000 hold long words"
    assert any(not is_common(word) for word in unlisted)
