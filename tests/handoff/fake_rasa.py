"""A local stand-in for Rasa's HTTP API and the connectors' outbound routes.

Speaks the real wire format: ``POST /conversations/{id}/tracker/events?token=``
with one event dict (answers the tracker, like Rasa), and
``POST /webhooks/<channel>/outbound`` with the service token as a bearer
(answers ``{"sent": true}``, or 502 ``{"sent": false, "error"}`` when told to fail),
and the retrain jobs' routes of ``bot/runtime/retrain_jobs.py`` (a job that advances one
stage each time it is read, and ends promoted).
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

RETRAIN_STAGES = ("exporting", "validating", "training", "scoring", "promoting")


@dataclass
class Recorded:
    """One request the stand-in received."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeRasa:
    """State of the stand-in: what it received and how it should answer."""

    service_token: str
    rasa_token: str | None = None
    requests: list[Recorded] = field(default_factory=list)
    refuse_outbound: str | None = None  # an error text: the platform refused
    refuse_next: int = 0  # refuse only the next so many sends (with refuse_outbound's text)
    retrain_job: dict[str, Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def tracker_events(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """Events appended to trackers, in order."""
        return [
            r.body
            for r in self.requests
            if r.path.endswith("/tracker/events")
            and (conversation_id is None or f"/conversations/{conversation_id}/" in r.path)
        ]

    def outbound(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Bodies posted to connectors' outbound routes."""
        return [
            r.body
            for r in self.requests
            if r.path.endswith("/outbound")
            and (channel is None or r.path == f"/webhooks/{channel}/outbound")
        ]

    def app(self) -> Starlette:
        """The ASGI app to serve."""

        async def tracker_events(request: Request) -> JSONResponse:
            token = request.query_params.get("token")
            if self.rasa_token and token != self.rasa_token:
                return JSONResponse({"status": "failure", "reason": "NotAuthenticated"}, 401)
            body = await request.json()
            self._record(request, body)
            return JSONResponse({"sender_id": request.path_params["cid"], "events": [body]})

        async def outbound(request: Request) -> JSONResponse:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given, f"Bearer {self.service_token}"):
                return JSONResponse({"sent": False, "error": "forbidden"}, 403)
            body = await request.json()
            if not isinstance(body, dict) or "recipient_id" not in body:
                return JSONResponse({"sent": False, "error": "bad body"}, 400)
            self._record(request, body)
            if self.refuse_next > 0:
                self.refuse_next -= 1
                return JSONResponse({"sent": False, "error": self.refuse_outbound or "busy"}, 502)
            if self.refuse_outbound:
                return JSONResponse({"sent": False, "error": self.refuse_outbound}, 502)
            return JSONResponse({"sent": True})

        async def retrain_start(request: Request) -> JSONResponse:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given, f"Bearer {self.service_token}"):
                return JSONResponse({"error": "wrong or missing service token"}, 403)
            body = await request.json()
            self._record(request, body)
            job = self.retrain_job
            if job is not None and job["state"] == "running":
                return JSONResponse({"error": "still running", "job": job}, 409)
            self.retrain_job = {
                "number": (job["number"] + 1) if job else 1,
                "requested_by": body["requested_by"],
                "state": "running",
                "stage": RETRAIN_STAGES[0],
                "stages": list(RETRAIN_STAGES),
                "log": ["serving model: models/shop-1.tar.gz"],
            }
            return JSONResponse(self.retrain_job, 202)

        async def retrain_current(request: Request) -> JSONResponse:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given, f"Bearer {self.service_token}"):
                return JSONResponse({"error": "wrong or missing service token"}, 403)
            job = self.retrain_job
            if job is None:
                return JSONResponse({"error": "no retrain yet"}, 404)
            answer = dict(job)
            stage = RETRAIN_STAGES.index(job["stage"])
            if job["state"] == "running" and stage + 1 < len(RETRAIN_STAGES):
                job["stage"] = RETRAIN_STAGES[stage + 1]
                job["log"] = [*job["log"], f"<b>{job['stage']}</b>"]
            elif job["state"] == "running":
                job["state"] = "promoted"
                job["log"] = [*job["log"], "promoted version 2: accuracy 0.899 -> 0.901"]
            return JSONResponse(answer)

        return Starlette(
            routes=[
                Route("/conversations/{cid}/tracker/events", tracker_events, methods=["POST"]),
                Route("/webhooks/retrain/jobs", retrain_start, methods=["POST"]),
                Route("/webhooks/retrain/jobs/current", retrain_current, methods=["GET"]),
                Route("/webhooks/{channel}/outbound", outbound, methods=["POST"]),
            ]
        )

    def _record(self, request: Request, body: Any) -> None:
        with self.lock:
            self.requests.append(
                Recorded(
                    path=request.url.path,
                    query=dict(request.query_params),
                    headers=dict(request.headers),
                    body=body,
                )
            )
