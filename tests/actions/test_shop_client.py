"""The shop client's refusals: 409 from the contract, 422 from shops that answer so."""

from __future__ import annotations

import httpx
import pytest

from actions.shop_client import Conflict, ShopClient, ShopRejected


def _client(status_code: int, body: dict) -> ShopClient:
    transport = httpx.MockTransport(lambda request: httpx.Response(status_code, json=body))
    return ShopClient("http://shop.test", transport=transport)


@pytest.mark.parametrize("status_code", [409, 422])
async def test_a_refused_case_is_a_conflict_with_the_orders_status(status_code: int) -> None:
    body = {"error": "not_eligible", "rule": "in_transit", "status": "shipped", "detail": "x"}
    async with _client(status_code, body) as shop:
        with pytest.raises(Conflict) as refusal:
            await shop.create_case(order_id="20241105001", case_type="refund", reason="x")
    assert (refusal.value.code, refusal.value.status) == ("not_eligible", "shipped")


async def test_other_client_errors_stay_rejections() -> None:
    async with _client(400, {"error": "bad_request"}) as shop:
        with pytest.raises(ShopRejected):
            await shop.get_order("20241105001")
