"""A thin client for the shop backend (see ``docs/shop-api.md``).

The assistant never owns orders: every fact it tells a customer comes from
here. Failures are mapped onto a small error tree so that actions can tell a
missing order from a shop that is down, and never invent data.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from bot.settings import Settings


class ShopError(Exception):
    """Base class of everything the shop client raises."""


class ShopUnavailable(ShopError):
    """The shop timed out, failed (5xx) or could not be reached."""


class NotFound(ShopError):
    """The order or after-sales case does not exist (404)."""


class Conflict(ShopError):
    """The shop refused the change in the order's current state (409 or 422)."""

    def __init__(self, code: str, status: str | None, detail: str | None) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.detail = detail


class ShopRejected(ShopError):
    """Any other refusal (4xx): a bug on our side or a misconfigured token."""


Json = dict[str, Any]


class ShopClient:
    """Calls the shop's HTTP API; one instance per action run.

    Args:
        base_url: Root URL of the shop API.
        token: Bearer token, sent when set.
        timeout_s: Total time allowed for one request, connection included.
        transport: An httpx transport, for tests that need one.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_s: float = 3.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._timeout_s = timeout_s
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=timeout_s,
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> ShopClient:
        """Builds a client from the assistant's settings."""
        return cls(
            settings.shop_api_url,
            token=settings.shop_api_token,
            timeout_s=settings.shop_api_timeout_s,
        )

    async def __aenter__(self) -> ShopClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.aclose()

    async def get_order(self, order_id: str) -> Json:
        """Returns the order, or raises :class:`NotFound`."""
        return await self._call("GET", f"/orders/{order_id}")

    async def cancel_order(self, order_id: str) -> Json:
        """Cancels the order; :class:`Conflict` once it has shipped."""
        return await self._call("POST", f"/orders/{order_id}/cancel")

    async def change_address(self, order_id: str, address: str) -> Json:
        """Changes the delivery address; :class:`Conflict` once shipped."""
        return await self._call("POST", f"/orders/{order_id}/address", json={"address": address})

    async def urge_shipment(self, order_id: str) -> Json:
        """Asks the warehouse to hurry an order."""
        return await self._call("POST", f"/orders/{order_id}/urge")

    async def create_case(self, *, order_id: str, case_type: str, reason: str) -> Json:
        """Opens an after-sales case (refund, return, exchange or repair)."""
        body = {"order_id": order_id, "type": case_type, "reason": reason}
        return await self._call("POST", "/after-sales", json=body)

    async def get_case(self, case_id: str) -> Json:
        """Returns one after-sales case, or raises :class:`NotFound`."""
        return await self._call("GET", f"/after-sales/{case_id}")

    async def list_cases(self, order_id: str) -> list[Json]:
        """Returns the after-sales cases of an order."""
        body = await self._call("GET", "/after-sales", params={"order_id": order_id})
        cases: list[Json] = body.get("cases", [])
        return cases

    async def _call(self, method: str, path: str, **kwargs: Any) -> Json:
        try:
            # httpx's timeout applies per phase; the customer waits for the
            # whole request, so bound that too.
            response = await asyncio.wait_for(
                self._http.request(method, path, **kwargs), timeout=self._timeout_s
            )
        except (httpx.TransportError, asyncio.TimeoutError) as error:
            raise ShopUnavailable(f"{method} {path}: {error!r}") from error
        if response.status_code >= 500:
            raise ShopUnavailable(f"{method} {path}: HTTP {response.status_code}")
        try:
            body: Json = response.json()
        except ValueError as error:
            raise ShopUnavailable(f"{method} {path}: body is not JSON") from error
        if response.status_code == 404:
            raise NotFound(body.get("error", "not_found"))
        # 409 is the contract's refusal; some shops answer a rule they
        # enforce with 422, which means the same to the customer.
        if response.status_code in (409, 422):
            raise Conflict(body.get("error", "conflict"), body.get("status"), body.get("detail"))
        if response.status_code >= 400:
            raise ShopRejected(f"{method} {path}: HTTP {response.status_code} {body}")
        return body
