"""Deterministic demo data: seven customers, their orders, parcels and after-sales cases.

The data is inserted only into an empty database. Tests and dialogue tests
rely on the orders and cases named by the constants below; change them only
together with those tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from demo_shop.models import (
    CASE_COUNTER,
    AfterSaleCase,
    CaseStatus,
    CaseType,
    Counter,
    Order,
    OrderItem,
    OrderStatus,
    ShippingEvent,
    parse_case_id,
)

ORDER_SHIPPED = "20241105001"
ORDER_SHIPPED_JD = "JD8823412399"
ORDER_PAID = "20241106002"
ORDER_PAID_C1003 = "20241110008"
ORDER_PAID_C1002 = "20241112010"
ORDER_PENDING_PAYMENT = "20241107003"
ORDER_DELIVERED = "20241101004"
ORDER_DELIVERED_C1003 = "20241111009"
ORDER_COMPLETED = "20241020005"
ORDER_CANCELLED = "20241108006"
CASE_REFUNDED = "AS-000123"
CASE_RETURN_SUBMITTED = "AS-000124"

_ADDRESSES = {
    "c-1001": "北京市朝阳区建国路88号院3号楼1805室",
    "c-1002": "上海市浦东新区张杨路1500号5号楼602室",
    "c-1003": "浙江省杭州市西湖区文三路259号1号楼1102室",
    "c-1004": "广东省广州市天河区体育西路191号B座2308室",
    "c-1005": "四川省成都市武侯区人民南路四段27号3单元801室",
    "c-1006": "广东省深圳市南山区科技南十二路18号1506室",
    "c-1007": "江苏省南京市鼓楼区中山北路30号2幢1203室",
}


@dataclass(frozen=True)
class _Item:
    sku: str
    name: str
    quantity: int
    price: str


@dataclass(frozen=True)
class _Parcel:
    carrier: str
    tracking_no: str
    eta: str
    events: tuple[tuple[str, str, str], ...]  # (time, location, description)


@dataclass(frozen=True)
class _Order:
    order_id: str
    customer_id: str
    status: OrderStatus
    created_at: str
    items: tuple[_Item, ...]
    parcel: _Parcel | None = None


@dataclass(frozen=True)
class _Case:
    case_id: str
    order_id: str
    type: CaseType
    status: CaseStatus
    reason: str
    created_at: str
    updated_at: str


def _parcel(carrier: str, tracking_no: str, eta: str, *events: tuple[str, str, str]) -> _Parcel:
    return _Parcel(carrier, tracking_no, eta, events)


_AIR_FRYER = ("A-100", "空气炸锅 4L", "299.00")
_TOOTHBRUSH = ("B-210", "电动牙刷", "159.00")
_EARBUDS = ("C-330", "蓝牙耳机", "399.00")
_FLASK = ("D-120", "保温杯 500ml", "89.00")
_LAMP = ("E-410", "台灯", "129.00")
_ROBOT_VACUUM = ("F-501", "扫地机器人", "1599.00")
_RICE_COOKER = ("G-220", "电饭煲 3L", "259.00")
_DOWN_JACKET_MEN = ("H-090", "羽绒服 男款 L", "699.00")
_DOWN_JACKET_WOMEN = ("H-091", "羽绒服 女款 M", "699.00")
_SNEAKERS = ("J-310", "运动鞋 42码", "459.00")
_KEYBOARD = ("K-150", "机械键盘", "349.00")
_MOUSE = ("K-151", "无线鼠标", "99.00")
_PILLOWS = ("L-600", "乳胶枕 2只装", "239.00")
_RICE = ("M-050", "有机大米 5kg", "69.90")
_NUTS = ("M-051", "坚果礼盒 1.2kg", "128.00")
_WATCH = ("N-700", "智能手表", "1299.00")
_PICTURE_BOOKS = ("P-020", "儿童绘本 10册", "158.00")
_KETTLE = ("Q-880", "电热水壶 1.7L", "119.00")
_YOGA_MAT = ("R-300", "瑜伽垫 6mm", "79.00")
_SUITCASE = ("S-440", "行李箱 24寸", "499.00")
_SHAMPOO = ("T-010", "洗发水 750ml", "59.90")
_POWER_BANK = ("U-230", "充电宝 20000mAh", "149.00")


def _items(*lines: tuple[tuple[str, str, str], int]) -> tuple[_Item, ...]:
    return tuple(_Item(sku, name, quantity, price) for (sku, name, price), quantity in lines)


# Short status names, so that one order fits a line in the table below.
_P, _S, _D, _C, _X, _U = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
    OrderStatus.CANCELLED,
    OrderStatus.PENDING_PAYMENT,
)

# Tabular data reads better aligned than as the formatter would lay it out.
# fmt: off
ORDERS: tuple[_Order, ...] = (
    _Order(ORDER_SHIPPED, "c-1001", _S, "2024-11-05T10:12:00", _items((_AIR_FRYER, 1)), _parcel(
        "顺丰速运", "SF1234567890", "2024-11-08",
        ("2024-11-06T08:00:00", "上海", "已揽收"),
        ("2024-11-06T21:40:00", "杭州转运中心", "运输中"),
        ("2024-11-08T07:55:00", "北京朝阳", "派送中"),
    )),
    _Order(ORDER_SHIPPED_JD, "c-1002", _S, "2024-11-09T20:31:00", _items((_TOOTHBRUSH, 2)), _parcel(
        "京东物流", "JDX000123456789", "2024-11-12",
        ("2024-11-10T09:12:00", "上海嘉定", "已揽收"),
        ("2024-11-10T18:30:00", "上海分拣中心", "运输中"),
        ("2024-11-11T06:45:00", "上海浦东张江营业部", "已到达"),
    )),
    _Order(ORDER_PAID, "c-1001", _P, "2024-11-06T14:25:00", _items((_EARBUDS, 1))),
    _Order(ORDER_PAID_C1003, "c-1003", _P, "2024-11-10T09:03:00", _items((_FLASK, 2))),
    _Order(ORDER_PAID_C1002, "c-1002", _P, "2024-11-12T16:47:00", _items((_LAMP, 1))),
    _Order(ORDER_PENDING_PAYMENT, "c-1002", _U, "2024-11-07T22:18:00", _items((_ROBOT_VACUUM, 1))),
    _Order(ORDER_DELIVERED, "c-1001", _D, "2024-11-01T11:30:00", _items((_RICE_COOKER, 1)), _parcel(
        "中通快递", "73100123456789", "2024-11-04",
        ("2024-11-02T09:10:00", "广州", "已揽收"),
        ("2024-11-02T23:05:00", "广州转运中心", "运输中"),
        ("2024-11-03T20:40:00", "北京转运中心", "运输中"),
        ("2024-11-04T08:30:00", "北京朝阳", "派送中"),
        ("2024-11-04T13:12:00", "北京朝阳", "已签收"),
    )),
    _Order(ORDER_DELIVERED_C1003, "c-1003", _D, "2024-11-11T00:05:00",
           _items((_DOWN_JACKET_WOMEN, 1)), _parcel(
        "圆通速递", "YT7412345678901", "2024-11-14",
        ("2024-11-11T18:00:00", "江苏常熟", "已揽收"),
        ("2024-11-12T03:20:00", "苏州转运中心", "运输中"),
        ("2024-11-13T09:00:00", "杭州西湖", "派送中"),
        ("2024-11-13T15:42:00", "杭州西湖", "已签收"),
    )),
    _Order(ORDER_COMPLETED, "c-1003", _C, "2024-10-20T19:40:00", _items((_SNEAKERS, 1)), _parcel(
        "韵达快递", "4312345678901", "2024-10-23",
        ("2024-10-21T10:20:00", "福建晋江", "已揽收"),
        ("2024-10-22T04:10:00", "杭州转运中心", "运输中"),
        ("2024-10-23T08:50:00", "杭州西湖", "派送中"),
        ("2024-10-23T12:31:00", "杭州西湖", "已签收"),
    )),
    _Order(ORDER_CANCELLED, "c-1001", _X, "2024-11-08T13:50:00", _items((_WATCH, 1))),
    # The rest of the shop, so that it looks lived in.
    _Order("20241014011", "c-1004", _C, "2024-10-14T21:15:00", _items((_ROBOT_VACUUM, 1)), _parcel(
        "京东物流", "JDX000118273645", "2024-10-16",
        ("2024-10-15T10:00:00", "广州黄埔", "已揽收"),
        ("2024-10-16T09:20:00", "广州天河营业部", "派送中"),
        ("2024-10-16T14:05:00", "广州天河", "已签收"),
    )),
    _Order("20241109012", "c-1004", _D, "2024-11-09T12:02:00", _items((_PILLOWS, 1)), _parcel(
        "中通快递", "73100198765432", "2024-11-12",
        ("2024-11-10T11:30:00", "福建泉州", "已揽收"),
        ("2024-11-11T02:15:00", "广州转运中心", "运输中"),
        ("2024-11-12T09:40:00", "广州天河", "派送中"),
        ("2024-11-12T17:22:00", "广州天河", "已签收"),
    )),
    _Order("20241113013", "c-1004", _S, "2024-11-13T08:45:00",
           _items((_KEYBOARD, 1), (_MOUSE, 1)), _parcel(
        "顺丰速运", "SF1300224466", "2024-11-15",
        ("2024-11-13T19:20:00", "深圳宝安", "已揽收"),
        ("2024-11-14T06:10:00", "广州转运中心", "运输中"),
    )),
    _Order("20241114014", "c-1004", _U, "2024-11-14T23:10:00", _items((_SUITCASE, 1))),
    _Order("20241018015", "c-1005", _C, "2024-10-18T10:30:00",
           _items((_RICE, 2), (_NUTS, 1)), _parcel(
        "EMS", "1151234567890", "2024-10-21",
        ("2024-10-18T17:00:00", "黑龙江五常", "已揽收"),
        ("2024-10-19T22:30:00", "成都邮区中心", "运输中"),
        ("2024-10-20T10:15:00", "成都武侯", "派送中"),
        ("2024-10-20T15:48:00", "成都武侯", "已签收"),
    )),
    _Order("20241103016", "c-1005", _X, "2024-11-03T15:20:00", _items((_KETTLE, 1))),
    _Order("20241110017", "c-1005", _S, "2024-11-10T20:05:00", _items((_WATCH, 1)), _parcel(
        "顺丰速运", "SF1401357924", "2024-11-13",
        ("2024-11-11T09:30:00", "深圳龙华", "已揽收"),
        ("2024-11-11T23:50:00", "成都双流转运中心", "运输中"),
        ("2024-11-12T08:40:00", "成都武侯", "派送中"),
    )),
    _Order("20241113018", "c-1005", _P, "2024-11-13T11:11:00", _items((_PICTURE_BOOKS, 1))),
    _Order("20241025019", "c-1006", _C, "2024-10-25T09:48:00", _items((_EARBUDS, 1)), _parcel(
        "顺丰速运", "SF1098765432", "2024-10-26",
        ("2024-10-25T16:00:00", "东莞", "已揽收"),
        ("2024-10-26T09:05:00", "深圳南山", "派送中"),
        ("2024-10-26T11:37:00", "深圳南山", "已签收"),
    )),
    _Order("20241105020", "c-1006", _D, "2024-11-05T19:26:00",
           _items((_YOGA_MAT, 1), (_SHAMPOO, 2)), _parcel(
        "韵达快递", "4319876543210", "2024-11-08",
        ("2024-11-06T12:00:00", "浙江义乌", "已揽收"),
        ("2024-11-07T05:30:00", "深圳转运中心", "运输中"),
        ("2024-11-08T10:10:00", "深圳南山", "派送中"),
        ("2024-11-08T18:55:00", "深圳南山", "已签收"),
    )),
    _Order("20241112021", "c-1006", _U, "2024-11-12T22:40:00", _items((_POWER_BANK, 1))),
    _Order("JD8823419021", "c-1006", _S, "2024-11-12T10:15:00", _items((_RICE_COOKER, 1)), _parcel(
        "京东物流", "JDX000198765432", "2024-11-14",
        ("2024-11-12T21:00:00", "广州增城", "已揽收"),
        ("2024-11-13T07:20:00", "深圳分拣中心", "运输中"),
    )),
    _Order("20241022022", "c-1007", _C, "2024-10-22T14:00:00",
           _items((_DOWN_JACKET_MEN, 1)), _parcel(
        "圆通速递", "YT7498765432109", "2024-10-24",
        ("2024-10-22T20:00:00", "江苏常熟", "已揽收"),
        ("2024-10-23T09:30:00", "南京鼓楼", "派送中"),
        ("2024-10-23T14:16:00", "南京鼓楼", "已签收"),
    )),
    _Order("20241111023", "c-1007", _P, "2024-11-11T00:01:00",
           _items((_AIR_FRYER, 1), (_KETTLE, 1))),
    _Order("20241111024", "c-1007", _X, "2024-11-11T00:03:00", _items((_AIR_FRYER, 1))),
    _Order("20241104025", "c-1007", _D, "2024-11-04T16:35:00", _items((_LAMP, 1)), _parcel(
        "中通快递", "73100246813579", "2024-11-07",
        ("2024-11-05T10:45:00", "浙江宁波", "已揽收"),
        ("2024-11-06T01:20:00", "南京转运中心", "运输中"),
        ("2024-11-06T09:15:00", "南京鼓楼", "派送中"),
        ("2024-11-06T16:02:00", "南京鼓楼", "已签收"),
    )),
    _Order("20241028026", "c-1001", _C, "2024-10-28T09:20:00", _items((_SHAMPOO, 3)), _parcel(
        "中通快递", "73100135792468", "2024-10-31",
        ("2024-10-28T18:30:00", "广州", "已揽收"),
        ("2024-10-30T08:50:00", "北京朝阳", "派送中"),
        ("2024-10-30T12:40:00", "北京朝阳", "已签收"),
    )),
    _Order("20241113027", "c-1003", _S, "2024-11-13T13:30:00", _items((_POWER_BANK, 1)), _parcel(
        "圆通速递", "YT7411223344556", "2024-11-16",
        ("2024-11-14T10:00:00", "深圳宝安", "已揽收"),
    )),
    _Order("20241030028", "c-1002", _C, "2024-10-30T20:50:00", _items((_NUTS, 2)), _parcel(
        "顺丰速运", "SF1122334455", "2024-11-01",
        ("2024-10-31T09:00:00", "安徽芜湖", "已揽收"),
        ("2024-11-01T08:20:00", "上海浦东", "派送中"),
        ("2024-11-01T11:03:00", "上海浦东", "已签收"),
    )),
)

CASES: tuple[_Case, ...] = (
    _Case("AS-000119", "20241018015", CaseType.REFUND, CaseStatus.REJECTED,
          "大米包装袋有破损，申请退款", "2024-10-21T09:30:00", "2024-10-22T11:00:00"),
    _Case("AS-000120", "20241014011", CaseType.RETURN, CaseStatus.APPROVED,
          "扫地机器人无法自动回充，申请退货", "2024-10-23T15:10:00", "2024-10-26T10:00:00"),
    _Case("AS-000121", "20241022022", CaseType.EXCHANGE, CaseStatus.CLOSED,
          "尺码偏小，换大一码", "2024-10-26T20:15:00", "2024-10-31T09:00:00"),
    _Case("AS-000122", "20241025019", CaseType.REPAIR, CaseStatus.ITEM_RECEIVED,
          "左耳机没有声音", "2024-10-28T10:40:00", "2024-11-02T14:20:00"),
    _Case(CASE_REFUNDED, ORDER_COMPLETED, CaseType.REFUND, CaseStatus.REFUNDED,
          "鞋码偏小，不想要了", "2024-10-29T10:05:00", "2024-11-01T16:30:00"),
    _Case(CASE_RETURN_SUBMITTED, ORDER_DELIVERED, CaseType.RETURN, CaseStatus.SUBMITTED,
          "内胆有划痕，申请退货", "2024-11-06T10:20:00", "2024-11-06T10:20:00"),
)
# fmt: on


def _fen(price: str) -> int:
    return int(Decimal(price) * 100)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _build_order(data: _Order) -> Order:
    created_at = _time(data.created_at)
    order = Order(
        order_id=data.order_id,
        customer_id=data.customer_id,
        status=data.status,
        created_at=created_at,
        updated_at=created_at,
        currency="CNY",
        address=_ADDRESSES[data.customer_id],
        urge_count=0,
        items=[
            OrderItem(
                position=position,
                sku=item.sku,
                name=item.name,
                quantity=item.quantity,
                price_fen=_fen(item.price),
            )
            for position, item in enumerate(data.items)
        ],
    )
    if data.parcel is not None:
        order.carrier = data.parcel.carrier
        order.tracking_no = data.parcel.tracking_no
        order.eta = date.fromisoformat(data.parcel.eta)
        order.events = [
            ShippingEvent(time=_time(time), location=location, description=description)
            for time, location, description in data.parcel.events
        ]
        order.updated_at = max(event.time for event in order.events)
    return order


def _build_case(data: _Case, order: Order) -> AfterSaleCase:
    number = parse_case_id(data.case_id)
    assert number is not None, data.case_id
    refunding = data.type in (CaseType.REFUND, CaseType.RETURN)
    return AfterSaleCase(
        number=number,
        order=order,
        type=data.type,
        status=data.status,
        reason=data.reason,
        created_at=_time(data.created_at),
        updated_at=_time(data.updated_at),
        refund_amount_fen=order.total_fen if refunding else None,
    )


def is_empty(*, session: Session) -> bool:
    """Whether the database holds no order yet."""
    return session.execute(select(Order.order_id).limit(1)).first() is None


def seed(*, session: Session) -> bool:
    """Inserts the demo data when the database holds no order; returns whether it did.

    Args:
        session: The session to insert with; the caller commits.
    """
    if not is_empty(session=session):
        return False
    orders = {data.order_id: _build_order(data) for data in ORDERS}
    session.add_all(orders.values())
    cases = [_build_case(data, orders[data.order_id]) for data in CASES]
    session.add_all(cases)
    session.merge(Counter(name=CASE_COUNTER, value=max(case.number for case in cases)))
    session.flush()
    return True
