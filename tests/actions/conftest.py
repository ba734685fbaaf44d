"""Actions run against a real demo shop on a fresh database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.shop import running_shop


@pytest.fixture(scope="module")
def shop_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = Path(tmp_path_factory.mktemp("shop")) / "shop.db"
    with running_shop(database_url=f"sqlite:///{database}") as url:
        yield url


@pytest.fixture
def shop(shop_url: str, monkeypatch: pytest.MonkeyPatch) -> httpx.Client:
    """Points the actions at the demo shop; returns a client to check its state."""
    monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
    monkeypatch.setenv("SHOP_API_URL", shop_url)
    monkeypatch.delenv("SHOP_API_TOKEN", raising=False)
    return httpx.Client(base_url=shop_url, timeout=5)


@pytest.fixture
def use_shop(monkeypatch: pytest.MonkeyPatch):
    """Points the actions at another shop (a failing or hanging one)."""

    def point_at(url: str, timeout_s: float = 3.0) -> None:
        monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
        monkeypatch.setenv("SHOP_API_URL", url)
        monkeypatch.setenv("SHOP_API_TIMEOUT", str(timeout_s))

    return point_at
