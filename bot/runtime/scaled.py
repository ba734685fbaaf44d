"""``bot run --replicas N`` (``make run-scaled``): N of each server behind HAProxy.

One machine, the production topology: N Rasa servers, N action servers and N
handoff services, the demo shop once, and HAProxy in front
(``deploy/haproxy/haproxy.cfg.template``, rendered for N to
``var/scaled/haproxy.cfg``). Everything shares PostgreSQL (``DATABASE_URL``)
and Redis (``REDIS_URL``); both are required. honcho runs the processes
(``var/scaled/Procfile``), as ``bot run`` does for one of each.

Ports: the front door ``FRONT_DOOR_PORT`` (8000: platform webhooks, the
REST channel, the web chat, the inbox and its WebSocket); inside the machine
HAProxy also balances ``RASA_PORT`` (5005) and ``ACTIONS_PORT`` (5055), and
shows each replica's state on ``HAPROXY_STATS_PORT`` (8404). Replica ``i``
(from 1) listens on ``REPLICA_PORT_BASE + i`` (Rasa), ``+ 100 + i``
(actions) and ``+ 200 + i`` (handoff); the base is 9000.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from string import Template

from bot.settings import PROJECT_ROOT, Settings, SettingsError

TEMPLATE = PROJECT_ROOT / "deploy" / "haproxy" / "haproxy.cfg.template"
HANDOFF_PYTHON = PROJECT_ROOT / ".venv-handoff" / "bin" / "python"
RESTART_DELAY_S = 2


@dataclass(frozen=True)
class Topology:
    """Where everything listens for ``replicas`` of each server."""

    replicas: int
    front_port: int
    rasa_port: int
    actions_port: int
    stats_port: int
    base_port: int
    host: str = "0.0.0.0"
    socketio_path: str = "/socket.io"

    @classmethod
    def from_environment(cls, replicas: int, settings: Settings) -> Topology:
        """The ports from the settings and ``FRONT_DOOR_PORT``, ``HAPROXY_STATS_PORT``, …

        Raises:
            SettingsError: Fewer than one replica, or a port that is not a number.
        """
        if replicas < 1:
            raise SettingsError(f"--replicas must be at least 1, got {replicas}")
        try:
            front, stats, base = (
                int(os.environ.get(name) or default)
                for name, default in (
                    ("FRONT_DOOR_PORT", 8000),
                    ("HAPROXY_STATS_PORT", 8404),
                    ("REPLICA_PORT_BASE", 9000),
                )
            )
        except ValueError as error:
            raise SettingsError(f"a port setting is not a number: {error}") from error
        return cls(
            replicas=replicas,
            front_port=front,
            rasa_port=settings.rasa_port,
            actions_port=settings.actions_port,
            stats_port=stats,
            base_port=base,
            host=os.environ.get("FRONT_DOOR_HOST") or "0.0.0.0",
            socketio_path=(os.environ.get("WEBCHAT_SOCKETIO_PATH") or "/socket.io").rstrip("/"),
        )

    def ports(self, kind: str) -> list[int]:
        """The replicas' ports of ``rasa``, ``actions`` or ``handoff``."""
        offset = {"rasa": 0, "actions": 100, "handoff": 200}[kind]
        return [self.base_port + offset + i for i in range(1, self.replicas + 1)]


def _servers(kind: str, ports: list[int], *, sticky: bool = False) -> str:
    lines = []
    for number, port in enumerate(ports, start=1):
        cookie = f" cookie {kind}{number}" if sticky else ""
        lines.append(f"    server {kind}{number} 127.0.0.1:{port} check{cookie}")
    return "\n".join(lines)


def haproxy_config(topology: Topology) -> str:
    """``deploy/haproxy/haproxy.cfg.template`` filled in for the topology."""
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        host=topology.host,
        front_port=topology.front_port,
        rasa_port=topology.rasa_port,
        actions_port=topology.actions_port,
        stats_port=topology.stats_port,
        socketio_path=topology.socketio_path,
        rasa_servers=_servers("rasa", topology.ports("rasa")),
        rasa_sticky_servers=_servers("rasa", topology.ports("rasa"), sticky=True),
        actions_servers=_servers("actions", topology.ports("actions")),
        handoff_servers=_servers("handoff", topology.ports("handoff")),
    )


