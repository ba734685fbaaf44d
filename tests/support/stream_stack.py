"""Fault injection on the event stream: a steady load through Rasa, and what the inbox saw.

:class:`SteadyLoad` sends messages to Rasa's REST channel from a thread,
one conversation after another, and records each message Rasa answered
(a message Rasa refused while it restarts was never accepted, so it is not
expected anywhere). :func:`stored_turns` reads what the handoff service
stored, from its PostgreSQL database.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
import sqlalchemy as sa

from tests.support.processes import Process, wait_until


@dataclass
class SteadyLoad:
    """Customers writing to ``rasa_url`` (``conversations`` of them, in turn) until stopped."""

    rasa_url: str
    conversations: int = 3
    prefix: str = "stream"
    pause_s: float = 0.2
    answered: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    refused: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Starts sending in the background."""
        self._thread = threading.Thread(target=self._run, name="steady-load", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops sending (after the message in flight)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)

    @property
    def sent(self) -> int:
        """Messages Rasa answered so far."""
        return sum(len(texts) for texts in self.answered.values())

    def _run(self) -> None:
        index = 0
        with httpx.Client(timeout=60) as http:
            while not self._stop.is_set():
                sender = f"{self.prefix}:{index % self.conversations}"
                text = f"hello number {index}"
                try:
                    response = http.post(
                        f"{self.rasa_url}/webhooks/rest/webhook",
                        json={"sender": sender, "message": text},
                    )
                    accepted = response.status_code == 200
                except httpx.HTTPError:
                    accepted = False
                if accepted:
                    self.answered[sender].append(text)
                else:
                    self.refused += 1
                index += 1
                self._stop.wait(self.pause_s)


def stored_turns(database_url: str, prefix: str) -> dict[str, list[str]]:
    """The customer turns the handoff service stored per conversation, in stored order."""
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg2://"))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT conversation_id, text FROM messages"
                    " WHERE role = 'customer' AND conversation_id LIKE :p ORDER BY id"
                ),
                {"p": f"{prefix}:%"},
            )
            turns: dict[str, list[str]] = defaultdict(list)
            for cid, text in rows:
                turns[cid].append(text)
            return dict(turns)
    finally:
        engine.dispose()


def kill(process: Process) -> None:
    """SIGKILL, no goodbye."""
    assert process.popen is not None
    process.popen.send_signal(signal.SIGKILL)
    process.popen.wait()


def restart(process: Process, health_url: str, timeout_s: float = 300) -> float:
    """Starts ``process`` again; returns the seconds until ``health_url`` answered 200."""
    started = time.monotonic()
    process.start()

    def ready() -> bool:
        process.assert_running()
        try:
            return httpx.get(health_url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, timeout_s=timeout_s, what=process.name)
    return time.monotonic() - started
