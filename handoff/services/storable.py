"""What the service can store: checks of the Rasa side's events and hand-offs.

PostgreSQL refuses U+0000 in text and JSON, a lone UTF-16 surrogate cannot be
encoded as UTF-8, ``datetime`` ends at year 9999 and JSON has no NaN. Input
carrying any of these used to reach the database and fail there (HTTP 500);
these checks find it first so the caller can refuse it with a reason
(``problem`` functions return ``None`` when the value is fine).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# 9999-12-31T23:59:59Z, the last second a Python datetime can hold.
MAX_TIMESTAMP = 253_402_300_799.0
MAX_DEPTH = 32
MAX_SENDER_LENGTH = 255
MAX_NAME_LENGTH = 128
MAX_TEXT_LENGTH = 100_000

_SURROGATES = range(0xD800, 0xE000)


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text (NUL, a lone surrogate), or ``None``."""
    if "\x00" in value:
        return "contains U+0000 (NUL)"
    if not value.isascii():
        for char in value:
            if ord(char) in _SURROGATES:
                return f"contains a lone surrogate U+{ord(char):04X}"
    return None


def timestamp_problem(value: object) -> str | None:
    """Why ``value`` is not a storable Unix timestamp in seconds, or ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "is not a number"
    if not math.isfinite(value) or not 0 <= value <= MAX_TIMESTAMP:
        return "is outside 1970..9999"
    return None


def json_problem(value: object, *, depth: int = 0) -> str | None:
    """Why a decoded JSON value cannot be stored in a JSON column, or ``None``."""
    if depth > MAX_DEPTH:
        return f"is nested deeper than {MAX_DEPTH} levels"
    if value is None or isinstance(value, bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "holds a number that is not finite"
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = json_problem(item, depth=depth + 1)
            if problem:
                return f"[{index}] {problem}"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return "has a key that is not a string"
            problem = text_problem(key) or json_problem(item, depth=depth + 1)
            if problem:
                return f"[{key!r}] {problem}"
        return None
    return f"holds a {type(value).__name__}"


def _field(event: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> str | None:
    value = event.get(name)
    if value is not None and not isinstance(value, kind):
        return f"{name} is a {type(value).__name__}, not {_kind_name(kind)}"
    return None


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _parse_data_problem(parse: Mapping[str, Any]) -> str | None:
    intents: list[object] = [parse.get("intent")]
    ranking = parse.get("intent_ranking")
    if ranking is not None:
        if not isinstance(ranking, list):
            return "parse_data.intent_ranking is not a list"
        intents.extend(ranking)
    for intent in intents:
        if intent is None:
            continue
        if not isinstance(intent, dict):
            return "parse_data holds an intent that is not an object"
        name, confidence = intent.get("name"), intent.get("confidence")
        if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME_LENGTH):
            return "parse_data holds an intent name that is not a short string"
        if confidence is not None and (
            isinstance(confidence, bool)
            or not isinstance(confidence, int | float)
            or not math.isfinite(confidence)
        ):
            return "parse_data holds a confidence that is not a number"
    return None


def event_problem(event: object) -> str | None:
    """Why one tracker event of Rasa's event broker cannot be stored, or ``None``.

    Checks every field the service reads (``sender_id``, ``event``,
    ``timestamp``, ``text``, ``parse_data``, ``metadata``, ``data``, a slot's
    ``name``), then that the whole event is storable JSON.
    """
    if not isinstance(event, dict):
        return "the event is not an object"
    sender = event.get("sender_id")
    if not isinstance(sender, str) or not sender:
        return "sender_id is missing or not a string"
    if len(sender) > MAX_SENDER_LENGTH:
        return f"sender_id is longer than {MAX_SENDER_LENGTH} characters"
    kind = event.get("event")
    if not isinstance(kind, str) or len(kind) > MAX_NAME_LENGTH:
        return "event is missing or not a short string"
    problem = (
        _field(event, "text", str)
        or _field(event, "parse_data", dict)
        or _field(event, "metadata", dict)
        or _field(event, "data", dict)
    )
    if problem:
        return problem
    if event.get("timestamp") is not None:
        problem = timestamp_problem(event["timestamp"])
        if problem:
            return f"timestamp {problem}"
    text = event.get("text")
    if isinstance(text, str) and len(text) > MAX_TEXT_LENGTH:
        return f"text is longer than {MAX_TEXT_LENGTH} characters"
    if isinstance(event.get("parse_data"), dict):
        problem = _parse_data_problem(event["parse_data"])
        if problem:
            return problem
    buttons = (event.get("data") or {}).get("buttons")
    if buttons is not None and not isinstance(buttons, list):
        return "data.buttons is not a list"
    if kind == "slot" and not isinstance(event.get("name"), str):
        return "a slot event without a name"
    problem = json_problem(event)
    return f"the event {problem}" if problem else None


def transcript_problem(turns: list[dict[str, Any]]) -> str | None:
    """Why a hand-off's transcript (or recent intents) cannot be stored, or ``None``."""
    for index, turn in enumerate(turns):
        stamp = turn.get("timestamp")
        if stamp is not None and timestamp_problem(stamp):
            return f"[{index}].timestamp {timestamp_problem(stamp)}"
        text = turn.get("text")
        if text is not None and not isinstance(text, str):
            return f"[{index}].text is not a string"
    return json_problem(turns)
