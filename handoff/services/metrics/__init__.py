"""Service-quality metrics computed in SQL from the full conversation record.

Definitions (the dashboard's help text and the tests follow them):

- A *conversation* is a session of one Rasa conversation id: it starts with a
  customer message that has no earlier customer message of the same id within
  ``SESSION_GAP_S`` (Rasa's default session expiry, 60 minutes); it is counted
  on the local day (``HANDOFF_TIMEZONE``) of that first message, even when it
  runs past midnight.
- A session was *handed off* when a hand-off episode started between its first
  message and the next session's; *contained* otherwise.
- *First-contact resolution*: contained, or resolved by people in one episode,
  and the customer did not start another session within ``FCR_WINDOW_S``.
- *Fallback rate*: customer messages whose intent was ``nlu_fallback`` over
  customer messages with an intent.
- *Bot first response*: from a customer message to the bot's next turn (Rasa's
  own event timestamps), when the bot answered before the customer spoke again;
  counted on the customer message's day (an answer just after the range's last
  midnight still counts for the question just before it).
- *Human first response*: from hand-off to the first agent reply, per episode.
- *After-sales cases*: refund, return, exchange and repair cases the bot opened
  at the shop, on the local day of the ``case_opened`` slot event the
  assistant sets when the shop accepts one (``actions/after_sales.py``); each
  case number counts once.

How (every request is index range scans and aggregates, no window functions):
sessions and bot response times are stamped on customer turns at ingest
(:mod:`~handoff.services.metrics.stamps`); message counts per quarter hour,
channel, role and intent are kept in the ``message_counts`` rollup
(:mod:`~handoff.services.metrics.counts`); migration 0006 filled both for older
rows. Alerts are raised once by the sweep (:mod:`~handoff.services.metrics.alerting`).
"""

from __future__ import annotations

from handoff.services.metrics.filters import MetricsFilter, MetricsInputError, parse_filter
from handoff.services.metrics.live import alerts, live_strip
from handoff.services.metrics.summary import summary
from handoff.services.metrics.tables import TABLES, table

__all__ = [
    "TABLES",
    "MetricsFilter",
    "MetricsInputError",
    "alerts",
    "live_strip",
    "parse_filter",
    "summary",
    "table",
]
