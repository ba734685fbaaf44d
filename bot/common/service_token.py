"""The bearer token between the Rasa side, the handoff service and the shop."""

from __future__ import annotations

import hmac


def token_matches(header: str | None, token: str) -> bool:
    """Whether ``Authorization: Bearer <token>`` was presented.

    Compared in constant time, so the token cannot be guessed byte by byte.

    Args:
        header: The request's ``Authorization`` header, if any.
        token: The expected token.
    """
    scheme, _, presented = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())