def _kept_running(name: str, command: str) -> str:
    # A replica that dies is started again after a pause (as systemd's
    # Restart=always or a Kubernetes pod would), and honcho, which stops
    # everything when one of its processes ends, keeps the others running.
    restart = f"echo '{name} exited, restarting in {RESTART_DELAY_S} s'"
    return f"{name}: while :; do {command}; {restart}; sleep {RESTART_DELAY_S}; done"


def procfile(topology: Topology, haproxy: str, config: Path) -> str:
    """honcho's Procfile: the shop, HAProxy, and each replica with its port and name."""
    python, handoff = shlex.quote(sys.executable), shlex.quote(str(HANDOFF_PYTHON))
    lines = [
        f"shop: {python} -m bot serve shop",
        f"haproxy: {shlex.quote(haproxy)} -W -db -f {shlex.quote(str(config))}",
    ]
    ports = zip(*(topology.ports(kind) for kind in ("rasa", "actions", "handoff")), strict=True)
    for number, (rasa, actions, service) in enumerate(ports, start=1):
        # One replica creates the first admin; two at once would race for the name.
        admin = "" if number == 1 else "-u HANDOFF_BOOTSTRAP_ADMIN "
        lines += [
            _kept_running(
                f"rasa{number}",
                f"env RASA_PORT={rasa} BOT_REPLICA_NAME=rasa{number} {python} -m bot serve rasa",
            ),
            _kept_running(
                f"actions{number}", f"env ACTIONS_PORT={actions} {python} -m bot serve actions"
            ),
            _kept_running(
                f"handoff{number}",
                f"env {admin}HANDOFF_HOST=127.0.0.1 HANDOFF_PORT={service} {handoff} -m handoff",
            ),
        ]
    return "\n".join(lines) + "\n"


def shared_environment(topology: Topology, settings: Settings) -> dict[str, str]:
    """What every process is given: the balanced addresses, and HAProxy as a trusted proxy."""
    front = f"http://127.0.0.1:{topology.front_port}"
    return {
        "HANDOFF_URL": os.environ.get("HANDOFF_URL") or front,
        "RASA_URL": f"http://127.0.0.1:{topology.rasa_port}",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{topology.actions_port}/webhook",
        "HANDOFF_TRUSTED_PROXIES": os.environ.get("HANDOFF_TRUSTED_PROXIES") or "127.0.0.1",
    }


def check_storage(settings: Settings) -> None:
    """Replicas share state only through PostgreSQL and Redis.

    Raises:
        SettingsError: ``DATABASE_URL`` is not PostgreSQL, or ``REDIS_URL`` is unset.
    """
    if not (settings.database_url or "").startswith(("postgres://", "postgresql")):
        raise SettingsError("--replicas needs DATABASE_URL=postgresql://… (shared by replicas)")
    if not settings.redis_url:
        raise SettingsError("--replicas needs REDIS_URL (locks and live updates across replicas)")


def migrate_handoff(env: dict[str, str]) -> None:
    """The service's migrations once, before its replicas start side by side."""
    code = "from handoff.db import migrate; from handoff.settings import load_settings as s;"
    code += " migrate(s().database)"
    subprocess.run([str(HANDOFF_PYTHON), "-c", code], cwd=PROJECT_ROOT, env=env, check=True)


def run_scaled(replicas: int, settings: Settings, *, before: Callable[[], object]) -> None:
    """Checks the settings, runs ``before`` (the model), writes ``var/scaled/``, becomes honcho.

    Raises:
        SettingsError: Missing storage, a bad port, or no ``haproxy`` on the PATH.
    """
    check_storage(settings)
    haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/sbin")
    if haproxy is None:
        raise SettingsError("haproxy is not installed: `make run-scaled` installs it")
    topology = Topology.from_environment(replicas, settings)
    before()
    folder = settings.var_dir / "scaled"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "haproxy.cfg"
    config.write_text(haproxy_config(topology), encoding="utf-8")
    subprocess.run([haproxy, "-c", "-f", str(config)], check=True)
    (folder / "Procfile").write_text(procfile(topology, haproxy, config), encoding="utf-8")
    env = dict(os.environ) | shared_environment(topology, settings)
    migrate_handoff(env)
    honcho = os.path.join(os.path.dirname(sys.executable), "honcho")
    command = [honcho, "--procfile", str(folder / "Procfile"), "--app-root", str(PROJECT_ROOT)]
    os.execve(honcho, [*command, "start"], env)
