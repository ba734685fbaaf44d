"""The admins' retrain button: ``POST /api/retrain`` starts one, ``GET /api/retrain`` follows it.

Training needs Rasa's environment, so the service asks the Rasa side
(``bot/runtime/retrain_jobs.py``) with the service token and passes its answer on:
the job's state, stage and log. Admins only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import JSONResponse

from handoff.api.deps import Admin, ServicesDep
from handoff.errors import DeliveryError

router = APIRouter(prefix="/api/retrain", tags=["annotation"])


def _answer(code: int, body: dict[str, Any]) -> JSONResponse:
    if code in (200, 202, 404, 409):
        return JSONResponse(body, status_code=code)
    # The Rasa side refused us (e.g. a service token mismatch): not the admin's fault.
    raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"the Rasa side answered {code}")


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def start(admin: Admin, services: ServicesDep) -> JSONResponse:
    """Starts ``bot retrain --from-service`` on the Rasa side (409 while one runs)."""
    try:
        code, body = await services.rasa.retrain(requested_by=admin.username)
    except DeliveryError as error:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, str(error)) from error
    return _answer(code, body)


@router.get("")
async def current(_admin: Admin, services: ServicesDep) -> JSONResponse:
    """The latest retrain: state, stage, log (404 before the first)."""
    try:
        code, body = await services.rasa.retrain()
    except DeliveryError as error:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, str(error)) from error
    return _answer(code, body)
