"""Schema: ``login_counters`` — sign-in attempts per key and window (no Redis).

===========  ===========  =====================================================
column       type         notes
===========  ===========  =====================================================
name         varchar(200) primary key: ``user:<name>``, ``addr:<ip>``, ``all``
hits         integer      attempts counted in the current window
expires_at   float        Unix time the window ends (then counting restarts)
===========  ===========  =====================================================
"""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.models.base import Base


class LoginCounter(Base):
    """One limiter counter; updated only by one atomic upsert (see ``ratelimit``)."""

    __tablename__ = "login_counters"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float)
