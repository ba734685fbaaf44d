"""The web chat's HTTP routes: the page, its static files, and the history.

Served on the channel's blueprint, so under ``/webhooks/webchat/`` of the
Rasa server: ``/`` the page (link it, or embed it in an ``<iframe>``),
``/static/<file>`` its script, style and the vendored socket.io client,
``/history?session_id=…`` the conversation's text turns for a page reload.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import settings
from connectors.routes import as_route
from connectors.webchat.parse import conversation_id, history_turns, valid_session_id

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Only these files are served: no path from the URL ever reaches the disk.
STATIC_FILES = {
    "webchat.js": "text/javascript; charset=utf-8",
    "webchat.css": "text/css; charset=utf-8",
    "socket.io.min.js": "text/javascript; charset=utf-8",
}
PAGE_FILE = "index.html"
HISTORY_LIMIT = 200

# The page runs only its own files; message text can never become markup
# (the script uses textContent), and this stops anything that slipped through.
_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": _CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def render_page(
    *, base_path: str, socketio_path: str, privacy_notice_url: str | None = None
) -> str:
    """The page's HTML with the channel's paths and the notice's link filled in (HTML-escaped).

    Args:
        base_path: Where the blueprint is mounted, ending in ``/``.
        socketio_path: The socket.io endpoint's path.
        privacy_notice_url: ``PRIVACY_NOTICE_URL``; without it the page's
            notice has no link.
    """
    template = (STATIC_DIR / PAGE_FILE).read_text(encoding="utf-8")
    return (
        template.replace("__BASE_PATH__", html.escape(base_path))
        .replace("__SOCKETIO_PATH__", html.escape(socketio_path))
        .replace("__PRIVACY_NOTICE_URL__", html.escape(privacy_notice_url or ""))
    )


class WebChatPage:
    """The page, static and history routes of the channel's blueprint.

    Args:
        base_path: Where the blueprint is mounted, ending in ``/``.
        socketio_path: The socket.io endpoint the page connects to.
    """

    def __init__(self, *, base_path: str, socketio_path: str) -> None:
        self._page = render_page(
            base_path=base_path,
            socketio_path=socketio_path,
            privacy_notice_url=settings.load().privacy_notice_url,
        )
        self._static = {name: (STATIC_DIR / name).read_bytes() for name in STATIC_FILES}

    def mount(self, blueprint: Blueprint) -> None:
        """Adds the routes to the channel's blueprint (mounted at ``base_path``)."""
        blueprint.add_route(as_route(self.chat_page), "/", methods=["GET"], name="chat_page")
        blueprint.add_route(as_route(self.health), "/health", methods=["GET"], name="health")
        blueprint.add_route(
            as_route(self.static_file), "/static/<name>", methods=["GET"], name="static_file"
        )
        blueprint.add_route(as_route(self.history), "/history", methods=["GET"], name="history")

    async def chat_page(self, _: Request) -> HTTPResponse:
        """``GET /``: the page."""
        return response.html(self._page, headers=_PAGE_HEADERS)

    async def health(self, _: Request) -> HTTPResponse:
        """``GET /health``: the channel is mounted."""
        return response.json({"status": "ok"})

    async def static_file(self, _: Request, name: str) -> HTTPResponse:
        """``GET /static/<name>``: one of the page's own files, else 404."""
        if name not in self._static:
            return response.json({"error": "not found"}, status=404)
        return response.raw(
            self._static[name],
            content_type=STATIC_FILES[name],
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    async def history(self, request: Request) -> HTTPResponse:
        """``GET /history?session_id=…``: the conversation's text turns, for a reload."""
        session_id = valid_session_id(request.args.get("session_id"))
        if session_id is None:
            return response.json({"error": "a valid session_id is required"}, status=400)
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or agent.tracker_store is None:
            return response.json({"error": "the assistant is starting"}, status=503)
        tracker = await agent.tracker_store.retrieve_full_tracker(conversation_id(session_id))
        events = [event.as_dict() for event in tracker.events] if tracker else []
        turns = history_turns(events, limit=HISTORY_LIMIT)
        return response.json(
            {"session_id": session_id, "turns": [turn.as_json() for turn in turns]},
            headers={"Cache-Control": "no-store"},
        )
