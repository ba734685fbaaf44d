"""The trainers' page's static files (``/trainers/``): HTML only with a session."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from handoff.api.deps import read_credentials
from handoff.api.routes.pages import STATIC_DIR
from handoff.api.state import Services
from handoff.security import SESSION_COOKIE

TRAINERS_DIR = STATIC_DIR / "trainers"


class TrainerFiles(StaticFiles):
    """Like the inbox's files; a visitor without a session logs in and comes back here."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path in ("", ".") or path.endswith((".html", "/")):
            services: Services = scope["app"].state.services
            cookies: dict[str, Any] = Request(scope).cookies
            found, _ = read_credentials(services, bearer=None, cookie=cookies.get(SESSION_COOKIE))
            if found is None:
                return RedirectResponse("/login?next=/trainers/", status_code=303)
        return await super().get_response(path, scope)
