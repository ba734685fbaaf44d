"""Starting the stack's processes with settings from the environment.

Rasa reads ``endpoints.yml`` with ``${VAR}`` placeholders; this module turns
our few settings (``DATABASE_URL``, ``REDIS_URL``, ``RASA_AUTH_TOKEN`` …) into
the variables that file names, so one file serves the embedded default and
the scaled-out setup.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot.settings import PROJECT_ROOT, Settings, sqlalchemy_url
from bot.training.model_cache import current_model_path


def rasa_environment(settings: Settings) -> dict[str, str]:
    """The variables ``endpoints.yml`` expects, derived from the settings."""
    env = {
        "ACTION_ENDPOINT_URL": os.environ.get(
            "ACTION_ENDPOINT_URL", f"http://127.0.0.1:{settings.actions_port}/webhook"
        ),
    }
    if settings.database_url:
        url = sqlalchemy_url(settings.database_url)
        env |= {
            "TRACKER_STORE_DIALECT": urlsplit(url).scheme.split("+")[0],
            "TRACKER_STORE_URL": url,
            "TRACKER_STORE_DB": urlsplit(url).path.lstrip("/"),
        }
    else:
        path = settings.var_dir / "rasa.db"
        env |= {
            "TRACKER_STORE_DIALECT": "sqlite",
            "TRACKER_STORE_URL": f"sqlite:///{path}",
            "TRACKER_STORE_DB": str(path),
        }
    if settings.redis_url:
        redis = urlsplit(settings.redis_url)
        env |= {
            "LOCK_STORE_TYPE": "redis",
            "LOCK_STORE_HOST": redis.hostname or "127.0.0.1",
            "LOCK_STORE_PORT": str(redis.port or 6379),
            "LOCK_STORE_DB": redis.path.lstrip("/") or "0",
            "LOCK_STORE_PASSWORD": redis.password or "",
        }
    else:
        env |= {
            "LOCK_STORE_TYPE": "in_memory",
            "LOCK_STORE_HOST": "",
            "LOCK_STORE_PORT": "0",
            "LOCK_STORE_DB": "0",
            "LOCK_STORE_PASSWORD": "",
        }
    return env


# ${VAR} is a required setting; ${VAR:-default} an optional one.
_PLACEHOLDER = re.compile(r"\$\{(\w+)(:-[^}]*)?\}")


def _resolve(value: object, environ: dict[str, str]) -> object:
    if isinstance(value, dict):
        return {key: _resolve(item, environ) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, environ) for item in value]
    if isinstance(value, str):
        return _PLACEHOLDER.sub(
            lambda m: environ.get(m.group(1)) or (m.group(2) or ":-")[2:], value
        )
    return value


def enabled_credentials(source: Path, environ: dict[str, str]) -> dict[str, object]:
    """The channels of ``credentials.yml`` whose required settings are all set.

    A channel names its settings as ``${VAR}`` (required) or
    ``${VAR:-default}`` (optional). It is switched on only when every
    required one is set, so an unconfigured platform is simply absent
    instead of failing Rasa's start-up.
    """
    document = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    enabled: dict[str, object] = {}
    for channel, section in document.items():
        placeholders = _PLACEHOLDER.findall(yaml.safe_dump(section or {}))
        required = [name for name, optional in placeholders if not optional]
        if all(environ.get(name) for name in required):
            enabled[channel] = _resolve(section, environ)
    return enabled


def credentials_path(settings: Settings) -> Path:
    """``var/credentials-<RASA_PORT>.yml``: one per Rasa server, as their settings differ."""
    return settings.var_dir / f"credentials-{settings.rasa_port}.yml"


def write_credentials(settings: Settings, environ: dict[str, str]) -> Path:
    """Writes the enabled channels, settings filled in, to :func:`credentials_path`."""
    target = credentials_path(settings)
    channels = enabled_credentials(PROJECT_ROOT / "credentials.yml", environ)
    target.touch(mode=0o600, exist_ok=True)
    target.chmod(0o600)  # it holds the platforms' secrets
    target.write_text(yaml.safe_dump(channels, allow_unicode=True), encoding="utf-8")
    return target


def rasa_command(settings: Settings) -> list[str]:
    """The ``rasa run`` command line for the current settings (see :mod:`bot.runtime.rasa_main`)."""
    command = [
        sys.executable,
        "-m",
        "bot.runtime.rasa_main",
        "run",
        "--enable-api",
        "--port",
        str(settings.rasa_port),
        "--model",
        str(current_model_path()),
        "--credentials",
        str(credentials_path(settings)),
        "--endpoints",
        str(PROJECT_ROOT / "endpoints.yml"),
        "--cors",
        "*",
    ]
    if settings.rasa_auth_token:
        command += ["--auth-token", settings.rasa_auth_token]
    return command


def actions_command(settings: Settings) -> list[str]:
    """The action server's command line."""
    return [
        os.path.join(os.path.dirname(sys.executable), "rasa"),
        "run",
        "actions",
        "--port",
        str(settings.actions_port),
        "--actions",
        "actions",
    ]


def exec_process(name: str, settings: Settings) -> None:
    """Replaces this process with one of the stack's processes."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(PROJECT_ROOT)
    env = dict(os.environ)
    if name == "rasa":
        env |= rasa_environment(settings)
        write_credentials(settings, env)
        command = rasa_command(settings)
    elif name == "actions":
        command = actions_command(settings)
    elif name == "shop":
        command = [sys.executable, "-m", "demo_shop"]
    else:
        raise ValueError(f"unknown process {name!r}")
    os.execvpe(command[0], command, env)
