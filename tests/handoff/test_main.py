"""``python -m handoff``: migrates, creates the bootstrap admin, serves; refuses bad secrets."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
from alembic.script import ScriptDirectory

from handoff.db import alembic_config

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HANDOFF_", "SLACK_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env.update(
        {
            "BOT_VAR_DIR": str(tmp_path),
            "HANDOFF_PORT": str(port),
            "HANDOFF_BOOTSTRAP_ADMIN": "boss:amber-lighthouse-93",
            **extra,
        }
    )
    return env


def test_python_m_handoff_migrates_and_serves(tmp_path: Path) -> None:
    env = _env(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "handoff"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{env['HANDOFF_PORT']}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the service did not answer /health"
            time.sleep(0.3)
        token = httpx.post(
            f"{base}/api/auth/token", json={"username": "boss", "password": "amber-lighthouse-93"}
        )
        assert token.status_code == 200
        me = httpx.get(
            f"{base}/api/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        )
        assert me.json()["role"] == "admin"
        # A credential in a query string never reaches the access log.
        httpx.get(f"{base}/api/me?token=do-not-log-this-value")
    finally:
        process.terminate()
        process.wait(timeout=30)
    log = process.stdout.read().decode()  # type: ignore[union-attr]
    assert "/api/me?token=[redacted]" in log
    assert "do-not-log-this-value" not in log
    with sqlite3.connect(tmp_path / "handoff.sqlite3") as connection:
        version = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    assert version == (head,)


def test_python_m_handoff_refuses_placeholder_secrets_in_production(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        HANDOFF_ENV="production",
        HANDOFF_SECRET_KEY="changeme",
        HANDOFF_SERVICE_TOKEN="changeme",
    )
    result = subprocess.run(
        [sys.executable, "-m", "handoff"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "HANDOFF_SECRET_KEY" in result.stderr and "placeholder" in result.stderr
    assert not (tmp_path / "handoff.sqlite3").exists()
