"""``python -m handoff``: migrate the database (``alembic upgrade head``), then serve."""

from __future__ import annotations

import logging
import sys

import uvicorn

from handoff.api.app import create_app
from handoff.db import migrate
from handoff.errors import SettingsError
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
    uvicorn.run(
        create_app(settings),
        host=settings.handoff_host,
        port=settings.handoff_port,
        proxy_headers=True,
        log_level="info",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
