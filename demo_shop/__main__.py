"""``python -m demo_shop [--reset]``: serves the demo shop on 127.0.0.1.

The port, database and token come from :func:`bot.settings.load`
(``DEMO_SHOP_PORT``, ``DEMO_SHOP_DATABASE_URL``, ``SHOP_API_TOKEN``).
"""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from bot.settings import load
from demo_shop.app import create_app
from demo_shop.db import make_engine, prepare


def main(argv: list[str] | None = None) -> int:
    """Runs the demo shop until interrupted.

    Args:
        argv: Command-line arguments; ``sys.argv[1:]`` when None.

    Returns:
        The process exit status.
    """
    parser = argparse.ArgumentParser(
        prog="python -m demo_shop", description="Serve the demo shop's API."
    )
    parser.add_argument(
        "--reset", action="store_true", help="drop the demo data and seed it afresh first"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = load()
    if args.reset:
        engine = make_engine(settings.demo_shop_database_url)
        try:
            prepare(engine, reset=True)
        finally:
            engine.dispose()
    app = create_app(database_url=settings.demo_shop_database_url, token=settings.shop_api_token)
    # No WebSockets here; Rasa pins a websockets release too old for uvicorn's default.
    uvicorn.run(app, host="127.0.0.1", port=settings.demo_shop_port, ws="none", log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
