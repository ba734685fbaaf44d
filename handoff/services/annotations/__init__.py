"""The trainers' queue: misunderstood customer messages, grouped, labelled and exported.

``collect`` fills the queue from what the service already receives (event
broker messages, hand-offs, agents' flags, CSAT ratings, web chat feedback);
``review_queue`` lists its groups, ``labelling`` is what trainers do with them
(label, ignore, undo, history), ``training_export`` hands the labels to
training; ``reasons`` says why a message is queued; ``normalize`` decides
which wordings are near-duplicates.
"""

from __future__ import annotations

from handoff.services.annotations.reasons import Reason

__all__ = ["Reason"]
