"""The shop's order lookup for the context panel (``docs/shop-api.md``)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

logger = logging.getLogger(__name__)


class ShopClient:
    """Fetches an order (with its shipping) with a short timeout; None when unavailable."""

    def __init__(self, base_url: str, *, token: str | None, timeout_s: float = 3.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s
        )

    async def aclose(self) -> None:
        """Closes the connection pool."""
        await self._http.aclose()

    async def order(self, order_id: str) -> dict[str, Any] | None:
        """The order, or None when it is unknown or the shop does not answer."""
        try:
            response = await self._http.get(f"/orders/{quote(order_id, safe='')}")
        except httpx.HTTPError as error:
            logger.warning("shop unavailable for order %s: %r", order_id, error)
            return None
        if response.status_code != 200:
            return None
        body = response.json()
        return body if isinstance(body, dict) else None
