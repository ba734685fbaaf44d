"""The contract's operations on the database, and the shop's rules for them.

Every function takes the caller's :class:`~sqlalchemy.orm.Session` and leaves
committing to it, so that one HTTP request is one transaction. Refusals are
raised from :mod:`demo_shop.errors`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.common.eligibility import Verdict, case_verdict
from demo_shop.errors import (
    AddressLocked,
    CaseNotFound,
    NotCancellable,
    NotEligible,
    OrderNotFound,
)
from demo_shop.models import (
    CASE_COUNTER,
    OPEN_CASE_STATUSES,
    AfterSaleCase,
    CaseStatus,
    CaseType,
    Counter,
    Order,
    OrderStatus,
    parse_case_id,
)
from demo_shop.schemas import local_now

# Before it ships, an order can still be cancelled or redirected.
EDITABLE_STATUSES = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAID})
# Cases that give money back are worth the whole order.
REFUNDING_CASE_TYPES = frozenset({CaseType.REFUND, CaseType.RETURN})
# Case numbers are 32-bit integers; a longer "id" cannot name a case.
_MAX_CASE_NUMBER = 2**31 - 1


def get_order(*, session: Session, order_id: str) -> Order:
    """Returns the order.

    Raises:
        OrderNotFound: No order has this id.
    """
    order = session.get(Order, order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order


def _order_for_update(session: Session, order_id: str) -> Order:
    # Row lock (PostgreSQL; SQLite locks the whole file on write), so that two
    # requests on one order see each other's changes.
    statement = select(Order).where(Order.order_id == order_id).with_for_update()
    order = session.execute(statement).scalar_one_or_none()
    if order is None:
        raise OrderNotFound(order_id)
    return order


def list_orders(*, session: Session, customer_id: str) -> list[Order]:
    """Returns the customer's orders, newest first (none for an unknown customer)."""
    statement = (
        select(Order)
        .where(Order.customer_id == customer_id)
        .order_by(Order.created_at.desc(), Order.order_id.desc())
    )
    return list(session.execute(statement).scalars())


def cancel_order(*, session: Session, order_id: str, now: datetime | None = None) -> Order:
    """Cancels an order that has not shipped yet.

    Raises:
        OrderNotFound: No order has this id.
        NotCancellable: The order is past ``paid`` (or already cancelled).
    """
    order = _order_for_update(session, order_id)
    if order.status not in EDITABLE_STATUSES:
        raise NotCancellable(order.status.value)
    order.status = OrderStatus.CANCELLED
    order.updated_at = now or local_now()
    session.flush()
    return order


def change_address(
    *, session: Session, order_id: str, address: str, now: datetime | None = None
) -> Order:
    """Changes the delivery address of an order that has not shipped yet.

    Raises:
        OrderNotFound: No order has this id.
        AddressLocked: The order has shipped, or is cancelled.
    """
    order = _order_for_update(session, order_id)
    if order.status not in EDITABLE_STATUSES:
        raise AddressLocked(order.status.value)
    order.address = address
    order.updated_at = now or local_now()
    session.flush()
    return order


def urge_order(*, session: Session, order_id: str, now: datetime | None = None) -> Order:
    """Records that the customer asked the warehouse to hurry; ``urged_at`` tells when.

    Raises:
        OrderNotFound: No order has this id.
    """
    order = _order_for_update(session, order_id)
    order.urged_at = now or local_now()
    order.urge_count = (order.urge_count or 0) + 1
    session.flush()
    return order


def _open_refund(order: Order) -> AfterSaleCase | None:
    for case in order.cases:
        if case.type is CaseType.REFUND and case.status in OPEN_CASE_STATUSES:
            return case
    return None


def _check_eligible(order: Order, case_type: CaseType) -> None:
    status = order.status.value
    verdict = case_verdict(status, case_type.value)
    if verdict is not Verdict.ELIGIBLE:
        raise NotEligible(
            f"order {order.order_id} is {status}: no {case_type.value} ({verdict.value})",
            rule=verdict.value,
            status=status,
        )
    if case_type is CaseType.REFUND:
        open_refund = _open_refund(order)
        if open_refund is not None:
            raise NotEligible(
                f"refund case {open_refund.case_id} is already open for order {order.order_id}",
                rule="refund_open",
                status=status,
            )


def _next_case_number(session: Session) -> int:
    # UPDATE first: it takes the row (PostgreSQL) or write (SQLite) lock, so
    # concurrent requests get consecutive numbers instead of the same one.
    bumped = session.execute(
        update(Counter)
        .where(Counter.name == CASE_COUNTER)
        .values(value=Counter.value + 1)
        .execution_options(synchronize_session=False)
    )
    if bumped.rowcount == 0:
        highest = session.execute(select(func.max(AfterSaleCase.number))).scalar() or 0
        session.add(Counter(name=CASE_COUNTER, value=highest + 1))
        session.flush()
        return int(highest) + 1
    value = session.execute(select(Counter.value).where(Counter.name == CASE_COUNTER)).scalar_one()
    return int(value)


def create_case(
    *,
    session: Session,
    order_id: str,
    case_type: CaseType,
    reason: str,
    now: datetime | None = None,
) -> AfterSaleCase:
    """Opens an after-sales case in status ``submitted``.

    Refunds and returns carry the order's total as ``refund_amount``;
    exchanges and repairs carry none.

    Raises:
        OrderNotFound: No order has this id.
        NotEligible: The order's status does not allow this case type
            (:mod:`bot.common.eligibility`), or (for a refund) a refund case
            is already open on it.
    """
    order = _order_for_update(session, order_id)
    _check_eligible(order, case_type)
    created_at = now or local_now()
    case = AfterSaleCase(
        number=_next_case_number(session),
        order=order,
        type=case_type,
        status=CaseStatus.SUBMITTED,
        reason=reason,
        created_at=created_at,
        updated_at=created_at,
        refund_amount_fen=order.total_fen if case_type in REFUNDING_CASE_TYPES else None,
    )
    session.add(case)
    session.flush()
    return case


def get_case(*, session: Session, case_id: str) -> AfterSaleCase:
    """Returns the case by its id (``AS-000123``; the prefix in any case).

    Raises:
        CaseNotFound: No case has this id.
    """
    number = parse_case_id(case_id)
    in_range = number is not None and number <= _MAX_CASE_NUMBER
    case = session.get(AfterSaleCase, number) if in_range else None
    if case is None:
        raise CaseNotFound(case_id)
    return case


def list_cases(*, session: Session, order_id: str) -> list[AfterSaleCase]:
    """Returns the order's cases, newest first.

    Raises:
        OrderNotFound: No order has this id.
    """
    get_order(session=session, order_id=order_id)
    statement = (
        select(AfterSaleCase)
        .where(AfterSaleCase.order_id == order_id)
        .order_by(AfterSaleCase.created_at.desc(), AfterSaleCase.number.desc())
    )
    return list(session.execute(statement).scalars())
