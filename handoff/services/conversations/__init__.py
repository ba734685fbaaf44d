"""The only place that changes a conversation's state; emits dotted events to listeners.

Who talks to the customer is Rasa's tracker (pause/resume events). The status
kept here (pending, open, resolved) is a view for people: handing back or
finishing the CSAT appends ``resume`` to the tracker first and changes the
status only when Rasa accepted it.

One use case per module, each a small class with its collaborators passed in:
:mod:`.hand_off`, :mod:`.ingest`, :mod:`.assign` (claims, transfers, automatic
assignment), :mod:`.post_message`, :mod:`.close` (hand back, resolve),
:mod:`.survey` (CSAT), :mod:`.presence`, :mod:`.sweep`. They share one
:class:`~.store.ConversationStore` (loading, locking, activity lines, events).
:class:`~.service.ConversationService` is the thin facade the API calls.
"""

from __future__ import annotations

from handoff.services.conversations.hand_off import HandoffRequest
from handoff.services.conversations.service import ConversationService
from handoff.services.conversations.store import channel_of

__all__ = ["ConversationService", "HandoffRequest", "channel_of"]
