"""The trainers' queue: misunderstood customer messages, grouped, labelled and exported.

``collect`` fills the queue from what the service already receives (event
broker messages, hand-offs, agents' flags, CSAT ratings, web chat feedback);
``queue`` is what trainers do with it; ``normalize`` decides which wordings
are near-duplicates.
"""

from __future__ import annotations

from handoff.services.annotations.collect import Reason

__all__ = ["Reason"]
