"""The error answers every operation may give, written into ``/openapi.json``.

FastAPI documents only the success and a 422 it never sends here (malformed
requests are answered 400 by the app's handler). This adds what the service
really answers, with the ``{"detail"}`` body, so clients and schemathesis can
rely on the document.
"""

from __future__ import annotations

from typing import Any

_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["detail"],
}
_COMMON = {
    "400": "malformed request, or a value the service cannot store",
    "401": "not signed in, or the session has ended",
    "403": "the role does not allow it, a missing X-CSRF-Token, or a wrong service token",
    "404": "nothing with that id or name",
}
_CHANGES = {
    "409": "refused by a rule (a taken name, a weak password, a conversation in another state)",
    "413": "the body is over HANDOFF_MAX_BODY_BYTES",
}
_SIGN_IN = {"429": "too many sign-in attempts, or too many at once (see Retry-After)"}
_UPSTREAM = {"502": "Rasa or a messaging platform did not take it"}
_UPSTREAM_PATHS = ("/messages", "/handback", "/resolve", "/assign", "/retrain", "/transfer")


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _csv_when_asked(operation: dict[str, Any]) -> None:
    # Lists with a ``format`` parameter answer ``format=csv`` as text/csv.
    names = {parameter.get("name") for parameter in operation.get("parameters", [])}
    ok = operation["responses"].get("200")
    if "format" in names and isinstance(ok, dict):
        ok.setdefault("content", {}).setdefault("text/csv", {"schema": {"type": "string"}})


def with_error_statuses(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the error statuses added to every operation (in place, idempotent)."""
    document.setdefault("components", {}).setdefault("schemas", {})["Error"] = _ERROR_SCHEMA
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            if path.startswith("/api/internal/"):
                # The Rasa side's intake answers what it cannot store 422 with the
                # reasons (kept as a dead letter); other routes answer malformed input 400.
                responses["422"] = _error("refused events or hand-off, with the reasons")
            else:
                responses.pop("422", None)
            _csv_when_asked(operation)
            errors = dict(_COMMON)
            if method != "get":
                errors |= _CHANGES
            if path.startswith("/api/auth/"):
                errors |= _SIGN_IN
            if method == "post" and path.endswith(_UPSTREAM_PATHS):
                errors |= _UPSTREAM
            for code, description in errors.items():
                responses.setdefault(code, _error(description))
    return document
