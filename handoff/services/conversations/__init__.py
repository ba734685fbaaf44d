"""The only place that changes a conversation's state; emits dotted events to listeners.

Who talks to the customer is Rasa's tracker (pause/resume events). The status
kept here (pending, open, resolved) is a view for people: handing back or
finishing the CSAT appends ``resume`` to the tracker first and changes the
status only when Rasa accepted it. The service is split by concern into the
parts below; they share the helpers of ``_base``.
"""

from __future__ import annotations

from handoff.services.conversations._agents import AgentPart
from handoff.services.conversations._base import HandoffRequest, channel_of
from handoff.services.conversations._csat import CsatPart
from handoff.services.conversations._handoff import HandoffPart
from handoff.services.conversations._ingest import IngestPart


class ConversationService(HandoffPart, IngestPart, AgentPart, CsatPart):
    """Hand-off, ingest, assignment, agent messages, hand-back, resolve and CSAT."""


__all__ = ["ConversationService", "HandoffRequest", "channel_of"]
