"""Request bodies of the JSON API (responses are plain dicts in the design's shapes)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from handoff.models import Role
from handoff.services.storable import json_problem, text_problem, transcript_problem

# Letters, digits, _ . @ - only: NULs and other control characters never reach a query.
USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]+$"


class Credentials(BaseModel):
    """``{"username", "password", "code"?}``: ``code`` from the authenticator app, if set up."""

    username: str = Field(min_length=1, max_length=64, pattern=USERNAME_PATTERN)
    password: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(default=None, min_length=1, max_length=16)


class OneTimeCode(BaseModel):
    """``{"code"}``: six digits from the authenticator app."""

    code: str = Field(min_length=1, max_length=16)


class PasswordChange(BaseModel):
    """``POST /api/me/password``: ``{"current_password", "new_password"}``."""

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class AgentPatch(BaseModel):
    """``PATCH /api/agents/{username}``: any of the fields; absent ones stay."""

    model_config = ConfigDict(extra="forbid")

    active: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=1024)
    role: Role | None = None
    skills: list[Annotated[str, Field(max_length=64)]] | None = None
    capacity: int | None = Field(default=None, ge=0, le=100)
    second_factor: bool | None = None


class Presence(BaseModel):
    """``{"online": true}``."""

    online: bool


class NewAgent(BaseModel):
    """``POST /api/agents``."""

    username: str = Field(min_length=2, max_length=64, pattern=USERNAME_PATTERN)
    password: str = Field(min_length=1, max_length=1024)
    role: Role = Role.AGENT
    skills: list[str] = Field(default_factory=list)
    capacity: int = Field(default=5, ge=0, le=100)


class AssignBody(BaseModel):
    """No body (claim), ``{"agent": "bob"}`` or ``{"team": "billing"}``."""

    agent: str | None = Field(default=None, max_length=64, pattern=USERNAME_PATTERN)
    team: str | None = Field(default=None, max_length=64, pattern=USERNAME_PATTERN)


class NewMessage(BaseModel):
    """``{"text", "private"}``."""

    text: str = Field(min_length=1, max_length=4096)
    private: bool = False


class NewNote(BaseModel):
    """``{"text"}`` (always private)."""

    text: str = Field(min_length=1, max_length=4096)


class FlagBody(BaseModel):
    """``{"intent": "request_refund"}``."""

    intent: str = Field(min_length=1, max_length=128)


class NewCannedResponse(BaseModel):
    """``{"shortcut", "text", "language"}``."""

    shortcut: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=4096)
    language: str | None = Field(default=None, max_length=16)


class HandoffBody(BaseModel):
    """What ``action_handoff`` posts to ``/api/internal/handoffs``."""

    model_config = ConfigDict(extra="ignore")

    conversation_id: str = Field(min_length=1, max_length=255)
    channel: str | None = Field(default=None, max_length=32)
    reason: str | None = Field(default=None, max_length=64)
    intent: str | None = Field(default=None, max_length=128)
    language: str | None = Field(default=None, max_length=16)
    summary: str | None = Field(default=None, max_length=4000)
    slots: dict[str, Any] = Field(default_factory=dict)
    intents: list[dict[str, Any]] = Field(default_factory=list)
    transcript: list[dict[str, Any]] = Field(default_factory=list)
    after_sales_cases: list[dict[str, Any]] = Field(default_factory=list)
    # The bot's highest anger score of the customer's messages (0 to 1).
    anger_score: float | None = Field(default=None, ge=0, le=1)

    @field_validator("conversation_id", "channel", "reason", "intent", "language", "summary")
    @classmethod
    def _storable_text(cls, value: str | None) -> str | None:
        problem = text_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("slots", "after_sales_cases")
    @classmethod
    def _storable_json(cls, value: Any) -> Any:
        problem = json_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("intents", "transcript")
    @classmethod
    def _storable_turns(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        problem = transcript_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class EventBatch(BaseModel):
    """``{"events": [...]}`` from the Rasa event broker."""

    events: list[Any]
