"""Settings for the assistant's processes, read from the environment only.

Every setting has an embedded default so that ``make run`` works with nothing
set; ``.env`` in the project root is read when present. Values are read once,
when :func:`load` is called, never at import time, so tests and replicas can
choose their own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"

DEFAULT_SHOP_PORT = 8080
DEFAULT_RASA_PORT = 5005
DEFAULT_ACTIONS_PORT = 5055
DEFAULT_SHOP_TIMEOUT_S = 3.0


class SettingsError(ValueError):
    """A setting is present but unusable."""


@dataclass(frozen=True)
class Settings:
    """The assistant's settings; see the README for each one."""

    shop_api_url: str
    shop_api_token: str | None
    shop_api_timeout_s: float
    database_url: str | None
    redis_url: str | None
    rasa_auth_token: str | None
    rasa_url: str
    demo_shop_database_url: str
    demo_shop_port: int
    rasa_port: int
    actions_port: int
    var_dir: Path


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from error
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return value


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from error


def _optional(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def load(*, read_dotenv: bool = True) -> Settings:
    """Read the settings from the environment (and ``.env`` when present)."""
    if read_dotenv and not os.environ.get("BOT_IGNORE_DOTENV"):
        load_dotenv(PROJECT_ROOT / ".env", override=False)
    var_dir = Path(os.environ.get("BOT_VAR_DIR") or VAR_DIR)
    shop_port = _int("DEMO_SHOP_PORT", DEFAULT_SHOP_PORT)
    rasa_port = _int("RASA_PORT", DEFAULT_RASA_PORT)
    return Settings(
        shop_api_url=(os.environ.get("SHOP_API_URL") or f"http://127.0.0.1:{shop_port}").rstrip(
            "/"
        ),
        shop_api_token=_optional("SHOP_API_TOKEN"),
        shop_api_timeout_s=_float("SHOP_API_TIMEOUT", DEFAULT_SHOP_TIMEOUT_S),
        database_url=_optional("DATABASE_URL"),
        redis_url=_optional("REDIS_URL"),
        rasa_auth_token=_optional("RASA_AUTH_TOKEN"),
        rasa_url=(os.environ.get("RASA_URL") or f"http://127.0.0.1:{rasa_port}").rstrip("/"),
        demo_shop_database_url=(
            os.environ.get("DEMO_SHOP_DATABASE_URL") or f"sqlite:///{var_dir / 'demo_shop.db'}"
        ),
        demo_shop_port=shop_port,
        rasa_port=rasa_port,
        actions_port=_int("ACTIONS_PORT", DEFAULT_ACTIONS_PORT),
        var_dir=var_dir,
    )
