"""Access records (admins only): ``GET /api/audit``, as JSON or ``?format=csv``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import Response

from handoff.api.csv_response import csv_response
from handoff.api.deps import Admin, ClientAddress, ServicesDep, SessionDep
from handoff.errors import InvalidInput
from handoff.services import audit
from handoff.services.metrics.filters import FIRST_DAY, LAST_DAY

router = APIRouter(prefix="/api/audit", tags=["audit"])

CSV_COLUMNS = ["id", "at", "actor", "action", "conversation_id", "target", "address", "detail"]
CSV_LIMIT = 100_000


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _bounded(day: date | None, name: str) -> date | None:
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(f"{name} must lie between {FIRST_DAY} and {LAST_DAY}")
    return day


@router.get("", response_model=None)
async def list_audit(
    admin: Admin,
    services: ServicesDep,
    session: SessionDep,
    address: ClientAddress,
    agent: Annotated[str | None, Query(max_length=64, pattern=r"^[^\x00]+$")] = None,
    conversation: Annotated[str | None, Query(max_length=255, pattern=r"^[^\x00]+$")] = None,
    action: Annotated[str | None, Query(pattern=audit.ACTION_PATTERN)] = None,
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    format_: Annotated[str, Query(alias="format", pattern="^(json|csv)$")] = "json",
) -> dict[str, Any] | Response:
    """``{"total", "records": [{"id", "at", "actor", "action", "conversation_id", "target",
    "address", "detail"}]}``, newest first.

    Filters: ``agent`` (who acted), ``conversation``, ``action``, ``from``/``to``
    (days ``YYYY-MM-DD`` in the shop's time zone, both included). ``?format=csv``
    downloads every matching record (at most 100,000); the download is recorded too.
    """
    first, last = _bounded(first, "from"), _bounded(last, "to")
    if first and last and last < first:
        raise InvalidInput("to must not be before from")
    zone = ZoneInfo(services.settings.handoff_timezone)
    where = audit.AuditFilter(
        actor=agent,
        conversation_id=conversation,
        action=action,
        start=_midnight(first, zone) if first else None,
        end=_midnight(last + timedelta(days=1), zone) if last and last < LAST_DAY else None,
    )
    if format_ == "csv":
        _total, rows = await audit.page(session, where, limit=CSV_LIMIT)
        audit.record(
            session,
            actor=admin,
            action=audit.CSV_EXPORT,
            target="audit",
            address=address,
            detail={"rows": len(rows)},
        )
        await session.commit()
        return csv_response("audit", rows, CSV_COLUMNS)
    total, rows = await audit.page(session, where, limit=limit, offset=offset)
    return {"total": total, "records": rows}
