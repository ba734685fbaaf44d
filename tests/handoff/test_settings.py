"""Settings: defaults, development secret files, production refusals."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

import pytest

from handoff.errors import SettingsError
from handoff.settings import load_settings

SAME_SECRET = secrets.token_urlsafe(32)


def _clean(tmp_path: Path, **values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "_env_file": None,
        "bot_var_dir": tmp_path,
        "handoff_database_url": None,
        "database_url": None,
        "handoff_service_token": None,
        "handoff_secret_key": None,
        "handoff_env": "development",
    }
    base.update(values)
    return base


def test_development_creates_secret_files_with_mode_600(tmp_path: Path) -> None:
    first = load_settings(**_clean(tmp_path))
    second = load_settings(**_clean(tmp_path))
    token_file = tmp_path / "secrets" / "handoff_service_token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "secrets" / "handoff_secret_key").stat().st_mode) == 0o600
    assert first.service_token() == second.service_token() == token_file.read_text().strip()
    assert len(first.secret_key()) >= 32
    assert first.database == f"sqlite+aiosqlite:///{tmp_path / 'handoff.sqlite3'}"


def test_database_url_fallback_and_driver(tmp_path: Path) -> None:
    fallback = load_settings(**_clean(tmp_path, database_url="postgresql://u@db:5432/rasa"))
    assert fallback.database == "postgresql+psycopg://u@db:5432/rasa"
    own = load_settings(
        **_clean(
            tmp_path,
            database_url="postgresql://u@db/rasa",
            handoff_database_url="postgresql://u@db/handoff",
        )
    )
    assert own.database == "postgresql+psycopg://u@db/handoff"


@pytest.mark.parametrize("secret", [None, "changeme", "CHANGEME-please", "short"])
def test_production_refuses_missing_or_placeholder_secrets(
    tmp_path: Path, secret: str | None
) -> None:
    with pytest.raises(SettingsError, match="refusing to start in production"):
        load_settings(
            **_clean(
                tmp_path,
                handoff_env="production",
                handoff_service_token="s" * 40,
                handoff_secret_key=secret,
            )
        )
    assert not (tmp_path / "secrets").exists()


def test_production_accepts_real_secrets(tmp_path: Path) -> None:
    token, key = secrets.token_urlsafe(16), secrets.token_urlsafe(32)
    settings = load_settings(
        **_clean(
            tmp_path,
            handoff_env="production",
            handoff_service_token=token,
            handoff_secret_key=key,
        )
    )
    assert settings.production and settings.service_token() == token


@pytest.mark.parametrize(
    ("token", "key", "complaint"),
    [
        ("t0k3n-" * 4, secrets.token_urlsafe(32), "HANDOFF_SERVICE_TOKEN looks hand-made"),
        (secrets.token_urlsafe(16), "a" * 32, "HANDOFF_SECRET_KEY"),
        (secrets.token_urlsafe(16), "k3y-" * 10, "HANDOFF_SECRET_KEY looks hand-made"),
        (secrets.token_urlsafe(16), "0123456789" * 4, "HANDOFF_SECRET_KEY looks hand-made"),
        (SAME_SECRET, SAME_SECRET, "are the same"),
    ],
)
def test_production_refuses_low_entropy_and_identical_secrets(
    tmp_path: Path, token: str, key: str, complaint: str
) -> None:
    with pytest.raises(SettingsError, match=complaint):
        load_settings(
            **_clean(
                tmp_path,
                handoff_env="production",
                handoff_service_token=token,
                handoff_secret_key=key,
            )
        )


def test_bad_business_hours(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="09:00-21:00"):
        load_settings(**_clean(tmp_path, handoff_business_hours="nine to five"))
