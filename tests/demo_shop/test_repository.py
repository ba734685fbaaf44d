"""The demo shop's rules and seed data, straight on the database: SQLite and real PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot.common.eligibility import CASE_TYPES, ELIGIBILITY, Verdict
from demo_shop import repository, seed
from demo_shop.db import make_engine, prepare
from demo_shop.errors import (
    AddressLocked,
    CaseNotFound,
    NotCancellable,
    NotEligible,
    OrderNotFound,
)
from demo_shop.models import AfterSaleCase, CaseStatus, CaseType, Order, OrderStatus
from demo_shop.schemas import case_json, order_json

NOW = datetime(2024, 11, 15, 9, 30, 0)
# One seeded order in each status, for the eligibility table.
STATUS_EXAMPLES = {
    "pending_payment": seed.ORDER_PENDING_PAYMENT,
    "paid": seed.ORDER_PAID,
    "shipped": seed.ORDER_SHIPPED,
    "delivered": seed.ORDER_DELIVERED_C1003,
    "completed": seed.ORDER_COMPLETED,
    "cancelled": seed.ORDER_CANCELLED,
}

REQUIRED_ORDERS = {
    # order id: (status, customer, [(name, quantity, price)])
    "20241105001": ("shipped", "c-1001", [("空气炸锅 4L", 1, "299.00")]),
    "JD8823412399": ("shipped", "c-1002", [("电动牙刷", 2, "159.00")]),
    "20241106002": ("paid", "c-1001", [("蓝牙耳机", 1, "399.00")]),
    "20241110008": ("paid", "c-1003", [("保温杯 500ml", 2, "89.00")]),
    "20241112010": ("paid", "c-1002", [("台灯", 1, "129.00")]),
    "20241107003": ("pending_payment", "c-1002", None),
    "20241101004": ("delivered", "c-1001", None),
    "20241111009": ("delivered", "c-1003", None),
    "20241020005": ("completed", "c-1003", None),
    "20241108006": ("cancelled", "c-1001", None),
}


def test_seed_holds_the_orders_tests_rely_on(sessions: sessionmaker) -> None:
    with sessions() as session:
        for order_id, (status, customer_id, items) in REQUIRED_ORDERS.items():
            order = order_json(repository.get_order(session=session, order_id=order_id))
            assert (order["status"], order["customer_id"]) == (status, customer_id), order_id
            if items is not None:
                lines = [(i["name"], i["quantity"], i["price"]) for i in order["items"]]
                assert lines == items, order_id
            shipped = status in ("shipped", "delivered", "completed")
            assert bool(order["shipping"]["events"]) == shipped, order_id
            assert (order["shipping"]["carrier"] is not None) == shipped, order_id

        delivered = order_json(repository.get_order(session=session, order_id="20241101004"))
        assert delivered["shipping"]["events"][-1]["description"] == "已签收"
        jd = order_json(repository.get_order(session=session, order_id="JD8823412399"))
        assert (jd["shipping"]["carrier"], jd["shipping"]["tracking_no"]) == (
            "京东物流",
            "JDX000123456789",
        )


def test_seed_holds_the_cases_tests_rely_on(sessions: sessionmaker) -> None:
    with sessions() as session:
        refund = case_json(repository.get_case(session=session, case_id="AS-000123"))
        returned = case_json(repository.get_case(session=session, case_id="AS-000124"))
        completed = order_json(repository.get_order(session=session, order_id="20241020005"))

    assert (refund["order_id"], refund["type"], refund["status"]) == (
        "20241020005",
        "refund",
        "refunded",
    )
    assert refund["refund_amount"] == completed["total"]
    assert (returned["order_id"], returned["type"], returned["status"]) == (
        "20241101004",
        "return",
        "submitted",
    )


def test_seed_looks_like_a_real_shop(sessions: sessionmaker) -> None:
    with sessions() as session:
        orders = session.execute(select(Order)).scalars().all()
        assert len(orders) >= 28
        assert {order.status for order in orders} == set(OrderStatus)
        assert len({order.customer_id for order in orders}) >= 6
        for order in orders:
            assert order.items and order.total_fen > 0
            assert (order.carrier is not None) == bool(order.events), order.order_id


def test_seed_runs_only_on_an_empty_database(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        prepare(engine)
        sessions = sessionmaker(bind=engine, future=True)
        with sessions.begin() as session:
            repository.cancel_order(session=session, order_id=seed.ORDER_PAID)
            count = session.execute(select(func.count()).select_from(Order)).scalar_one()

        prepare(engine)

        with sessions() as session:
            assert session.execute(select(func.count()).select_from(Order)).scalar_one() == count
            order = repository.get_order(session=session, order_id=seed.ORDER_PAID)
            assert order.status is OrderStatus.CANCELLED

        prepare(engine, reset=True)

        with sessions() as session:
            order = repository.get_order(session=session, order_id=seed.ORDER_PAID)
            assert order.status is OrderStatus.PAID
    finally:
        engine.dispose()


def test_customer_orders_newest_first(sessions: sessionmaker) -> None:
    with sessions() as session:
        orders = repository.list_orders(session=session, customer_id="c-1002")
        assert repository.list_orders(session=session, customer_id="nobody") == []

    created = [order.created_at for order in orders]
    assert created == sorted(created, reverse=True)
    assert {seed.ORDER_SHIPPED_JD, seed.ORDER_PENDING_PAYMENT} <= {o.order_id for o in orders}


@pytest.mark.parametrize("order_id", [seed.ORDER_PAID, seed.ORDER_PENDING_PAYMENT])
def test_cancel_before_shipping(sessions: sessionmaker, order_id: str) -> None:
    with sessions.begin() as session:
        order = repository.cancel_order(session=session, order_id=order_id, now=NOW)
        assert order.status is OrderStatus.CANCELLED
    with sessions() as session:
        assert repository.get_order(session=session, order_id=order_id).updated_at == NOW


@pytest.mark.parametrize(
    "order_id",
    [seed.ORDER_SHIPPED, seed.ORDER_DELIVERED, seed.ORDER_COMPLETED, seed.ORDER_CANCELLED],
)
def test_cancel_and_address_refused_once_shipped(sessions: sessionmaker, order_id: str) -> None:
    with sessions.begin() as session:
        status = repository.get_order(session=session, order_id=order_id).status.value
        with pytest.raises(NotCancellable) as cancel_refusal:
            repository.cancel_order(session=session, order_id=order_id)
        with pytest.raises(AddressLocked) as address_refusal:
            repository.change_address(session=session, order_id=order_id, address="别处")

    assert cancel_refusal.value.payload() == {"error": "not_cancellable", "status": status}
    assert address_refusal.value.payload() == {"error": "address_locked", "status": status}


def test_change_address_before_shipping(sessions: sessionmaker) -> None:
    with sessions.begin() as session:
        repository.change_address(
            session=session, order_id=seed.ORDER_PENDING_PAYMENT, address="上海市静安区南京西路1号"
        )
    with sessions() as session:
        order = repository.get_order(session=session, order_id=seed.ORDER_PENDING_PAYMENT)
        assert order.address == "上海市静安区南京西路1号"


def test_unknown_order_everywhere(sessions: sessionmaker) -> None:
    with sessions() as session:
        with pytest.raises(OrderNotFound):
            repository.get_order(session=session, order_id="nope")
        with pytest.raises(OrderNotFound):
            repository.cancel_order(session=session, order_id="nope")
        with pytest.raises(OrderNotFound):
            repository.change_address(session=session, order_id="nope", address="x")
        with pytest.raises(OrderNotFound):
            repository.urge_order(session=session, order_id="nope")
        with pytest.raises(OrderNotFound):
            repository.create_case(
                session=session, order_id="nope", case_type=CaseType.REPAIR, reason="x"
            )
        with pytest.raises(OrderNotFound):
            repository.list_cases(session=session, order_id="nope")
        with pytest.raises(CaseNotFound):
            repository.get_case(session=session, case_id="AS-000001")


def test_urge_records_when(sessions: sessionmaker) -> None:
    with sessions.begin() as session:
        order = repository.urge_order(session=session, order_id=seed.ORDER_PAID, now=NOW)
        assert (order.urged_at, order.urge_count) == (NOW, 1)


@pytest.mark.parametrize(
    ("case_type", "refund_amount"),
    [
        (CaseType.REFUND, "259.00"),
        (CaseType.RETURN, "259.00"),
        (CaseType.EXCHANGE, None),
        (CaseType.REPAIR, None),
    ],
)
def test_case_refund_amount(
    sessions: sessionmaker, case_type: CaseType, refund_amount: str | None
) -> None:
    with sessions.begin() as session:
        case = repository.create_case(
            session=session, order_id=seed.ORDER_DELIVERED, case_type=case_type, reason="x", now=NOW
        )
        body = case_json(case)

    assert body["case_id"] == "AS-000125"
    assert body["status"] == "submitted"
    assert body["refund_amount"] == refund_amount
    assert body["created_at"] == body["updated_at"] == "2024-11-15T09:30:00+08:00"


@pytest.mark.parametrize("order_id", [seed.ORDER_PENDING_PAYMENT, seed.ORDER_CANCELLED])
@pytest.mark.parametrize("case_type", list(CaseType))
def test_no_case_on_unpaid_or_cancelled_order(
    sessions: sessionmaker, order_id: str, case_type: CaseType
) -> None:
    with sessions.begin() as session, pytest.raises(NotEligible) as refusal:
        repository.create_case(session=session, order_id=order_id, case_type=case_type, reason="x")
    assert order_id in refusal.value.detail


@pytest.mark.parametrize("case_type", CASE_TYPES)
@pytest.mark.parametrize("status", list(ELIGIBILITY))
def test_every_status_and_case_type_follows_the_eligibility_table(
    sessions: sessionmaker, status: str, case_type: str
) -> None:
    order_id = STATUS_EXAMPLES[status]
    verdict = ELIGIBILITY[status][case_type]
    with sessions.begin() as session:
        if verdict is Verdict.ELIGIBLE:
            case = repository.create_case(
                session=session, order_id=order_id, case_type=CaseType(case_type), reason="x"
            )
            assert (case.order_id, case.type.value) == (order_id, case_type)
            return
        with pytest.raises(NotEligible) as refusal:
            repository.create_case(
                session=session, order_id=order_id, case_type=CaseType(case_type), reason="x"
            )
        assert refusal.value.payload() == {
            "error": "not_eligible",
            "rule": verdict.value,
            "status": status,
            "detail": refusal.value.detail,
        }
        assert session.get(Order, order_id).cases == [
            c for c in session.get(Order, order_id).cases if c.number < 125
        ]  # nothing opened


def test_one_open_refund_at_a_time(sessions: sessionmaker) -> None:
    with sessions.begin() as session:
        first = repository.create_case(
            session=session, order_id=seed.ORDER_DELIVERED, case_type=CaseType.REFUND, reason="x"
        )
        with pytest.raises(NotEligible) as refusal:
            repository.create_case(
                session=session,
                order_id=seed.ORDER_DELIVERED,
                case_type=CaseType.REFUND,
                reason="again",
            )
        assert first.case_id in refusal.value.detail
        # Other kinds of case are still possible next to an open refund.
        repository.create_case(
            session=session, order_id=seed.ORDER_DELIVERED, case_type=CaseType.REPAIR, reason="x"
        )
        first.status = CaseStatus.REJECTED
        session.flush()
        # Once the refund is settled, a new one may be asked for.
        again = repository.create_case(
            session=session, order_id=seed.ORDER_DELIVERED, case_type=CaseType.REFUND, reason="x"
        )
    assert [first.case_id, again.case_id] == ["AS-000125", "AS-000127"]


def test_case_ids_stay_sequential_under_concurrency(sessions: sessionmaker) -> None:
    # Repairs need the goods delivered (bot.common.eligibility).
    orders = [o for o, (status, _, _) in REQUIRED_ORDERS.items() if status == "delivered"]
    orders += ["20241020005", "20241014011", "20241109012", "20241018015"]

    def open_case(order_id: str) -> str:
        with sessions.begin() as session:
            case = repository.create_case(
                session=session, order_id=order_id, case_type=CaseType.REPAIR, reason="x"
            )
            return str(case.case_id)

    with ThreadPoolExecutor(max_workers=4) as pool:
        case_ids = list(pool.map(open_case, orders))

    assert sorted(case_ids) == [f"AS-{n:06d}" for n in range(125, 125 + len(orders))]


def test_cases_of_an_order_newest_first(sessions: sessionmaker) -> None:
    with sessions.begin() as session:
        repository.create_case(
            session=session,
            order_id=seed.ORDER_DELIVERED,
            case_type=CaseType.EXCHANGE,
            reason="x",
            now=NOW,
        )
    with sessions() as session:
        cases = repository.list_cases(session=session, order_id=seed.ORDER_DELIVERED)
        ids = [case.case_id for case in cases]
        assert ids == ["AS-000125", seed.CASE_RETURN_SUBMITTED]
        assert repository.get_case(session=session, case_id="as-000124").case_id == "AS-000124"
        assert session.execute(select(func.count()).select_from(AfterSaleCase)).scalar_one() == 7
