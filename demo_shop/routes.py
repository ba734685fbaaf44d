"""The contract's HTTP routes (``docs/shop-api.md``) and their request parsing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from demo_shop import repository
from demo_shop.errors import BadRequest
from demo_shop.models import CaseType
from demo_shop.schemas import Json, case_json, iso_time, order_json

T = TypeVar("T")

MAX_ID_LENGTH = 64
MAX_ADDRESS_LENGTH = 300
MAX_REASON_LENGTH = 1000
_CASE_TYPES = ", ".join(case_type.value for case_type in CaseType)


async def _in_transaction(request: Request, work: Callable[[Session], T]) -> T:
    # SQLAlchemy's ORM blocks; run it off the event loop, one transaction per request.
    sessions: sessionmaker = request.state.sessions

    def run() -> T:
        with sessions.begin() as session:
            return work(session)

    return await run_in_threadpool(run)


async def _json_object(request: Request) -> dict[str, Any]:
    body = await request.body()
    try:
        data = json.loads(body)
    except ValueError as error:  # UnicodeDecodeError is a ValueError too
        raise BadRequest(f"body is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def _text(value: object, name: str, *, max_length: int) -> str:
    if value is None:
        raise BadRequest(f"{name} is required")
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    value = value.strip()
    if not value:
        raise BadRequest(f"{name} must not be empty")
    if len(value) > max_length:
        raise BadRequest(f"{name} must be at most {max_length} characters")
    return value


def _query(request: Request, name: str) -> str:
    return _text(request.query_params.get(name), name, max_length=MAX_ID_LENGTH)


def _path(request: Request, name: str) -> str:
    return str(request.path_params[name])


async def health(request: Request) -> JSONResponse:
    """``GET /health``: 200 once the database answers; open even when a token is set."""
    await _in_transaction(request, lambda session: session.execute(text("SELECT 1")))
    return JSONResponse({"status": "ok"})


async def get_order(request: Request) -> JSONResponse:
    """``GET /orders/{order_id}``."""
    order_id = _path(request, "order_id")
    body = await _in_transaction(
        request,
        lambda session: order_json(repository.get_order(session=session, order_id=order_id)),
    )
    return JSONResponse(body)


async def list_orders(request: Request) -> JSONResponse:
    """``GET /orders?customer_id=ID``: the customer's orders, newest first."""
    customer_id = _query(request, "customer_id")

    def work(session: Session) -> Json:
        orders = repository.list_orders(session=session, customer_id=customer_id)
        return {"orders": [order_json(order) for order in orders]}

    return JSONResponse(await _in_transaction(request, work))


async def cancel_order(request: Request) -> JSONResponse:
    """``POST /orders/{order_id}/cancel``."""
    order_id = _path(request, "order_id")
    body = await _in_transaction(
        request,
        lambda session: order_json(repository.cancel_order(session=session, order_id=order_id)),
    )
    return JSONResponse(body)


async def change_address(request: Request) -> JSONResponse:
    """``POST /orders/{order_id}/address`` with ``{"address": "..."}``."""
    order_id = _path(request, "order_id")
    data = await _json_object(request)
    address = _text(data.get("address"), "address", max_length=MAX_ADDRESS_LENGTH)

    def work(session: Session) -> Json:
        order = repository.change_address(session=session, order_id=order_id, address=address)
        return order_json(order)

    return JSONResponse(await _in_transaction(request, work))


async def urge_order(request: Request) -> JSONResponse:
    """``POST /orders/{order_id}/urge``: 202, the warehouse has been asked."""
    order_id = _path(request, "order_id")

    def work(session: Session) -> Json:
        order = repository.urge_order(session=session, order_id=order_id)
        return {"order_id": order.order_id, "urged_at": iso_time(order.urged_at)}

    return JSONResponse(await _in_transaction(request, work), status_code=202)


def _case_type(value: object) -> CaseType:
    name = _text(value, "type", max_length=20)
    try:
        return CaseType(name)
    except ValueError as error:
        raise BadRequest(f"type must be one of {_CASE_TYPES}") from error


async def create_case(request: Request) -> JSONResponse:
    """``POST /after-sales`` with ``{"order_id", "type", "reason"}``: 201 and the new case."""
    data = await _json_object(request)
    order_id = _text(data.get("order_id"), "order_id", max_length=MAX_ID_LENGTH)
    case_type = _case_type(data.get("type"))
    reason = _text(data.get("reason"), "reason", max_length=MAX_REASON_LENGTH)

    def work(session: Session) -> Json:
        case = repository.create_case(
            session=session, order_id=order_id, case_type=case_type, reason=reason
        )
        return case_json(case)

    return JSONResponse(await _in_transaction(request, work), status_code=201)


async def get_case(request: Request) -> JSONResponse:
    """``GET /after-sales/{case_id}``."""
    case_id = _path(request, "case_id")
    body = await _in_transaction(
        request,
        lambda session: case_json(repository.get_case(session=session, case_id=case_id)),
    )
    return JSONResponse(body)


async def list_cases(request: Request) -> JSONResponse:
    """``GET /after-sales?order_id=ID``: the order's cases, newest first."""
    order_id = _query(request, "order_id")

    def work(session: Session) -> Json:
        cases = repository.list_cases(session=session, order_id=order_id)
        return {"cases": [case_json(case) for case in cases]}

    return JSONResponse(await _in_transaction(request, work))


ROUTES = [
    Route("/health", health, methods=["GET"]),
    Route("/orders", list_orders, methods=["GET"]),
    Route("/orders/{order_id}", get_order, methods=["GET"]),
    Route("/orders/{order_id}/cancel", cancel_order, methods=["POST"]),
    Route("/orders/{order_id}/address", change_address, methods=["POST"]),
    Route("/orders/{order_id}/urge", urge_order, methods=["POST"]),
    Route("/after-sales", list_cases, methods=["GET"]),
    Route("/after-sales", create_case, methods=["POST"]),
    Route("/after-sales/{case_id}", get_case, methods=["GET"]),
]
