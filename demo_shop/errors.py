"""The demo shop's error tree; :mod:`demo_shop.app` maps it onto HTTP."""

from __future__ import annotations


class DemoShopError(Exception):
    """Base class of every refusal the demo shop gives on purpose."""

    code = "error"

    def payload(self) -> dict[str, str]:
        """The JSON error body the contract prescribes."""
        return {"error": self.code}


class BadRequest(DemoShopError):
    """The request body or query is malformed or misses a field (400)."""

    code = "bad_request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def payload(self) -> dict[str, str]:
        """``{"error": "bad_request", "detail": ...}``."""
        return {"error": self.code, "detail": self.detail}


class NotFound(DemoShopError):
    """The thing asked for does not exist (404)."""

    code = "not_found"


class OrderNotFound(NotFound):
    """No order has this id."""

    code = "order_not_found"


class CaseNotFound(NotFound):
    """No after-sales case has this id."""

    code = "case_not_found"


class Conflict(DemoShopError):
    """The order's current state forbids the change (409)."""

    code = "conflict"


class _StatusConflict(Conflict):
    def __init__(self, status: str) -> None:
        super().__init__(f"{self.code}: order is {status}")
        self.status = status

    def payload(self) -> dict[str, str]:
        return {"error": self.code, "status": self.status}


class NotCancellable(_StatusConflict):
    """Only orders awaiting payment or paid (not yet shipped) can be cancelled."""

    code = "not_cancellable"


class AddressLocked(_StatusConflict):
    """The address can only change before the order ships."""

    code = "address_locked"


class NotEligible(Conflict):
    """The order cannot get this after-sales case.

    Args:
        detail: A sentence for people.
        rule: Why, for programs: a :class:`bot.common.eligibility.Verdict`
            value, or ``refund_open``.
        status: The order's status.
    """

    code = "not_eligible"

    def __init__(self, detail: str, *, rule: str, status: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.rule = rule
        self.status = status

    def payload(self) -> dict[str, str]:
        """``{"error": "not_eligible", "rule": ..., "status": ..., "detail": ...}``."""
        return {"error": self.code, "rule": self.rule, "status": self.status, "detail": self.detail}
