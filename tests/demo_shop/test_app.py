"""The demo shop over real HTTP: every route of ``docs/shop-api.md`` and every refusal.

Each test gets a fresh seeded database (SQLite, then PostgreSQL) and the real
app under uvicorn on a free port.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.settings import PROJECT_ROOT
from demo_shop import seed

ISO_CST = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")


@pytest.fixture
def http(shop_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shop_url, timeout=10) as client:
        yield client


def _error(response: httpx.Response, status_code: int) -> dict[str, Any]:
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def test_health(http: httpx.Client) -> None:
    response = http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_get_order_speaks_the_contract(http: httpx.Client) -> None:
    response = http.get(f"/orders/{seed.ORDER_SHIPPED}")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    # UTF-8 as is, not \\u escapes.
    assert "空气炸锅 4L".encode() in response.content
    order = response.json()
    assert order["order_id"] == "20241105001"
    assert order["customer_id"] == "c-1001"
    assert order["status"] == "shipped"
    assert order["created_at"] == "2024-11-05T10:12:00+08:00"
    assert order["items"] == [
        {"sku": "A-100", "name": "空气炸锅 4L", "quantity": 1, "price": "299.00"}
    ]
    assert order["total"] == "299.00"
    assert order["currency"] == "CNY"
    shipping = order["shipping"]
    assert shipping["address"]
    assert (shipping["carrier"], shipping["tracking_no"], shipping["eta"]) == (
        "顺丰速运",
        "SF1234567890",
        "2024-11-08",
    )
    assert [(e["location"], e["description"]) for e in shipping["events"]] == [
        ("上海", "已揽收"),
        ("杭州转运中心", "运输中"),
        ("北京朝阳", "派送中"),
    ]
    assert all(ISO_CST.match(event["time"]) for event in shipping["events"])


def test_unshipped_order_has_no_parcel_yet(http: httpx.Client) -> None:
    order = http.get(f"/orders/{seed.ORDER_PAID}").json()

    assert order["status"] == "paid"
    assert order["items"] == [
        {"sku": "C-330", "name": "蓝牙耳机", "quantity": 1, "price": "399.00"}
    ]
    assert order["shipping"]["carrier"] is None
    assert order["shipping"]["tracking_no"] is None
    assert order["shipping"]["eta"] is None
    assert order["shipping"]["events"] == []


def test_jd_order_total_counts_quantities(http: httpx.Client) -> None:
    order = http.get(f"/orders/{seed.ORDER_SHIPPED_JD}").json()

    assert order["items"][0]["quantity"] == 2
    assert order["items"][0]["price"] == "159.00"
    assert order["total"] == "318.00"
    assert order["shipping"]["carrier"] == "京东物流"
    assert order["shipping"]["tracking_no"] == "JDX000123456789"
    assert order["shipping"]["events"]


def test_unknown_order_is_404(http: httpx.Client) -> None:
    assert _error(http.get("/orders/20990101999"), 404) == {"error": "order_not_found"}


def test_customer_orders_newest_first(http: httpx.Client) -> None:
    response = http.get("/orders", params={"customer_id": "c-1001"})

    assert response.status_code == 200
    orders = response.json()["orders"]
    ids = [order["order_id"] for order in orders]
    assert {seed.ORDER_SHIPPED, seed.ORDER_PAID, seed.ORDER_DELIVERED} <= set(ids)
    assert all(order["customer_id"] == "c-1001" for order in orders)
    created = [order["created_at"] for order in orders]
    assert created == sorted(created, reverse=True)


def test_unknown_customer_has_no_orders(http: httpx.Client) -> None:
    response = http.get("/orders", params={"customer_id": "c-9999"})
    assert response.status_code == 200
    assert response.json() == {"orders": []}


def test_customer_id_is_required(http: httpx.Client) -> None:
    body = _error(http.get("/orders"), 400)
    assert body["error"] == "bad_request"
    assert "customer_id" in body["detail"]


@pytest.mark.parametrize("order_id", [seed.ORDER_PAID, seed.ORDER_PENDING_PAYMENT])
def test_cancel_before_shipping(http: httpx.Client, order_id: str) -> None:
    response = http.post(f"/orders/{order_id}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert http.get(f"/orders/{order_id}").json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("order_id", "status"),
    [
        (seed.ORDER_SHIPPED, "shipped"),
        (seed.ORDER_DELIVERED, "delivered"),
        (seed.ORDER_COMPLETED, "completed"),
        (seed.ORDER_CANCELLED, "cancelled"),
    ],
)
def test_cancel_refused_once_shipped(http: httpx.Client, order_id: str, status: str) -> None:
    body = _error(http.post(f"/orders/{order_id}/cancel"), 409)

    assert body == {"error": "not_cancellable", "status": status}
    assert http.get(f"/orders/{order_id}").json()["status"] == status


def test_cancel_unknown_order_is_404(http: httpx.Client) -> None:
    assert _error(http.post("/orders/20990101999/cancel"), 404) == {"error": "order_not_found"}


def test_change_address_before_shipping(http: httpx.Client) -> None:
    address = "上海市徐汇区漕溪北路398号 2号楼1201室"
    response = http.post(f"/orders/{seed.ORDER_PAID}/address", json={"address": address})

    assert response.status_code == 200
    assert response.json()["shipping"]["address"] == address
    assert http.get(f"/orders/{seed.ORDER_PAID}").json()["shipping"]["address"] == address


def test_change_address_refused_once_shipped(http: httpx.Client) -> None:
    before = http.get(f"/orders/{seed.ORDER_SHIPPED}").json()["shipping"]["address"]

    response = http.post(f"/orders/{seed.ORDER_SHIPPED}/address", json={"address": "别处"})

    assert _error(response, 409) == {"error": "address_locked", "status": "shipped"}
    assert http.get(f"/orders/{seed.ORDER_SHIPPED}").json()["shipping"]["address"] == before


def test_change_address_of_unknown_order_is_404(http: httpx.Client) -> None:
    response = http.post("/orders/20990101999/address", json={"address": "北京市"})
    assert _error(response, 404) == {"error": "order_not_found"}


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b'{"address": "unterminated', "JSON"),
        (b"\xff\xfe not utf-8", "JSON"),
        (b"", "JSON"),
        (b'["a list"]', "object"),
        (b"{}", "address"),
        (b'{"address": 42}', "address"),
        (b'{"address": "   "}', "address"),
    ],
)
def test_bad_address_body_is_400(http: httpx.Client, content: bytes, detail: str) -> None:
    response = http.post(
        f"/orders/{seed.ORDER_PAID}/address",
        content=content,
        headers={"content-type": "application/json"},
    )
    body = _error(response, 400)
    assert body["error"] == "bad_request"
    assert detail in body["detail"]


def test_urge_is_accepted(http: httpx.Client) -> None:
    response = http.post(f"/orders/{seed.ORDER_PAID}/urge")

    assert response.status_code == 202
    body = response.json()
    assert body["order_id"] == seed.ORDER_PAID
    assert ISO_CST.match(body["urged_at"])


def test_urge_unknown_order_is_404(http: httpx.Client) -> None:
    assert _error(http.post("/orders/20990101999/urge"), 404) == {"error": "order_not_found"}


def test_open_cases_get_sequential_ids(http: httpx.Client) -> None:
    refund = http.post(
        "/after-sales",
        json={"order_id": seed.ORDER_DELIVERED_C1003, "type": "refund", "reason": "不合身"},
    )
    exchange = http.post(
        "/after-sales",
        json={"order_id": seed.ORDER_DELIVERED, "type": "exchange", "reason": "颜色不对"},
    )

    assert refund.status_code == 201, refund.text
    assert exchange.status_code == 201, exchange.text
    first, second = refund.json(), exchange.json()
    assert first["case_id"] == "AS-000125"
    assert second["case_id"] == "AS-000126"
    assert first["order_id"] == seed.ORDER_DELIVERED_C1003
    assert first["type"] == "refund"
    assert first["status"] == "submitted"
    assert first["reason"] == "不合身"
    assert first["refund_amount"] == "699.00"
    assert ISO_CST.match(first["created_at"]) and first["updated_at"] == first["created_at"]
    assert second["refund_amount"] is None
    assert b'"refund_amount":null' in exchange.content
    assert http.get(f"/after-sales/{first['case_id']}").json() == first


@pytest.mark.parametrize(
    ("order_id", "case_type"),
    [
        (seed.ORDER_PENDING_PAYMENT, "return"),
        (seed.ORDER_PENDING_PAYMENT, "refund"),
        (seed.ORDER_CANCELLED, "return"),
        (seed.ORDER_CANCELLED, "repair"),
    ],
)
def test_case_refused_on_unpaid_or_cancelled_order(
    http: httpx.Client, order_id: str, case_type: str
) -> None:
    response = http.post(
        "/after-sales", json={"order_id": order_id, "type": case_type, "reason": "不想要了"}
    )
    body = _error(response, 409)
    assert body["error"] == "not_eligible"
    assert body["rule"] in ("not_paid", "cancelled")
    assert order_id in body["detail"]


@pytest.mark.parametrize(
    ("order_id", "case_type", "rule"),
    [
        (seed.ORDER_PAID_C1002, "refund", "cancel_instead"),
        (seed.ORDER_PAID_C1002, "exchange", "not_delivered"),
        (seed.ORDER_SHIPPED, "refund", "in_transit"),
        (seed.ORDER_SHIPPED, "repair", "not_delivered"),
    ],
)
def test_case_refused_before_delivery_with_its_rule(
    http: httpx.Client, order_id: str, case_type: str, rule: str
) -> None:
    response = http.post(
        "/after-sales", json={"order_id": order_id, "type": case_type, "reason": "不想要了"}
    )
    body = _error(response, 409)
    status = http.get(f"/orders/{order_id}").json()["status"]
    assert (body["error"], body["rule"], body["status"]) == ("not_eligible", rule, status)
    assert http.get("/after-sales", params={"order_id": order_id}).json()["cases"] == []


def test_second_refund_refused_while_one_is_open(http: httpx.Client) -> None:
    case = {"order_id": "20241109012", "type": "refund", "reason": "不想要了"}
    first = http.post("/after-sales", json=case)
    assert first.status_code == 201

    body = _error(http.post("/after-sales", json=case), 409)

    assert (body["error"], body["rule"]) == ("not_eligible", "refund_open")
    assert first.json()["case_id"] in body["detail"]


def test_case_on_unknown_order_is_404(http: httpx.Client) -> None:
    response = http.post(
        "/after-sales", json={"order_id": "20990101999", "type": "return", "reason": "坏了"}
    )
    assert _error(response, 404) == {"error": "order_not_found"}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"order_id": seed.ORDER_DELIVERED, "type": "upgrade", "reason": "x"}, "type"),
        ({"order_id": seed.ORDER_DELIVERED, "reason": "x"}, "type"),
        ({"order_id": seed.ORDER_DELIVERED, "type": "return"}, "reason"),
        ({"type": "return", "reason": "x"}, "order_id"),
        ({"order_id": 20241101004, "type": "return", "reason": "x"}, "order_id"),
    ],
)
def test_bad_case_body_is_400(http: httpx.Client, body: dict[str, Any], detail: str) -> None:
    error = _error(http.post("/after-sales", json=body), 400)
    assert error["error"] == "bad_request"
    assert detail in error["detail"]


def test_malformed_case_json_is_400(http: httpx.Client) -> None:
    response = http.post(
        "/after-sales", content=b"{order_id: 1}", headers={"content-type": "application/json"}
    )
    assert _error(response, 400)["error"] == "bad_request"


def test_get_seeded_case(http: httpx.Client) -> None:
    response = http.get(f"/after-sales/{seed.CASE_REFUNDED}")

    assert response.status_code == 200
    case = response.json()
    assert case["case_id"] == "AS-000123"
    assert case["order_id"] == seed.ORDER_COMPLETED
    assert case["type"] == "refund"
    assert case["status"] == "refunded"
    total = http.get(f"/orders/{seed.ORDER_COMPLETED}").json()["total"]
    assert case["refund_amount"] == total
    assert ISO_CST.match(case["created_at"]) and ISO_CST.match(case["updated_at"])


@pytest.mark.parametrize("case_id", ["AS-999999", "AS-", "nonsense", "AS-99999999999999"])
def test_unknown_case_is_404(http: httpx.Client, case_id: str) -> None:
    assert _error(http.get(f"/after-sales/{case_id}"), 404) == {"error": "case_not_found"}


def test_cases_of_an_order(http: httpx.Client) -> None:
    response = http.get("/after-sales", params={"order_id": seed.ORDER_DELIVERED})

    assert response.status_code == 200
    cases = response.json()["cases"]
    assert [case["case_id"] for case in cases] == [seed.CASE_RETURN_SUBMITTED]
    assert cases[0]["type"] == "return"
    assert cases[0]["status"] == "submitted"


def test_order_without_cases(http: httpx.Client) -> None:
    response = http.get("/after-sales", params={"order_id": seed.ORDER_PAID})
    assert response.status_code == 200
    assert response.json() == {"cases": []}


def test_cases_of_unknown_order_is_404(http: httpx.Client) -> None:
    response = http.get("/after-sales", params={"order_id": "20990101999"})
    assert _error(response, 404) == {"error": "order_not_found"}


def test_cases_need_an_order_id(http: httpx.Client) -> None:
    assert _error(http.get("/after-sales"), 400)["error"] == "bad_request"


def test_body_over_16_kib_is_413(http: httpx.Client) -> None:
    address = "北" * 6000  # 18,000 bytes in UTF-8
    response = http.post(f"/orders/{seed.ORDER_PAID}/address", json={"address": address})

    assert _error(response, 413) == {"error": "payload_too_large"}
    assert http.get(f"/orders/{seed.ORDER_PAID}").json()["shipping"]["address"] != address


def test_streamed_body_over_16_kib_is_413(http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"order_id": "20241101004", "type": "return", "reason": "'
        for _ in range(20):
            yield b"x" * 1024
        yield b'"}'

    # No Content-Length: the limit must hold while reading the stream.
    response = http.post("/after-sales", content=chunks())

    assert _error(response, 413) == {"error": "payload_too_large"}


def test_unknown_route_and_method_are_json(http: httpx.Client) -> None:
    assert _error(http.get("/nowhere"), 404) == {"error": "not_found"}
    assert _error(http.delete(f"/orders/{seed.ORDER_PAID}"), 405) == {"error": "method_not_allowed"}


def test_token_is_required_when_configured(database_url: str, start_shop: Any) -> None:
    with start_shop(database_url=database_url, token="s3cret-token") as url:
        path = f"{url}/orders/{seed.ORDER_SHIPPED}"
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": "Basic s3cret-token"},
            {"Authorization": "Bearer"},
        ):
            response = httpx.get(path, headers=headers)
            assert _error(response, 401) == {"error": "unauthorized"}
        cancel = httpx.post(f"{url}/orders/{seed.ORDER_PAID}/cancel")
        assert _error(cancel, 401) == {"error": "unauthorized"}

        authorized = httpx.get(path, headers={"Authorization": "Bearer s3cret-token"})
        assert authorized.status_code == 200
        assert authorized.json()["order_id"] == seed.ORDER_SHIPPED
        assert httpx.get(f"{url}/health").status_code == 200
        # The refused cancel changed nothing.
        paid = httpx.get(
            f"{url}/orders/{seed.ORDER_PAID}", headers={"Authorization": "Bearer s3cret-token"}
        )
        assert paid.json()["status"] == "paid"


def test_module_entry_point_resets_and_serves(tmp_path: Path, start_shop: Any) -> None:
    database_url = f"sqlite:///{tmp_path / 'var' / 'demo_shop.db'}"
    # A changed database, which --reset must restore.
    with start_shop(database_url=database_url) as url:
        assert httpx.post(f"{url}/orders/{seed.ORDER_PAID}/cancel").status_code == 200
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SHOP_", "DEMO_SHOP_"))},
        "BOT_IGNORE_DOTENV": "1",
        "BOT_VAR_DIR": str(tmp_path / "var"),
        "DEMO_SHOP_DATABASE_URL": database_url,
        "DEMO_SHOP_PORT": str(port),
        "SHOP_API_TOKEN": "from-env",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "demo_shop", "--reset"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for_health(base, process)
        headers = {"Authorization": "Bearer from-env"}
        order = httpx.get(f"{base}/orders/{seed.ORDER_PAID}", headers=headers)
        assert order.status_code == 200
        assert order.json()["status"] == "paid"
        assert httpx.get(f"{base}/orders/{seed.ORDER_PAID}").status_code == 401
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    # uvicorn shuts down cleanly, then re-raises SIGTERM so the exit status tells why.
    assert process.returncode in (0, -signal.SIGTERM), output.decode(errors="replace")
    assert b"Application shutdown complete" in output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_health(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise AssertionError(f"python -m demo_shop exited:\n{output}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("python -m demo_shop did not answer /health in 30 s")
