"""Portable SQL pieces (PostgreSQL and SQLite): durations, local days and hours, medians."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    Subquery,
    and_,
    cast,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.services.metrics.filters import MetricsFilter


def dialect(session: AsyncSession) -> str:
    """``postgresql`` or ``sqlite``."""
    bind = session.bind
    assert bind is not None
    return bind.dialect.name


async def analytic(session: AsyncSession) -> str:
    """Prepares the session's transaction for metrics queries; returns the dialect.

    PostgreSQL compiles queries it estimates as expensive with LLVM (JIT), which
    costs more (about 1 s) than these sub-second range scans take; off for this
    transaction only.
    """
    kind = dialect(session)
    if kind == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))
    return kind


def seconds_between(kind: str, later: Any, earlier: Any) -> ColumnElement[float]:
    """``later - earlier`` in seconds, for two timestamp columns."""
    if kind == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def local_day(kind: str, column: Any, where: MetricsFilter) -> ColumnElement[str]:
    """The local calendar day (``YYYY-MM-DD``) of a UTC timestamp.

    PostgreSQL converts with the zone's rules; SQLite, which has no time zones,
    shifts by the zone's offset at the range start (exact for zones without
    daylight saving time, such as the default Asia/Shanghai).
    """
    if kind == "postgresql":
        return func.to_char(func.timezone(where.zone.key, column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column, f"{where.offset_minutes:+d} minutes")


def local_hour(kind: str, column: Any, where: MetricsFilter) -> ColumnElement[int]:
    """The local hour (0–23) of a UTC timestamp (see :func:`local_day`)."""
    if kind == "postgresql":
        return cast(func.extract("hour", func.timezone(where.zone.key, column)), Integer)
    return cast(func.strftime("%H", column, f"{where.offset_minutes:+d} minutes"), Integer)


def median_select(values: Subquery, column: str, *keys: str, kind: str = "sqlite") -> Select[Any]:
    """The median of ``values.c[column]`` (per ``keys``).

    PostgreSQL: ``percentile_cont(0.5)`` (one sort, no window). SQLite has none: rows
    ``rn`` with ``n <= 2·rn <= n + 2`` are the middle one or two; their mean is the
    median — the same value ``percentile_cont`` interpolates.
    """
    value = values.c[column]
    if kind == "postgresql":
        keyed = [values.c[key] for key in keys]
        median = func.percentile_cont(0.5).within_group(value).label("median")
        statement = select(*keyed, median).where(value.is_not(None))
        return statement.group_by(*keyed) if keyed else statement
    partition = [values.c[key] for key in keys]
    ranked = (
        select(
            *partition,
            value.label("v"),
            func.row_number().over(partition_by=partition or None, order_by=value).label("rn"),
            func.count(literal(1)).over(partition_by=partition or None).label("n"),
        )
        .where(value.is_not(None))
        .subquery()
    )
    middle = and_(ranked.c.rn * 2 >= ranked.c.n, ranked.c.rn * 2 <= ranked.c.n + 2)
    grouped = [ranked.c[key] for key in keys]
    statement = select(*grouped, func.avg(ranked.c.v).label("median")).where(middle)
    return statement.group_by(*grouped) if grouped else statement
