"""The systemd units under deploy/systemd are valid and start real commands.

``systemd-analyze verify`` checks each unit as systemd would load it, with
the checkout's path in place of ``/opt/shop-assistant``; then every
``ExecStart`` is checked to name an interpreter that exists here and a
module that starts one of the stack's processes, and every setting the
README's production section promises is in every service.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT

UNITS = PROJECT_ROOT / "deploy" / "systemd"
INSTALLED_AT = "/opt/shop-assistant"
ENV_FILE = "/etc/shop-assistant/shop-assistant.env"
SERVICES = {
    "shop-assistant-rasa.service": ".venv/bin/python -m bot serve rasa",
    "shop-assistant-actions.service": ".venv/bin/python -m bot serve actions",
    "shop-assistant-handoff.service": ".venv-handoff/bin/python -m handoff",
    "shop-assistant-demo-shop.service": ".venv/bin/python -m bot serve shop",
}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name, encoding="utf-8")
    return parser


def test_there_is_one_service_per_process_and_a_target() -> None:
    assert {path.name for path in UNITS.glob("*.service")} == set(SERVICES)
    wants = unit("shop-assistant.target")["Unit"]["Wants"].split()
    assert set(wants) == set(SERVICES) - {"shop-assistant-demo-shop.service"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_restarts_on_failure_with_the_environment_file(name: str) -> None:
    service = unit(name)["Service"]
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"] == ENV_FILE
    assert service["WorkingDirectory"] == INSTALLED_AT
    assert unit(name)["Install"]["WantedBy"] == "shop-assistant.target"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_exec_start_is_a_real_command(name: str) -> None:
    command = unit(name)["Service"]["ExecStart"]
    assert command == f"{INSTALLED_AT}/{SERVICES[name]}"
    interpreter, _, module, *arguments = command.split()
    local = PROJECT_ROOT / Path(interpreter).relative_to(INSTALLED_AT)
    assert local.exists(), local
    if module == "bot":  # `bot serve <name>` knows exactly these processes
        serve = (PROJECT_ROOT / "bot" / "runtime" / "serve.py").read_text(encoding="utf-8")
        assert arguments[0] == "serve" and f'name == "{arguments[1]}"' in serve
    else:
        assert (PROJECT_ROOT / module / "__main__.py").exists()


def test_the_readme_production_section_names_the_units_and_their_settings() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Production", 1)[1].split("\n## ", 1)[0]
    for name in [*SERVICES, "shop-assistant.target"]:
        assert name in section
    for setting in ("Restart=on-failure", ENV_FILE, "deploy/shop-assistant.env.example"):
        assert setting in section
    assert "make run" in section  # the developer's command stays


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verifies_every_unit(tmp_path: Path) -> None:
    for path in [*UNITS.glob("*.service"), *UNITS.glob("*.target")]:
        text = path.read_text(encoding="utf-8").replace(INSTALLED_AT, str(PROJECT_ROOT))
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Units this machine lacks (postgresql.service…) are only ordering hints, not errors.
    problems = [
        line
        for line in result.stderr.splitlines()
        if line.strip()
        and not re.search(r"(postgresql|redis-server|rabbitmq-server)\.service", line)
    ]
    assert result.returncode == 0 and problems == [], result.stderr
