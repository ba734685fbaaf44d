"""The contract's wire format: orders and cases as JSON-ready dicts, times and money as text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from demo_shop.models import AfterSaleCase, Order

# China Standard Time has had no daylight saving since 1991: a fixed offset.
CHINA_TZ = timezone(timedelta(hours=8), "CST")

Json = dict[str, Any]


def local_now() -> datetime:
    """Now, as the naive China Standard Time the database stores, to the second."""
    return datetime.now(CHINA_TZ).replace(tzinfo=None, microsecond=0)


def iso_time(value: datetime) -> str:
    """A stored naive time as ISO 8601 with offset, e.g. ``2024-11-05T10:12:00+08:00``."""
    if value.tzinfo is not None:
        value = value.astimezone(CHINA_TZ)
    return value.replace(tzinfo=CHINA_TZ).isoformat(timespec="seconds")


def money(fen: int) -> str:
    """``29900`` → ``"299.00"``."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


def order_json(order: Order) -> Json:
    """An order as the contract's ``Order`` object."""
    return {
        "order_id": order.order_id,
        "customer_id": order.customer_id,
        "status": order.status.value,
        "created_at": iso_time(order.created_at),
        "items": [
            {
                "sku": item.sku,
                "name": item.name,
                "quantity": item.quantity,
                "price": money(item.price_fen),
            }
            for item in order.items
        ],
        "total": money(order.total_fen),
        "currency": order.currency,
        "shipping": {
            "address": order.address,
            "carrier": order.carrier,
            "tracking_no": order.tracking_no,
            "eta": order.eta.isoformat() if order.eta is not None else None,
            "events": [
                {
                    "time": iso_time(event.time),
                    "location": event.location,
                    "description": event.description,
                }
                for event in order.events
            ],
        },
    }


def case_json(case: AfterSaleCase) -> Json:
    """An after-sales case as the contract's ``AfterSale`` object."""
    return {
        "case_id": case.case_id,
        "order_id": case.order_id,
        "type": case.type.value,
        "status": case.status.value,
        "reason": case.reason,
        "created_at": iso_time(case.created_at),
        "updated_at": iso_time(case.updated_at),
        "refund_amount": (
            money(case.refund_amount_fen) if case.refund_amount_fen is not None else None
        ),
    }
