"""Schema: ``agents`` — the people using the inbox, and what each may do.

=============  =======================  ===========================
column         type                     notes
=============  =======================  ===========================
id             integer                  primary key
username       varchar(64)              unique, also case-insensitively
password_hash  varchar(255)
role           varchar(16)              agent | trainer | admin
skills         JSON list of str
capacity       integer                  open conversations at once
online         boolean
last_seen      timestamptz              nullable
active         boolean                  false: cannot sign in (disabled)
token_version  integer                  bumped to end every session at once
totp_secret    varchar(64)              nullable; confirmed TOTP secret (never shown again)
totp_pending   varchar(64)              nullable; shown at enrolment, awaiting a code
totp_last_step bigint                   nullable; step of the last accepted code (no replay)
created_at     timestamptz
=============  =======================  ===========================
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import true as sa_true

from handoff.models.base import Base, string_enum, utcnow


class Role(enum.StrEnum):
    """What an account may do."""

    AGENT = "agent"
    TRAINER = "trainer"
    ADMIN = "admin"


class Agent(Base):
    """A person using the inbox."""

    __tablename__ = "agents"
    __table_args__ = (Index("ux_agents_username_lower", text("lower(username)"), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(string_enum(Role, "agent_role"), default=Role.AGENT)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity: Mapped[int] = mapped_column(Integer, default=5)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_pending: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
