"""Database tables of the demo shop: orders, their items and parcel events, after-sales cases.

Times are stored naive, as wall-clock time in China Standard Time (UTC+08:00,
no daylight saving), and given the ``+08:00`` offset on the wire. Money is
stored in fen (hundredths of a yuan) as integers, so that it is exact on
every database without relying on a decimal type.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Column, Date, DateTime, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import declarative_base, relationship

# SQLAlchemy 1.4 has no type information; its declarative base is Any to mypy.
Base: Any = declarative_base()


class OrderStatus(str, enum.Enum):
    """Where an order is in its life."""

    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class CaseType(str, enum.Enum):
    """What the customer asks for after the sale."""

    REFUND = "refund"
    RETURN = "return"
    EXCHANGE = "exchange"
    REPAIR = "repair"


class CaseStatus(str, enum.Enum):
    """Where an after-sales case is in its life."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    ITEM_RECEIVED = "item_received"
    REFUNDED = "refunded"
    CLOSED = "closed"


OPEN_CASE_STATUSES = frozenset(
    {CaseStatus.SUBMITTED, CaseStatus.APPROVED, CaseStatus.ITEM_RECEIVED}
)


def _enum(kind: type[enum.Enum]) -> Enum:
    # Stored as plain strings (no database enum type), so adding a value
    # needs no migration; the values, not the member names, are stored.
    return Enum(
        kind,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
    )


class Order(Base):
    """An order with its delivery address and, once shipped, its parcel."""

    __tablename__ = "orders"

    order_id = Column(String(32), primary_key=True)
    customer_id = Column(String(32), nullable=False, index=True)
    status = Column(_enum(OrderStatus), nullable=False)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)
    currency = Column(String(3), nullable=False, default="CNY")
    address = Column(String(300), nullable=False)
    carrier = Column(String(50))
    tracking_no = Column(String(64))
    eta = Column(Date)
    urged_at = Column(DateTime)
    urge_count = Column(Integer, nullable=False, default=0)

    items = relationship(
        "OrderItem",
        back_populates="order",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="OrderItem.position",
    )
    events = relationship(
        "ShippingEvent",
        back_populates="order",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="[ShippingEvent.time, ShippingEvent.id]",
    )
    cases = relationship("AfterSaleCase", back_populates="order", lazy="select")

    @property
    def total_fen(self) -> int:
        """The sum of the items' prices times their quantities, in fen."""
        return sum(item.price_fen * item.quantity for item in self.items)


class OrderItem(Base):
    """One line of an order."""

    __tablename__ = "order_items"

    id = Column(Integer, primary_key=True)
    order_id = Column(String(32), ForeignKey("orders.order_id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    sku = Column(String(32), nullable=False)
    name = Column(String(200), nullable=False)
    quantity = Column(Integer, nullable=False)
    price_fen = Column(Integer, nullable=False)

    order = relationship("Order", back_populates="items")


class ShippingEvent(Base):
    """One scan of the parcel by the carrier."""

    __tablename__ = "shipping_events"

    id = Column(Integer, primary_key=True)
    order_id = Column(String(32), ForeignKey("orders.order_id"), nullable=False, index=True)
    time = Column(DateTime, nullable=False)
    location = Column(String(100), nullable=False)
    description = Column(String(200), nullable=False)

    order = relationship("Order", back_populates="events")


class AfterSaleCase(Base):
    """A refund, return, exchange or repair case; its id is ``AS-`` and six digits."""

    __tablename__ = "after_sale_cases"

    # The sequential number behind "AS-000123"; given explicitly, never by
    # the database, so that seeded numbers and new ones share one sequence.
    number = Column(Integer, primary_key=True, autoincrement=False)
    order_id = Column(String(32), ForeignKey("orders.order_id"), nullable=False, index=True)
    type = Column(_enum(CaseType), nullable=False)
    status = Column(_enum(CaseStatus), nullable=False)
    reason = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)
    refund_amount_fen = Column(Integer)

    order = relationship("Order", back_populates="cases")

    @property
    def case_id(self) -> str:
        """The id customers see, e.g. ``AS-000123``."""
        return format_case_id(self.number)


class Counter(Base):
    """A named sequence; incremented under a row lock so concurrent writers never share a value."""

    __tablename__ = "counters"

    name = Column(String(50), primary_key=True)
    value = Column(Integer, nullable=False)


CASE_COUNTER = "after_sale_case"


def format_case_id(number: int) -> str:
    """``123`` → ``"AS-000123"``."""
    return f"AS-{number:06d}"


def parse_case_id(case_id: str) -> int | None:
    """``"AS-000123"`` (any case) → ``123``; None when it is not a case id."""
    prefix, _, digits = case_id.strip().partition("-")
    if prefix.upper() != "AS" or not digits.isascii() or not digits.isdigit():
        return None
    return int(digits)
