"""Bot turns agents flag as misunderstood (the trainers' queue)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import Conflict, NotFound
from handoff.models import Agent, Flag, Message, MessageRole
from handoff.services.annotations import collect as trainer_queue
from handoff.services.views import iso


async def flag_message(
    session: AsyncSession, *, message_id: int, intent: str, agent: Agent, known_intents: set[str]
) -> Flag:
    """Labels the customer message a bot turn answered with the intent it should have had.

    Raises:
        NotFound: no such message.
        Conflict: the message is not a bot turn, or the intent is not in the domain.
    """
    message = await session.get(Message, message_id)
    if message is None:
        raise NotFound(f"no message {message_id}")
    if message.role not in (MessageRole.BOT, MessageRole.CUSTOMER):
        raise Conflict("only bot turns (or the customer messages they answered) can be flagged")
    if known_intents and intent not in known_intents:
        raise Conflict(f"unknown intent {intent!r}")
    customer: Message | None = message
    if message.role == MessageRole.BOT:
        customer = await session.scalar(
            select(Message)
            .where(
                Message.conversation_id == message.conversation_id,
                Message.role == MessageRole.CUSTOMER,
                Message.created_at <= message.created_at,
                Message.id != message.id,
            )
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(1)
        )
    flag = Flag(
        message_id=message.id,
        customer_message_id=customer.id if customer else None,
        conversation_id=message.conversation_id,
        intent=intent,
        text=customer.text if customer else None,
        agent_id=agent.id,
    )
    session.add(flag)
    await session.flush()
    await trainer_queue.on_flag(
        session,
        conversation_id=flag.conversation_id,
        customer_message_id=flag.customer_message_id,
        intent=intent,
    )
    return flag


def flag_json(flag: Flag) -> dict[str, Any]:
    """The ``{"flag": ...}`` shape."""
    return {
        "id": flag.id,
        "message_id": flag.message_id,
        "customer_message_id": flag.customer_message_id,
        "conversation_id": flag.conversation_id,
        "intent": flag.intent,
        "text": flag.text,
        "status": flag.status,
        "created_at": iso(flag.created_at),
    }
