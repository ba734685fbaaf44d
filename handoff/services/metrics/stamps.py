"""What the metrics would otherwise rebuild with window functions, stamped once at ingest.

Each customer turn (a customer message with a Rasa timestamp) carries:

- ``session_start``: no earlier customer turn of the same conversation within
  ``SESSION_GAP_S`` seconds;
- on session starts, ``next_session_at`` / ``next_session_ts``: when the same
  conversation's next session starts (``None`` while there is none);
- ``response_ms``: milliseconds to the bot's turn when the next turn (customer or
  bot, in Rasa timestamp order) is the bot's.

:func:`stamp_turn` keeps these exact however turns arrive: it fixes the new
turn and its neighbours (a turn stored late can join two sessions or come
between a question and its answer). Migration 0006 fills the same columns for
older rows with the window functions this replaces.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Message, MessageRole

SESSION_GAP_S = 3600.0
TURN_ROLES = (MessageRole.CUSTOMER, MessageRole.BOT)


def _ts(message: Message) -> float:
    assert message.rasa_ts is not None  # only turns are looked up
    return message.rasa_ts


async def _neighbour(
    session: AsyncSession, conditions: list[ColumnElement[bool]], *, ts: float, later: bool
) -> Message | None:
    order = Message.rasa_ts.asc() if later else Message.rasa_ts.desc()
    side = Message.rasa_ts > ts if later else Message.rasa_ts < ts
    return await session.scalar(select(Message).where(*conditions, side).order_by(order).limit(1))


async def stamp_turn(session: AsyncSession, message: Message) -> None:
    """Stamps a just-flushed customer or bot turn and re-stamps its neighbours.

    Call inside the transaction that stored ``message`` (flushed, so it has an id).
    Messages without a Rasa timestamp (agent replies, service-written turns) are
    not turns and are left alone.
    """
    if message.rasa_ts is None or message.role not in TURN_ROLES:
        return
    cid, ts = message.conversation_id, message.rasa_ts
    turns = [
        Message.conversation_id == cid,
        Message.rasa_ts.is_not(None),
        Message.role.in_(TURN_ROLES),
    ]
    before = await _neighbour(session, turns, ts=ts, later=False)
    if before is not None and before.role == MessageRole.CUSTOMER:
        answered = message.role == MessageRole.BOT
        before.response_ms = (ts - _ts(before)) * 1000.0 if answered else None
    if message.role != MessageRole.CUSTOMER:
        return
    after = await _neighbour(session, turns, ts=ts, later=True)
    answered = after is not None and after.role == MessageRole.BOT
    message.response_ms = (_ts(after) - ts) * 1000.0 if after is not None and answered else None
    await _stamp_session(session, message)


async def _stamp_session(session: AsyncSession, message: Message) -> None:
    cid, ts = message.conversation_id, message.rasa_ts
    assert ts is not None
    customer = [
        Message.conversation_id == cid,
        Message.rasa_ts.is_not(None),
        Message.role == MessageRole.CUSTOMER,
    ]
    previous = await _neighbour(session, customer, ts=ts, later=False)
    message.session_start = previous is None or ts - _ts(previous) > SESSION_GAP_S
    following = await _neighbour(session, customer, ts=ts, later=True)
    if following is not None and following.session_start and _ts(following) - ts <= SESSION_GAP_S:
        # A late turn joined the following session to this one.
        following.session_start = False
        following.next_session_at = following.next_session_ts = None
    await session.flush()
    starts = [*customer, Message.session_start.is_(True)]
    chain: list[Message] = []
    earlier = await _neighbour(session, starts, ts=ts, later=False)
    if earlier is not None:
        chain.append(earlier)
    if message.session_start:
        chain.append(message)
    later = await _neighbour(session, starts, ts=ts, later=True)
    for start, successor in zip(chain, [*chain[1:], later], strict=True):
        start.next_session_at = successor.created_at if successor is not None else None
        start.next_session_ts = successor.rasa_ts if successor is not None else None
    if not message.session_start:
        message.next_session_at = message.next_session_ts = None


async def stamp_turns(session: AsyncSession, messages: list[Message]) -> None:
    """:func:`stamp_turn` for several flushed turns, in Rasa timestamp order."""
    turns = [m for m in messages if m.rasa_ts is not None and m.role in TURN_ROLES]
    for message in sorted(turns, key=lambda m: (_ts(m), m.role != MessageRole.CUSTOMER)):
        await stamp_turn(session, message)
