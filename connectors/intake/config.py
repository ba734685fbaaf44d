"""The intake's settings, read from the environment (see the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from bot.settings import SettingsError

# A message being processed is leased for this long and the lease is renewed
# while it runs; a process that died leaves its messages to others (or to
# itself after a restart) once the lease ran out.
DEFAULT_LEASE_S = 10.0
# How often unfinished messages are looked for.
DEFAULT_REPLAY_EVERY_S = 5.0
# A message whose processing fails this often for another reason than an
# unreachable server (Redis, the database) is given up, so it never blocks
# its conversation.
DEFAULT_MAX_FAILURES = 5
# The longest pause between two tries of a message that failed.
DEFAULT_MAX_BACKOFF_S = 10.0
# A message still waiting this long after its acknowledgement gets the
# customer a short "one moment" (once per wait).
DEFAULT_WAIT_NOTICE_S = 10.0


@dataclass(frozen=True)
class IntakeConfig:
    """How the intake leases, replays and retries messages."""

    lease_s: float = DEFAULT_LEASE_S
    replay_every_s: float = DEFAULT_REPLAY_EVERY_S
    max_failures: int = DEFAULT_MAX_FAILURES
    max_backoff_s: float = DEFAULT_MAX_BACKOFF_S
    wait_notice_s: float = DEFAULT_WAIT_NOTICE_S

    @classmethod
    def from_env(cls) -> IntakeConfig:
        """``INTAKE_LEASE_S``, ``INTAKE_REPLAY_EVERY_S``, ``INTAKE_MAX_FAILURES``,
        ``INTAKE_MAX_BACKOFF_S``, ``INTAKE_WAIT_NOTICE_S``.

        Raises:
            SettingsError: A value is not a positive number.
        """
        return cls(
            lease_s=_positive("INTAKE_LEASE_S", DEFAULT_LEASE_S),
            replay_every_s=_positive("INTAKE_REPLAY_EVERY_S", DEFAULT_REPLAY_EVERY_S),
            max_failures=int(_positive("INTAKE_MAX_FAILURES", DEFAULT_MAX_FAILURES)),
            max_backoff_s=_positive("INTAKE_MAX_BACKOFF_S", DEFAULT_MAX_BACKOFF_S),
            wait_notice_s=_positive("INTAKE_WAIT_NOTICE_S", DEFAULT_WAIT_NOTICE_S),
        )


def _positive(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from error
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return value
