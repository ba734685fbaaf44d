"""``python -m handoff``: migrate the database (``alembic upgrade head``), then serve.

``python -m handoff report --week 2026-W49``: the weekly report on demand.
"""

from __future__ import annotations

import logging
import sys

import uvicorn

from handoff.api.app import create_app
from handoff.db import migrate
from handoff.errors import SettingsError
from handoff.logs import install_redaction
from handoff.settings import load_settings


def main() -> int:
    """Starts the service on ``HANDOFF_HOST:HANDOFF_PORT``."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"handoff: {error}", file=sys.stderr)
        return 2
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


if __name__ == "__main__":
    if sys.argv[1:2] == ["report"]:
        from handoff.report_command import main as report_main

        sys.exit(report_main(sys.argv[2:]))
    sys.exit(main())
