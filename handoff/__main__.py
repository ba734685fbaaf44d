"""``python -m handoff``: migrate the database (``alembic upgrade head``), then serve.

``python -m handoff backup FILE`` writes a backup of the service's database;
``python -m handoff restore FILE [--force]`` restores one into it (see
:mod:`handoff.backup`). Both use ``HANDOFF_DATABASE_URL`` (or its defaults).
``python -m handoff report --week 2026-W49``: the weekly report on demand.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import uvicorn

from handoff.api.app import create_app
from handoff.backup import BackupError, backup, restore
from handoff.db import migrate
from handoff.errors import SettingsError
from handoff.logs import install_redaction
from handoff.settings import Settings, load_settings


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m handoff", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="migrate the database and serve (the default)")
    save = commands.add_parser("backup", help="write a backup of the service's database")
    save.add_argument("file", type=Path)
    load = commands.add_parser("restore", help="restore a backup into the service's database")
    load.add_argument("file", type=Path)
    load.add_argument(
        "--force",
        action="store_true",
        help="replace what the database holds (else it must be empty)",
    )
    return parser.parse_args(argv)


def _serve(settings: Settings) -> int:
    migrate(settings.database)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.handoff_host,
        port=settings.handoff_port,
        # The app reads X-Forwarded-For itself, and only from HANDOFF_TRUSTED_PROXIES:
        # uvicorn's own handling believes any local peer.
        proxy_headers=False,
        log_level="info",
    )
    server = uvicorn.Server(config)  # configures uvicorn's loggers; then add the filter
    install_redaction()
    server.run()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Serves on ``HANDOFF_HOST:HANDOFF_PORT``, or backs up or restores the database."""
    arguments = _arguments(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"handoff: {error}", file=sys.stderr)
        return 2
    if arguments.command in (None, "serve"):
        return _serve(settings)
    try:
        if arguments.command == "backup":
            backup(settings.database, arguments.file)
            print(f"handoff: backup written to {arguments.file}")
        else:
            restore(settings.database, arguments.file, force=arguments.force)
            print(f"handoff: restored {arguments.file}")
    except BackupError as error:
        print(f"handoff: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["report"]:
        from handoff.report_command import main as report_main

        sys.exit(report_main(sys.argv[2:]))
    sys.exit(main())
