"""Plays Rasa test stories against a running stack and compares what happened.

A story's user turns are sent through the REST channel of a live Rasa server
(with the real action server and demo shop behind it). Then the tracker is
fetched and compared with the story: the intents and the actions, in order,
must match exactly; each ``slot_was_set`` must be found near the step it
follows. ``active_loop`` steps are implied by the form's actions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")
# Bookkeeping actions Rasa logs on its own.
_IGNORED_ACTIONS = {"action_listen", "action_session_start"}


@dataclass(frozen=True)
class Step:
    """One step of a story: an intent, an action or a slot value."""

    kind: str  # "intent" | "action" | "slot"
    name: str
    value: Any = None
    text: str | None = None


@dataclass(frozen=True)
class Story:
    """A named test story."""

    name: str
    steps: list[Step]

    @property
    def user_texts(self) -> list[str]:
        """What the customer types, annotations removed."""
        return [step.text for step in self.steps if step.kind == "intent" and step.text]


def load_stories(path: Path) -> list[Story]:
    """Reads Rasa test stories (``user``/``intent``/``action``/``slot_was_set``)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    stories = []
    for raw in document["stories"]:
        steps: list[Step] = []
        for step in raw["steps"]:
            if "user" in step:
                text = _ANNOTATION.sub(r"\1", str(step["user"]).strip())
                steps.append(Step("intent", step["intent"], text=text))
            elif "action" in step:
                steps.append(Step("action", step["action"]))
            elif "slot_was_set" in step:
                for slot in step["slot_was_set"]:
                    ((name, value),) = slot.items()
                    steps.append(Step("slot", name, value))
        stories.append(Story(raw["story"], steps))
    return stories


def play(client: httpx.Client, rasa_url: str, sender: str, story: Story) -> list[dict[str, Any]]:
    """Sends the story's messages and returns the conversation's events."""
    for text in story.user_texts:
        response = client.post(
            f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
        )
        response.raise_for_status()
    tracker = client.get(f"{rasa_url}/conversations/{sender}/tracker")
    tracker.raise_for_status()
    events: list[dict[str, Any]] = tracker.json()["events"]
    return events


def _tokens(events: list[dict[str, Any]]) -> list[tuple[int, Step]]:
    tokens = []
    for index, event in enumerate(events):
        if event["event"] == "user":
            intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
            tokens.append((index, Step("intent", intent)))
        elif event["event"] == "action" and event["name"] not in _IGNORED_ACTIONS:
            tokens.append((index, Step("action", event["name"])))
    return tokens


def compare(story: Story, events: list[dict[str, Any]]) -> list[str]:
    """Returns what differs between the story and the events (empty: a pass)."""
    expected = [(s.kind, s.name) for s in story.steps if s.kind != "slot"]
    actual_tokens = _tokens(events)
    actual = [(step.kind, step.name) for _, step in actual_tokens]
    if expected != actual:
        return [f"expected {expected}\n     got {actual}"]
    problems = []
    positions = [index for index, _ in actual_tokens] + [len(events)]
    seen_tokens = 0
    for step in story.steps:
        if step.kind != "slot":
            seen_tokens += 1
            continue
        start = positions[max(seen_tokens - 1, 0)]
        end = positions[min(seen_tokens + 1, len(positions) - 1)]
        window = events[start:end]
        if not any(
            e["event"] == "slot" and e["name"] == step.name and e["value"] == step.value
            for e in window
        ):
            problems.append(f"slot {step.name}={step.value!r} not set after step {seen_tokens}")
    return problems
