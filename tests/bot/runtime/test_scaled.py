"""``bot run --replicas N``'s files: HAProxy's configuration and honcho's Procfile, for any N.

The scaled stack itself runs in tests/scale/; here the rendering for other
N, checked by HAProxy itself (``haproxy -c``), and the refusals.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot import settings
from bot.runtime.scaled import Topology, check_storage, haproxy_config, procfile
from tests.support.processes import PROJECT_ROOT, base_env

HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/sbin")


def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **values: str) -> settings.Settings:
    monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
    monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path))
    for name in ("DATABASE_URL", "REDIS_URL", "FRONT_DOOR_PORT", "REPLICA_PORT_BASE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return settings.load()


@pytest.mark.parametrize("replicas", [1, 3])
def test_haproxy_accepts_the_configuration_for_n_replicas(
    replicas: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if HAPROXY is None:
        pytest.skip("haproxy is not installed (make haproxy)")
    topology = Topology.from_environment(
        replicas, _settings(monkeypatch, tmp_path, REPLICA_PORT_BASE="31000")
    )
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config(topology), encoding="utf-8")
    checked = subprocess.run([HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = config.read_text()
    for kind, offset in (("rasa", 0), ("actions", 100), ("handoff", 200)):
        servers = [line for line in text.splitlines() if line.strip().startswith(f"server {kind}")]
        ports = {31000 + offset + i for i in range(1, replicas + 1)}
        # Rasa's servers are listed twice: round robin, and sticky for socket.io.
        assert len(servers) == replicas * (2 if kind == "rasa" else 1)
        assert {int(s.split()[2].rsplit(":", 1)[1]) for s in servers} == ports
    assert "bind 0.0.0.0:8000" in text and "cookie SHOPCHAT" in text


def test_the_procfile_starts_each_replica_on_its_port_and_one_creates_the_admin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    topology = Topology.from_environment(2, _settings(monkeypatch, tmp_path))
    lines = procfile(topology, "/usr/sbin/haproxy", tmp_path / "haproxy.cfg").splitlines()
    names = [line.split(":", 1)[0] for line in lines]
    assert names == [
        "shop", "haproxy", "rasa1", "actions1", "handoff1", "rasa2", "actions2", "handoff2"
    ]  # fmt: skip
    by_name = dict(line.split(": ", 1) for line in lines)
    assert "RASA_PORT=9001 BOT_REPLICA_NAME=rasa1" in by_name["rasa1"]
    assert "ACTIONS_PORT=9102" in by_name["actions2"]
    assert "-u HANDOFF_BOOTSTRAP_ADMIN" not in by_name["handoff1"]
    assert (
        "-u HANDOFF_BOOTSTRAP_ADMIN HANDOFF_HOST=127.0.0.1 HANDOFF_PORT=9202" in by_name["handoff2"]
    )
    assert all(
        by_name[f"{k}{i}"].startswith("while :;") for k in ("rasa", "actions") for i in (1, 2)
    )


def test_replicas_need_postgresql_and_redis(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(settings.SettingsError, match="DATABASE_URL=postgresql"):
        check_storage(_settings(monkeypatch, tmp_path))
    sqlite = _settings(monkeypatch, tmp_path, DATABASE_URL="sqlite:////tmp/x.db", REDIS_URL="r")
    with pytest.raises(settings.SettingsError, match="DATABASE_URL=postgresql"):
        check_storage(sqlite)
    with pytest.raises(settings.SettingsError, match="REDIS_URL"):
        check_storage(_settings(monkeypatch, tmp_path, DATABASE_URL="postgresql://h/db"))
    check_storage(
        _settings(monkeypatch, tmp_path, DATABASE_URL="postgres://h/db", REDIS_URL="redis://h")
    )
    with pytest.raises(settings.SettingsError, match="at least 1"):
        Topology.from_environment(0, _settings(monkeypatch, tmp_path))
    with pytest.raises(settings.SettingsError, match="not a number"):
        Topology.from_environment(2, _settings(monkeypatch, tmp_path, FRONT_DOOR_PORT="http"))


def test_bot_run_refuses_replicas_without_shared_storage(tmp_path: Path) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--replicas", "2"],
        cwd=PROJECT_ROOT,
        env=base_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2
    assert "error: --replicas needs DATABASE_URL=postgresql" in refused.stderr
    assert not (tmp_path / "scaled").exists()  # nothing written, nothing started
