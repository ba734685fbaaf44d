"""Health, the login page and the inbox's static files (HTML only for signed-in agents)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import text
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from handoff.api.deps import agent_for, read_credentials
from handoff.api.state import Services
from handoff.security import SESSION_COOKIE

STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "web" / "static"

router = APIRouter(tags=["pages"])


@router.get("/health", include_in_schema=True)
async def health(request: Request) -> dict[str, str]:
    """``{"status": "ok"}`` when the database answers."""
    services: Services = request.app.state.services
    async with services.sessions() as session:
        await session.execute(text("SELECT 1"))
    return {"status": "ok"}


@router.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    """The inbox."""
    return RedirectResponse("/inbox/", status_code=307)


@router.get("/login", include_in_schema=False)
async def login_page() -> Response:
    """The login page (``login.html``, else the single-page app's ``index.html``)."""
    for name in ("login.html", "index.html"):
        page = STATIC_DIR / name
        if page.is_file():
            return FileResponse(page, media_type="text/html")
    return Response("the inbox UI is not installed", status_code=404)


# Scripts, styles and images the login page needs; anything else (an HTML page, a
# directory however spelled: ``dashboard``, ``dashboard/``, ``./dashboard//``) needs a
# session. Allow-listing what is public means a new spelling cannot slip through.
PUBLIC_SUFFIXES = (".js", ".mjs", ".css", ".svg", ".png", ".ico", ".woff", ".woff2", ".map")


def is_public_asset(path: str) -> bool:
    """True for a static asset anyone may fetch."""
    return path.endswith(PUBLIC_SUFFIXES)


async def signed_in(scope: Scope) -> bool:
    """True when the request carries a live session cookie (active, not signed out)."""
    services: Services = scope["app"].state.services
    cookies: dict[str, Any] = Request(scope).cookies
    found, _ = read_credentials(services, bearer=None, cookie=cookies.get(SESSION_COOKIE))
    if found is None:
        return False
    async with services.sessions() as session:
        return await agent_for(session, found) is not None


class InboxFiles(StaticFiles):
    """The UI's files; assets are public (the login page needs them), the rest needs a session."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if not is_public_asset(path) and not await signed_in(scope):
            return RedirectResponse("/login", status_code=303)
        return await super().get_response(path, scope)
