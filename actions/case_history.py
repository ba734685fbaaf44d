"""The after-sales cases this conversation opened: one case per problem.

A follow-up detail ("左键失灵", a minute after the repair case for the same
order) belongs to the case already open, not to a new one. The cases this
conversation opened are read back from its ``case_opened`` slot events; the
shop says whether such a case is still open. Cases from other conversations
are left alone: another customer of a shared account may have another
problem, and the shop's own rules (one open refund per order) still apply.
"""

from __future__ import annotations

from rasa_sdk import Tracker

CASE_OPENED_SLOT = "case_opened"
CASE_FOLLOWUP_SLOT = "case_followup"
# Statuses in which a case is still being handled (the shop contract's).
OPEN_CASE_STATUSES = frozenset({"submitted", "approved", "item_received"})


def opened_here(tracker: Tracker, order_id: str | None, case_type: str | None) -> list[str]:
    """Ids of the ``case_type`` cases for ``order_id`` this conversation opened, newest first."""
    if not order_id or not case_type:
        return []
    found: list[str] = []
    for event in reversed(tracker.events):
        if event.get("event") != "slot" or event.get("name") != CASE_OPENED_SLOT:
            continue
        opened = event.get("value")
        if (
            isinstance(opened, dict)
            and opened.get("order_id") == order_id
            and opened.get("case_type") == case_type
            and opened.get("case_id")
        ):
            found.append(str(opened["case_id"]))
    return found
