"""Which after-sales case fits which order status: one table for the assistant and the shop.

The assistant checks it before asking the customer for a reason, so that
nothing is asked for, or opened, that the shop would refuse; the demo shop
enforces the same table, as a real shop would (``docs/shop-api.md``).
"""

from __future__ import annotations

import enum


class Verdict(str, enum.Enum):
    """Whether a case type fits an order's status, and if not, why."""

    ELIGIBLE = "eligible"
    # pending_payment: nothing was paid, so nothing can be given back.
    NOT_PAID = "not_paid"
    CANCELLED = "cancelled"
    # A refund of a paid, unshipped order is a cancellation: offer that.
    CANCEL_INSTEAD = "cancel_instead"
    # A refund of a parcel on its way: refuse delivery, or return it once delivered.
    IN_TRANSIT = "in_transit"
    # Return, exchange and repair need the goods in the customer's hands.
    NOT_DELIVERED = "not_delivered"


CASE_TYPES = ("refund", "return", "exchange", "repair")


def _row(refund: Verdict, others: Verdict) -> dict[str, Verdict]:
    return {"refund": refund, "return": others, "exchange": others, "repair": others}


ELIGIBILITY: dict[str, dict[str, Verdict]] = {
    "pending_payment": _row(Verdict.NOT_PAID, Verdict.NOT_PAID),
    "paid": _row(Verdict.CANCEL_INSTEAD, Verdict.NOT_DELIVERED),
    "shipped": _row(Verdict.IN_TRANSIT, Verdict.NOT_DELIVERED),
    "delivered": _row(Verdict.ELIGIBLE, Verdict.ELIGIBLE),
    "completed": _row(Verdict.ELIGIBLE, Verdict.ELIGIBLE),
    "cancelled": _row(Verdict.CANCELLED, Verdict.CANCELLED),
}


def case_verdict(status: str, case_type: str) -> Verdict:
    """Whether an order in ``status`` may get a ``case_type`` case.

    A status or type the table does not know is left to the shop to decide
    (``ELIGIBLE``): its answer (409) is the last line of defence.
    """
    return ELIGIBILITY.get(status, {}).get(case_type, Verdict.ELIGIBLE)
