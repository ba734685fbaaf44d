"""Settings for the handoff service's Rasa side: URL, timeout and the shared token."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot import settings


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
    monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path))
    for name in ("HANDOFF_URL", "HANDOFF_SERVICE_TOKEN", "HANDOFF_TIMEOUT", "HANDOFF_ENV"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_defaults_point_at_the_local_service(environment: Path) -> None:
    loaded = settings.load()
    assert loaded.handoff_url == "http://127.0.0.1:8000"
    assert loaded.handoff_timeout_s == 3.0
    assert loaded.handoff_service_token is None


def test_values_come_from_the_environment(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HANDOFF_URL", "https://handoff.example/")
    monkeypatch.setenv("HANDOFF_TIMEOUT", "1.5")
    monkeypatch.setenv("HANDOFF_SERVICE_TOKEN", "a-real-secret")
    loaded = settings.load()
    assert loaded.handoff_url == "https://handoff.example"
    assert loaded.handoff_timeout_s == 1.5
    assert settings.service_token(loaded) == "a-real-secret"
    assert not (environment / "secrets").exists()


def test_without_a_token_development_shares_one_in_a_private_file(environment: Path) -> None:
    first = settings.service_token(settings.load())
    second = settings.service_token(settings.load())
    path = environment / "secrets" / "handoff_service_token"
    assert first == second == path.read_text().strip()
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_token_file_written_by_the_service_is_used(environment: Path) -> None:
    path = environment / "secrets" / "handoff_service_token"
    path.parent.mkdir()
    path.write_text("written-by-the-service\n")
    assert settings.service_token(settings.load()) == "written-by-the-service"


def test_processes_starting_together_agree_on_one_token(environment: Path) -> None:
    loaded = settings.load()
    with ThreadPoolExecutor(8) as pool:
        tokens = set(pool.map(lambda _: settings.service_token(loaded), range(16)))
    assert len(tokens) == 1
    assert [p.name for p in (environment / "secrets").iterdir()] == ["handoff_service_token"]


@pytest.mark.parametrize("token", [None, "changeme", "CHANGEME"])
def test_production_refuses_a_missing_or_placeholder_token(
    environment: Path, monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    monkeypatch.setenv("HANDOFF_ENV", "production")
    if token is not None:
        monkeypatch.setenv("HANDOFF_SERVICE_TOKEN", token)
    with pytest.raises(settings.SettingsError, match="HANDOFF_SERVICE_TOKEN"):
        settings.load()


@pytest.mark.parametrize(("name", "value"), [("HANDOFF_TIMEOUT", "0"), ("HANDOFF_ENV", "prod")])
def test_unusable_values_are_refused(
    environment: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(settings.SettingsError, match=name):
        settings.load()


def test_the_privacy_notice_url_is_an_http_url(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRIVACY_NOTICE_URL", raising=False)
    assert settings.load().privacy_notice_url is None
    monkeypatch.setenv("PRIVACY_NOTICE_URL", "https://shop.example/privacy")
    assert settings.load().privacy_notice_url == "https://shop.example/privacy"
    monkeypatch.setenv("PRIVACY_NOTICE_URL", "javascript:alert(1)")
    with pytest.raises(settings.SettingsError, match="PRIVACY_NOTICE_URL"):
        settings.load()
