"""Text as it may be stored anywhere: what every entry point applies to a customer's message.

PostgreSQL refuses U+0000 in text and JSON, and a lone UTF-16 surrogate (which
JSON can carry as ``\\ud800``) cannot be written as UTF-8. Either one in a
customer's message used to fail far from where it came in: in the tracker
store, the handoff service, the connectors' database. Every connector and
the REST channel clean what they hand to Rasa with these functions: NUL is
removed, a lone surrogate becomes U+FFFD (the replacement character).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")

_T = TypeVar("_T")


def clean_text(value: str) -> str:
    """``value`` without NUL characters and with lone surrogates replaced."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if value.isascii():
        return value
    return _SURROGATE.sub(REPLACEMENT, value)


def clean_json(value: _T) -> _T:
    """A decoded JSON value (metadata) with every string, keys included, cleaned."""
    cleaned: _T = _clean(value)
    return cleaned


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {_clean(key): _clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value
