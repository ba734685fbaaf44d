"""Fixtures for the demo shop: databases (SQLite and real PostgreSQL) and a running server."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from demo_shop.db import make_engine, make_sessions, prepare
from demo_shop.models import Base
from tests.support.shop import running_shop

# A server where the test may create and drop databases (trust auth in CI).
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database ``shop_test_<random>``, dropped after the session."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    name = f"shop_test_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {error}")
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty database: a SQLite file in a directory that does not exist yet, or PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('shop') / 'not-yet' / 'demo_shop.db'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker]:
    """Sessions on a freshly created and seeded database."""
    engine = make_engine(database_url)
    prepare(engine)
    try:
        yield make_sessions(engine)
    finally:
        engine.dispose()


StartShop = Callable[..., AbstractContextManager[str]]


@pytest.fixture
def start_shop() -> StartShop:
    """:func:`running_shop`, for tests that start a server of their own (with a token, say)."""
    return running_shop


@pytest.fixture
def shop_url(database_url: str) -> Iterator[str]:
    """Base URL of a running demo shop without a token, on a fresh seeded database."""
    with running_shop(database_url=database_url) as url:
        yield url
