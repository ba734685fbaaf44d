"""The trainers' page's static files (``/trainers/``): HTML only with a session."""

from __future__ import annotations

from fastapi.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from handoff.api.routes.pages import STATIC_DIR, is_public_asset, signed_in

TRAINERS_DIR = STATIC_DIR / "trainers"


class TrainerFiles(StaticFiles):
    """Like the inbox's files; a visitor without a session logs in and comes back here."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if not is_public_asset(path) and not await signed_in(scope):
            return RedirectResponse("/login?next=/trainers/", status_code=303)
        return await super().get_response(path, scope)
