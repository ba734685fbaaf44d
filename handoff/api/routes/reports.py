"""The weekly reports, kept in the service (admins).

``GET /dashboard/reports/`` → the list; ``GET /dashboard/reports/2026-W49`` → the page;
``GET /dashboard/reports/2026-W49.csv`` → its CSV; ``POST /api/metrics/reports/2026-W49``
→ makes (or remakes) the week's report now and posts it to Slack when Slack is set up.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from handoff.api.deps import Admin, ServicesDep, SessionDep
from handoff.errors import NotFound
from handoff.services import report_delivery
from handoff.services.metrics import report

router = APIRouter(tags=["metrics"])


@router.get("/dashboard/reports/", response_class=HTMLResponse)
async def list_reports(_admin: Admin, session: SessionDep) -> HTMLResponse:
    """The kept weekly reports, newest first."""
    rows = await report.listed(session)
    items = "".join(
        f'<li><a href="{escape(r["week"])}">{escape(r["week"])}</a>'
        f' · <a href="{escape(r["week"])}.csv">CSV</a></li>'
        for r in rows
    )
    body = f"<ul>{items}</ul>" if rows else "<p>No report yet. · 还没有周报。</p>"
    return HTMLResponse(
        '<!doctype html><html><head><meta charset="utf-8"><title>Weekly reports · 周报</title>'
        f"</head><body><h1>Weekly reports · 周报</h1>{body}</body></html>"
    )


@router.get("/dashboard/reports/{name}", response_model=None)
async def show_report(name: str, _admin: Admin, session: SessionDep) -> Response:
    """A kept report: the page, or its CSV when ``name`` ends in ``.csv``."""
    week = name.removesuffix(".csv")
    kept = await report.find(session, week)
    if kept is None:
        raise NotFound(f"no report for {week} yet")
    if name.endswith(".csv"):
        return Response(
            kept.csv,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="report-{week}.csv"'},
        )
    return HTMLResponse(kept.html)


@router.post("/api/metrics/reports/{week}")
async def make_report(
    week: str, _admin: Admin, session: SessionDep, services: ServicesDep
) -> dict[str, Any]:
    """Makes the week's report now: ``{"week", "url", "figures"}``."""
    report.parse_week(week)
    kept = await report_delivery.make_and_post(session, services.settings, week)
    return {"week": kept.week, "url": report_delivery.link(kept.week), "figures": kept.figures}
