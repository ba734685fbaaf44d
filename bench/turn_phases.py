"""Where a turn's time goes, read from the timestamps Rasa puts on a conversation's events.

The driver knows when it sent each message and when its last reply arrived
(wall clock; Rasa runs on the same machine, so the clocks agree). Rasa's
tracker knows when it logged the customer's message (after NLU) and each bot
message (before sending it). Between them, a turn splits into three phases:

- **inbound**: from the send until Rasa logged the message: the webhook or
  socket, the connector's checks, waiting for the conversation's lock (still
  held if Rasa is finishing the previous turn), loading the tracker and NLU;
- **answer**: from the customer's message to the turn's last bot message:
  the dialogue policies and custom actions, the same for every channel;
- **delivery**: from the last bot message until it reached the customer. A
  connector sends each reply as Rasa produces it; Rasa's REST channel
  answers only once the turn is over (the next action predicted and the
  tracker saved), so its delivery holds that bookkeeping too.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class TimedTurn:
    """One customer message: when it was sent and when its last reply arrived (epoch s)."""

    sent_at: float
    done_at: float


@dataclass(frozen=True)
class Phases:
    """A turn's three phases, in milliseconds."""

    inbound_ms: float
    answer_ms: float
    delivery_ms: float


class TrackerMismatch(ValueError):
    """The tracker does not hold the turns the driver played."""


def phases(events: Sequence[dict[str, Any]], turns: Sequence[TimedTurn]) -> list[Phases]:
    """Splits each of ``turns`` by the timestamps of the conversation's ``events``.

    Args:
        events: The tracker's events (``GET /conversations/<id>/tracker``).
        turns: The turns the driver played in that conversation, in order.

    Raises:
        TrackerMismatch: Not one user message per turn, or a turn without a
            bot message.
    """
    users = [i for i, event in enumerate(events) if event.get("event") == "user"]
    if len(users) != len(turns):
        raise TrackerMismatch(f"{len(users)} user messages in the tracker, {len(turns)} turns")
    bounds = [*users[1:], len(events)]
    split = []
    for turn, start, end in zip(turns, users, bounds, strict=True):
        bots = [e["timestamp"] for e in events[start:end] if e.get("event") == "bot"]
        if not bots:
            raise TrackerMismatch(f"no bot message after user message {start}")
        logged = events[start]["timestamp"]
        split.append(
            Phases(
                inbound_ms=(logged - turn.sent_at) * 1000,
                answer_ms=(max(bots) - logged) * 1000,
                delivery_ms=(turn.done_at - max(bots)) * 1000,
            )
        )
    return split


async def conversation_phases(
    http: httpx.AsyncClient, rasa_url: str, conversation_id: str, turns: Sequence[TimedTurn]
) -> list[Phases]:
    """:func:`phases` of one conversation, its events fetched from Rasa's HTTP API."""
    response = await http.get(f"{rasa_url}/conversations/{conversation_id}/tracker")
    response.raise_for_status()
    return phases(response.json()["events"], turns)


def medians(split: Sequence[Phases]) -> Phases:
    """The median of each phase over many turns."""
    return Phases(
        inbound_ms=statistics.median(p.inbound_ms for p in split),
        answer_ms=statistics.median(p.answer_ms for p in split),
        delivery_ms=statistics.median(p.delivery_ms for p in split),
    )
