"""Settings for the assistant's processes, read from the environment only.

Every setting has an embedded default so that ``make run`` works with nothing
set; ``.env`` in the project root is read when present. Values are read once,
when :func:`load` is called, never at import time, so tests and replicas can
choose their own.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"

DEFAULT_SHOP_PORT = 8080
DEFAULT_RASA_PORT = 5005
DEFAULT_ACTIONS_PORT = 5055
DEFAULT_SHOP_TIMEOUT_S = 3.0
DEFAULT_HANDOFF_URL = "http://127.0.0.1:8000"
DEFAULT_HANDOFF_TIMEOUT_S = 3.0
# The escalation ladder: unhelpful bot turns in a row before a person is
# offered, and before the conversation is handed off (0 turns a step off).
DEFAULT_ESCALATION_OFFER_AFTER = 2
DEFAULT_ESCALATION_HANDOFF_AFTER = 3
DEFAULT_EVENT_QUEUE = "shop-assistant-events"
DEFAULT_ACTION_TIMEOUT_S = 10.0
# Shared by the Rasa side and the handoff service when HANDOFF_SERVICE_TOKEN
# is unset in development, so both agree on one machine with nothing set.
SERVICE_TOKEN_FILE = Path("secrets") / "handoff_service_token"
_PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "password", "token"})


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
    handoff_url: str = DEFAULT_HANDOFF_URL
    handoff_service_token: str | None = None
    handoff_timeout_s: float = DEFAULT_HANDOFF_TIMEOUT_S
    production: bool = False
    escalation_offer_after: int = DEFAULT_ESCALATION_OFFER_AFTER
    escalation_handoff_after: int = DEFAULT_ESCALATION_HANDOFF_AFTER
    event_broker_url: str | None = None
    event_queue: str = DEFAULT_EVENT_QUEUE
    event_exchange: str = DEFAULT_EVENT_QUEUE
    action_timeout_s: float = DEFAULT_ACTION_TIMEOUT_S
    privacy_notice_url: str | None = None


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


def _steps(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 0:
        raise SettingsError(f"{name} must be 0 (off) or more, got {value}")
    return value


def _optional(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _http_url(name: str) -> str | None:
    value = _optional(name)
    if value is not None and not value.lower().startswith(("https://", "http://")):
        raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def _production() -> bool:
    environment = (os.environ.get("HANDOFF_ENV") or "development").strip().lower()
    if environment not in ("development", "production"):
        raise SettingsError(f"HANDOFF_ENV must be development or production, got {environment!r}")
    return environment == "production"


def _service_token(production: bool) -> str | None:
    token = _optional("HANDOFF_SERVICE_TOKEN")
    if production and (token is None or token.lower() in _PLACEHOLDER_SECRETS):
        raise SettingsError("HANDOFF_SERVICE_TOKEN must be set to a real secret in production")
    return token


def load(*, read_dotenv: bool = True) -> Settings:
    """Read the settings from the environment (and ``.env`` when present)."""
    if read_dotenv and not os.environ.get("BOT_IGNORE_DOTENV"):
        load_dotenv(PROJECT_ROOT / ".env", override=False)
    var_dir = Path(os.environ.get("BOT_VAR_DIR") or VAR_DIR)
    shop_port = _int("DEMO_SHOP_PORT", DEFAULT_SHOP_PORT)
    rasa_port = _int("RASA_PORT", DEFAULT_RASA_PORT)
    production = _production()
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
        handoff_url=(os.environ.get("HANDOFF_URL") or DEFAULT_HANDOFF_URL).rstrip("/"),
        handoff_service_token=_service_token(production),
        handoff_timeout_s=_float("HANDOFF_TIMEOUT", DEFAULT_HANDOFF_TIMEOUT_S),
        production=production,
        escalation_offer_after=_steps("ESCALATION_OFFER_AFTER", DEFAULT_ESCALATION_OFFER_AFTER),
        escalation_handoff_after=_steps(
            "ESCALATION_HANDOFF_AFTER", DEFAULT_ESCALATION_HANDOFF_AFTER
        ),
        event_broker_url=_optional("RABBITMQ_URL") or _optional("EVENT_BROKER_URL"),
        event_queue=_optional("EVENT_QUEUE") or DEFAULT_EVENT_QUEUE,
        event_exchange=_optional("EVENT_EXCHANGE") or DEFAULT_EVENT_QUEUE,
        action_timeout_s=_float("ACTION_TIMEOUT", DEFAULT_ACTION_TIMEOUT_S),
        privacy_notice_url=_http_url("PRIVACY_NOTICE_URL"),
    )


def sqlalchemy_url(url: str) -> str:
    """A database URL in SQLAlchemy 1.4's spelling (``postgres://`` is ``postgresql://``)."""
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    return url


def database_url(settings: Settings, sqlite_file: str) -> str:
    """``DATABASE_URL`` for SQLAlchemy, else the SQLite file ``<var dir>/<sqlite_file>``."""
    if settings.database_url:
        return sqlalchemy_url(settings.database_url)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{settings.var_dir / sqlite_file}"


def service_token(settings: Settings) -> str:
    """The secret shared with the handoff service (``HANDOFF_SERVICE_TOKEN``).

    When it is unset in development, it is read from
    ``<BOT_VAR_DIR>/secrets/handoff_service_token``, which is created (mode
    600) with a random token when missing; the handoff service does the same,
    so both sides agree on one machine with nothing configured.

    Raises:
        SettingsError: Unset in production (``HANDOFF_ENV=production``).
    """
    if settings.handoff_service_token:
        return settings.handoff_service_token
    if settings.production:
        raise SettingsError("HANDOFF_SERVICE_TOKEN must be set in production")
    return _read_or_create_secret(settings.var_dir / SERVICE_TOKEN_FILE)


_SECRET_READ_ATTEMPTS = 50


def _read_or_create_secret(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written aside, then linked into place: linking fails when another
        # process won the race, and nobody ever reads a half-written file.
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(secrets.token_urlsafe(32) + "\n")
            try:
                os.link(draft, path)
            except FileExistsError:
                pass
        finally:
            draft.unlink(missing_ok=True)
    for _ in range(_SECRET_READ_ATTEMPTS):
        # A writer that does not link (the service's) may not have written yet.
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
        time.sleep(0.02)
    raise SettingsError(f"{path} is empty; delete it or set HANDOFF_SERVICE_TOKEN")
