"""Conversations with a live stack, checked on the shop's state (which cases exist)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import httpx

Case = tuple[str, str, str]  # order, type, reason


def _cases(client: httpx.Client, shop_url: str, order_ids: Iterable[str]) -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for order_id in order_ids:
        response = client.get(f"{shop_url}/after-sales", params={"order_id": order_id})
        response.raise_for_status()
        for case in response.json()["cases"]:
            cases[case["case_id"]] = (case["order_id"], case["type"], case["reason"])
    return cases


def converse(
    client: httpx.Client,
    stack,
    texts: list[str],
    watched: Iterable[str],
    sender: str | None = None,
):
    """Sends ``texts`` in one new conversation; returns the cases it opened and the replies."""
    watched = list(watched)
    before = _cases(client, stack.shop_url, watched)
    sender = sender or f"webchat:{uuid.uuid4().hex[:12]}"
    replies: list[list[dict]] = []
    for text in texts:
        response = client.post(
            f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
        )
        response.raise_for_status()
        replies.append(response.json())
    after = _cases(client, stack.shop_url, watched)
    opened = sorted(case for case_id, case in after.items() if case_id not in before)
    return opened, replies


def said(replies: list[dict]) -> str:
    return " ".join(reply.get("text", "") for reply in replies)


def buttons(replies: list[dict]) -> list[str]:
    return [button["payload"] for reply in replies for button in reply.get("buttons", [])]
