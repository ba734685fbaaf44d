"""An agent's reply on its way out: retried with backoff, one idempotency key, up to a limit.

A send that failed without anything leaving (the connector unreachable, the
platform failing for now: :attr:`DeliveryError.retryable`) is tried again,
``attempts`` times in all, ``backoff_s`` then twice that apart. Every attempt
at one message carries the same ``Idempotency-Key`` (``handoff-message-<id>``),
so a connector can recognise a repeat; an outcome that is unknown (the
connector took the request and did not answer) is never retried here, so a
customer never gets a reply twice. WeChat's refusal once the 48-hour window
has closed (errcode 45015) is final and is said as such.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from handoff.errors import DeliveryError
from handoff.rasa_client import RasaClient

logger = logging.getLogger(__name__)

WECHAT_WINDOW_CLOSED = "45015"
WINDOW_CLOSED_TEXT = (
    "WeChat's 48-hour window is closed: the customer has not written for 48 hours,"
    " so WeChat takes no message until they write again"
)


@dataclass(frozen=True)
class SendPolicy:
    """How often, and how far apart, a reply is tried (``HANDOFF_SEND_ATTEMPTS``, …)."""

    attempts: int = 3
    backoff_s: float = 0.5


def idempotency_key(message_id: int) -> str:
    """The key every attempt at one stored message carries."""
    return f"handoff-message-{message_id}"


def explained(error: DeliveryError) -> DeliveryError:
    """The error as the agent reads it: the 48-hour window named, never retried."""
    if f"errcode {WECHAT_WINDOW_CLOSED}" in str(error):
        final = DeliveryError(f"{WINDOW_CLOSED_TEXT} ({error})")
        final.retryable = False
        return final
    return error


async def send_reply(
    rasa: RasaClient, channel: str, cid: str, text: str, *, message_id: int, policy: SendPolicy
) -> int:
    """Sends the reply, retrying what may succeed; returns the attempts made.

    Raises:
        DeliveryError: the last failure, explained (see :func:`explained`).
    """
    key = idempotency_key(message_id)
    delay_s = policy.backoff_s
    for attempt in range(1, policy.attempts + 1):
        try:
            await rasa.send(channel, cid, text, idempotency_key=key)
            return attempt
        except DeliveryError as failure:
            error = explained(failure)
            if not error.retryable or attempt == policy.attempts:
                logger.warning(
                    "reply %s to %s not delivered after %d attempt(s): %s", key, cid, attempt, error
                )
                raise error from failure
            logger.info("reply %s failed (attempt %d), retrying: %s", key, attempt, error)
            await asyncio.sleep(delay_s)
            delay_s *= 2
    raise AssertionError("unreachable: attempts is at least 1")
