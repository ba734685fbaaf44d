"""The handoff service's settings, read from the environment (and ``.env``) only.

In development (``HANDOFF_ENV`` unset) the two secrets default to files under
``var/secrets/`` created on first use with mode 600, so the Rasa side and the
service agree without configuration. In production missing or placeholder
secrets stop the service with a clear error.
"""

from __future__ import annotations

from datetime import time
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from handoff.errors import SettingsError
from handoff.secret_checks import (
    MIN_SECRET_KEY_LENGTH,
    MIN_SERVICE_TOKEN_LENGTH,
    dev_secret,
    is_low_entropy,
    is_placeholder,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting of the service; the README lists them with their defaults."""

    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    handoff_env: Literal["development", "production"] = "development"
    handoff_host: str = "127.0.0.1"
    handoff_port: int = 8000
    handoff_database_url: str | None = None
    database_url: str | None = None
    redis_url: str | None = None
    handoff_redis_prefix: str = "handoff:"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_auth_token: SecretStr | None = None
    rasa_timeout_s: float = Field(default=10.0, gt=0)
    handoff_service_token: SecretStr | None = None
    handoff_secret_key: SecretStr | None = None
    handoff_bootstrap_admin: SecretStr | None = None
    handoff_business_hours: str = "09:00-21:00"
    handoff_timezone: str = "Asia/Shanghai"
    handoff_wait_alert_s: int = Field(default=300, gt=0)
    handoff_target_alert_h: float = Field(default=1.0, gt=0, le=168)
    handoff_report_weekday: int = Field(default=0, ge=0, le=6)
    handoff_report_hour: int = Field(default=9, ge=0, le=23)
    handoff_csat_window_s: int = Field(default=600, gt=0)
    handoff_session_ttl_s: int = Field(default=12 * 3600, gt=0)
    handoff_login_attempts: int = Field(default=5, gt=0)
    handoff_require_2fa: Literal["off", "admin"] = "off"
    handoff_login_window_s: int = Field(default=300, gt=0)
    handoff_login_address_attempts: int = Field(default=20, gt=0)
    handoff_login_global_attempts: int = Field(default=300, gt=0)
    handoff_login_workers: int = Field(default=1, gt=0, le=64)
    handoff_login_queue: int = Field(default=8, ge=0)
    handoff_trusted_proxies: str = ""
    shop_api_url: str | None = None
    shop_api_token: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_channel: str | None = None
    slack_api_url: str | None = None
    bot_var_dir: Path = PROJECT_ROOT / "var"
    handoff_domain_path: Path = PROJECT_ROOT / "domain.yml"
    handoff_sweep_interval_s: float = Field(default=15.0, gt=0)
    handoff_max_body_bytes: int = Field(default=1_000_000, gt=0)
    handoff_tracker_store_url: str | None = None
    handoff_registry_url: str | None = None
    handoff_labels_file: Path | None = None
    bot_retrain_project: Path | None = None
    handoff_retention_days: int | None = Field(default=None, gt=0)
    tracker_retention_days: int | None = Field(default=None, gt=0)
    handoff_retention_interval_s: float = Field(default=86400.0, gt=0)
    handoff_send_attempts: int = Field(default=3, ge=1, le=10)
    handoff_send_backoff_s: float = Field(default=0.5, ge=0, le=30)
    rabbitmq_url: str | None = None
    event_broker_url: str | None = None
    event_queue: str = "shop-assistant-events"
    event_exchange: str = "shop-assistant-events"

    @field_validator(
        "handoff_database_url",
        "database_url",
        "redis_url",
        "rabbitmq_url",
        "event_broker_url",
        "shop_api_url",
        "slack_channel",
        "slack_api_url",
        "handoff_tracker_store_url",
        "handoff_registry_url",
        "handoff_labels_file",
        "bot_retrain_project",
        "handoff_retention_days",
        "tracker_retention_days",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "rasa_auth_token",
        "handoff_service_token",
        "handoff_secret_key",
        "handoff_bootstrap_admin",
        "shop_api_token",
        "slack_bot_token",
        "slack_signing_secret",
        mode="before",
    )
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("handoff_trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator("handoff_business_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        parse_business_hours(value)
        return value

    @property
    def production(self) -> bool:
        """True when placeholder or generated secrets are not acceptable."""
        return self.handoff_env == "production"

    @property
    def event_stream_url(self) -> str | None:
        """The RabbitMQ event stream to consume (``RABBITMQ_URL``, else ``EVENT_BROKER_URL``)."""
        return self.rabbitmq_url or self.event_broker_url

    @property
    def database(self) -> str:
        """The SQLAlchemy URL (async driver) of the service's database."""
        return async_database_url(
            self.handoff_database_url
            or self.database_url
            or f"sqlite:///{self.bot_var_dir / 'handoff.sqlite3'}"
        )

    @property
    def tracker_store(self) -> str:
        """The SQLAlchemy URL (async driver) of Rasa's SQL tracker store.

        The same default as ``bot/runtime/serve.py``: ``DATABASE_URL``, else
        ``var/rasa.db``.
        """
        return async_database_url(
            self.handoff_tracker_store_url
            or self.database_url
            or f"sqlite:///{self.bot_var_dir / 'rasa.db'}"
        )

    @property
    def registry(self) -> str:
        """The model registry's database (``bot/training/registry.py``'s default)."""
        return async_database_url(
            self.handoff_registry_url
            or self.database_url
            or f"sqlite:///{self.bot_var_dir / 'registry.db'}"
        )

    @property
    def labels_file(self) -> Path:
        """``data/nlu/annotations.yml`` of the checkout ``bot retrain`` writes to."""
        project = self.bot_retrain_project or PROJECT_ROOT
        return self.handoff_labels_file or project / "data" / "nlu" / "annotations.yml"

    @property
    def tracker_retention(self) -> int | None:
        """Days Rasa's tracker store keeps an idle conversation (default: the service's)."""
        return self.tracker_retention_days or self.handoff_retention_days

    @property
    def business_hours(self) -> tuple[time, time]:
        """Opening and closing time, local to ``handoff_timezone``."""
        return parse_business_hours(self.handoff_business_hours)

    @property
    def trusted_proxies(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """Peers whose ``X-Forwarded-For`` is believed."""
        return parse_networks(self.handoff_trusted_proxies)

    @property
    def slack_enabled(self) -> bool:
        """Slack is on only when all three of its settings are present."""
        return bool(self.slack_bot_token and self.slack_signing_secret and self.slack_channel)

    @property
    def secrets_dir(self) -> Path:
        """Where development secrets are kept (mode 600 files)."""
        return self.bot_var_dir / "secrets"

    def service_token(self) -> str:
        """The shared secret of ``/api/internal/*`` and the connectors' outbound routes."""
        assert self.handoff_service_token is not None, "call load_settings() first"
        return self.handoff_service_token.get_secret_value()

    def secret_key(self) -> str:
        """The key signing session cookies and bearer tokens."""
        assert self.handoff_secret_key is not None, "call load_settings() first"
        return self.handoff_secret_key.get_secret_value()


def parse_business_hours(value: str) -> tuple[time, time]:
    """Parses ``HH:MM-HH:MM``; raises :class:`SettingsError` otherwise."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError as error:
        raise SettingsError(
            f"HANDOFF_BUSINESS_HOURS must look like 09:00-21:00, got {value!r}"
        ) from error
    return start, end


def parse_networks(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Comma-separated addresses or CIDR blocks; raises :class:`SettingsError` otherwise."""
    try:
        return tuple(
            ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()
        )
    except ValueError as error:
        raise SettingsError(
            f"HANDOFF_TRUSTED_PROXIES must list addresses or networks, got {value!r}"
        ) from error


def async_database_url(url: str) -> str:
    """Maps a plain database URL onto the async driver the service uses."""
    for plain, driver in (
        ("postgresql://", "postgresql+psycopg://"),
        ("postgres://", "postgresql+psycopg://"),
        ("postgresql+psycopg2://", "postgresql+psycopg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def load_settings(**overrides: object) -> Settings:
    """Reads the settings; fills development secrets or refuses unsafe production ones.

    Raises:
        SettingsError: in production, a secret is missing or a placeholder.
    """
    settings = Settings(**overrides)  # type: ignore[arg-type]
    required = {
        "HANDOFF_SERVICE_TOKEN": (settings.handoff_service_token, MIN_SERVICE_TOKEN_LENGTH),
        "HANDOFF_SECRET_KEY": (settings.handoff_secret_key, MIN_SECRET_KEY_LENGTH),
    }
    if settings.production:
        problems = [
            f"{name} is missing"
            if value is None
            else f"{name} is a placeholder or shorter than {length} characters"
            for name, (value, length) in required.items()
            if value is None or is_placeholder(value.get_secret_value(), length)
        ]
        problems += [
            f"{name} looks hand-made (too few distinct characters or bits)"
            for name, (value, _) in required.items()
            if value is not None and is_low_entropy(value.get_secret_value())
        ]
        values = [value.get_secret_value() for value, _ in required.values() if value]
        if len(values) == 2 and values[0] == values[1]:
            problems.append("HANDOFF_SERVICE_TOKEN and HANDOFF_SECRET_KEY are the same")
        if problems:
            raise SettingsError(
                "refusing to start in production: "
                + "; ".join(problems)
                + " (generate one with: python -c "
                "'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return settings
    updates: dict[str, SecretStr] = {}
    if settings.handoff_service_token is None:
        updates["handoff_service_token"] = dev_secret(settings.secrets_dir, "handoff_service_token")
    if settings.handoff_secret_key is None:
        updates["handoff_secret_key"] = dev_secret(settings.secrets_dir, "handoff_secret_key")
    return settings.model_copy(update=updates) if updates else settings
