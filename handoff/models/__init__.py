"""The service's tables as SQLAlchemy 2 typed mapped classes, one aggregate per module.

The schema itself is owned by the Alembic migrations under
``handoff/migrations``; these classes must match them (a test compares).
Importing this package registers every table on :class:`Base`, which is what
Alembic's ``env.py`` and the rest of the service import.
"""

from __future__ import annotations

from handoff.models.after_sales import AfterSalesCase
from handoff.models.agents import Agent, Role
from handoff.models.alerts import RaisedAlert
from handoff.models.annotations import AnnotationHistory, AnnotationItem, AnnotationStatus
from handoff.models.audit import AuditRecord
from handoff.models.base import Base, string_enum, utcnow
from handoff.models.canned import CannedResponse
from handoff.models.conversations import Conversation, ConversationStatus, HandoffRecord
from handoff.models.dead_letters import DeadLetter
from handoff.models.flags import Flag
from handoff.models.login_counters import LoginCounter
from handoff.models.message_counts import BUCKET_S, MessageCount, bucket_of
from handoff.models.messages import Message, MessageRole
from handoff.models.ratings import CsatRating
from handoff.models.reports import WeeklyReport
from handoff.models.slack_threads import SlackThread
from handoff.models.targets import MetricTarget

__all__ = [
    "BUCKET_S",
    "AfterSalesCase",
    "Agent",
    "AnnotationHistory",
    "AnnotationItem",
    "AnnotationStatus",
    "AuditRecord",
    "Base",
    "CannedResponse",
    "Conversation",
    "ConversationStatus",
    "CsatRating",
    "DeadLetter",
    "Flag",
    "HandoffRecord",
    "LoginCounter",
    "Message",
    "MessageCount",
    "MessageRole",
    "MetricTarget",
    "RaisedAlert",
    "Role",
    "SlackThread",
    "WeeklyReport",
    "bucket_of",
    "string_enum",
    "utcnow",
]
