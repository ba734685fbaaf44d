"""The demo shop's database: engine, schema and seed at start-up, reset on demand."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from bot.settings import sqlalchemy_url
from demo_shop.models import Base
from demo_shop.seed import seed

logger = logging.getLogger(__name__)


def make_engine(database_url: str) -> Engine:
    """Builds the engine; for a SQLite file, creates its directory first.

    Args:
        database_url: A SQLAlchemy URL, e.g. ``sqlite:///var/demo_shop.db`` or
            ``postgresql://user@host/db``.
    """
    url = make_url(sqlalchemy_url(database_url))
    options: dict[str, Any] = {"future": True}
    if url.get_backend_name() == "sqlite":
        # Requests run in a thread pool; SQLite connections may move between threads.
        options["connect_args"] = {"check_same_thread": False}
        if url.database in (None, "", ":memory:"):
            # One shared connection, or every thread would see its own empty database.
            options["poolclass"] = StaticPool
        elif not url.database.startswith("file:"):
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    else:
        options["pool_pre_ping"] = True
    return create_engine(url, **options)


def make_sessions(engine: Engine) -> sessionmaker:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(bind=engine, class_=Session, future=True, expire_on_commit=False)


def prepare(engine: Engine, *, reset: bool = False) -> None:
    """Creates the tables and seeds an empty database.

    Args:
        engine: The database to prepare.
        reset: Drop the demo shop's tables first, losing every change.
    """
    if reset:
        logger.warning(
            "Dropping the demo shop's tables on %s", engine.url.render_as_string(hide_password=True)
        )
        Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with make_sessions(engine).begin() as session:
        if seed(session=session):
            logger.info(
                "Seeded the demo shop's database on %s",
                engine.url.render_as_string(hide_password=True),
            )
