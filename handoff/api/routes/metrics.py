"""Service-quality metrics for the dashboard (role admin).

``GET /api/metrics/summary?from=&to=&channel=&team=`` → headline numbers, judged against
the targets with the previous period of the same length;
``GET /api/metrics/targets`` (signed in) / ``PUT`` (admins) → the KPI targets;
``GET /api/metrics/live`` → the live strip and alerts;
``GET /api/metrics/alerts`` → the alerts alone, for every signed-in agent (the inbox);
``GET /api/metrics/{table}`` → ``{"rows": [...]}``, or CSV with ``?format=csv``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import Response

from handoff.api.csv_response import csv_response
from handoff.api.deps import Admin, ClientAddress, CurrentAgent, ServicesDep, SessionDep
from handoff.models import utcnow
from handoff.services import audit, metrics
from handoff.services.metrics import alerting, targets
from handoff.services.metrics.scorecard import scorecard

router = APIRouter(prefix="/api/metrics", tags=["metrics"])


def _filter(
    services: ServicesDep,
    first: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    team: Annotated[str | None, Query(max_length=32)] = None,
) -> metrics.MetricsFilter:
    return metrics.parse_filter(
        timezone=services.settings.handoff_timezone,
        first=first,
        last=last,
        channel=channel,
        team=team,
    )


FilterDep = Annotated[metrics.MetricsFilter, Depends(_filter)]


@router.get("/summary")
async def summary(_admin: Admin, session: SessionDep, where: FilterDep) -> dict[str, Any]:
    """The headline numbers of the range, with ``targets`` (one card per target)."""
    return await scorecard(session, where)


@router.get("/targets")
async def get_targets(_agent: CurrentAgent, session: SessionDep) -> dict[str, Any]:
    """``{"targets": {key: value}, "definitions": {key: {metric, direction, unit, default}}}``."""
    return {"targets": await targets.current(session), "definitions": targets.describe()}


@router.put("/targets")
async def put_targets(
    admin: Admin, session: SessionDep, body: Annotated[Any, Body()] = None
) -> dict[str, Any]:
    """Changes some targets (``{key: value}``); rates 0–1, seconds over 0. 400 changes nothing."""
    found = await targets.update(session, body, by=admin.username)
    return {"targets": found, "definitions": targets.describe()}


async def _alerts(session: SessionDep, services: ServicesDep) -> list[dict[str, Any]]:
    today = alerting.today(services.settings.handoff_timezone, utcnow())
    return await metrics.alerts(
        session, wait_alert_s=services.settings.handoff_wait_alert_s, today=today
    )


@router.get("/live")
async def live(_admin: Admin, session: SessionDep, services: ServicesDep) -> dict[str, Any]:
    """Waiting now, longest wait, agents online, and the alerts of the moment."""
    strip = await metrics.live_strip(session)
    found = await _alerts(session, services)
    return {**strip, "wait_alert_s": services.settings.handoff_wait_alert_s, "alerts": found}


@router.get("/alerts")
async def alerts(
    _agent: CurrentAgent, session: SessionDep, services: ServicesDep
) -> dict[str, Any]:
    """The alerts of the moment, for every inbox user (the inbox's alert strip)."""
    found = await _alerts(session, services)
    return {"wait_alert_s": services.settings.handoff_wait_alert_s, "alerts": found}


@router.get("/{name}", response_model=None)
async def table(
    name: str,
    admin: Admin,
    session: SessionDep,
    where: FilterDep,
    address: ClientAddress,
    format_: Annotated[str, Query(alias="format", pattern="^(json|csv)$")] = "json",
) -> dict[str, Any] | Response:
    """One of the dashboard's tables (see ``metrics.TABLES``)."""
    rows = await metrics.table(session, name, where)
    if format_ == "csv":
        audit.record(
            session,
            actor=admin,
            action=audit.CSV_EXPORT,
            target=f"metrics/{name}"[:255],
            address=address,
            detail={"rows": len(rows), "from": str(where.first_day), "to": str(where.last_day)},
        )
        await session.commit()
        return csv_response(name, rows)
    return {
        "table": name,
        "from": where.first_day.isoformat(),
        "to": where.last_day.isoformat(),
        "rows": rows,
    }
