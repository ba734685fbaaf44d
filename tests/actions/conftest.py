"""Actions run against a real demo shop on a fresh database, and a recording handoff service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.handoff_api import HandoffApi, running_handoff_api
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


@pytest.fixture(scope="module")
def _handoff_server() -> Iterator[HandoffApi]:
    with running_handoff_api() as api:
        yield api


@pytest.fixture(autouse=True)
def handoff_api(
    _handoff_server: HandoffApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> HandoffApi:
    """Points every action at a recording stand-in of the handoff service.

    Each test starts with nothing recorded and the default answer: in the
    queue, second, about four minutes.
    """
    monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
    monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("HANDOFF_URL", _handoff_server.url)
    monkeypatch.setenv("HANDOFF_SERVICE_TOKEN", _handoff_server.token)
    monkeypatch.delenv("HANDOFF_TIMEOUT", raising=False)
    monkeypatch.delenv("HANDOFF_ENV", raising=False)
    _handoff_server.requests.clear()
    _handoff_server._answers.clear()
    return _handoff_server
