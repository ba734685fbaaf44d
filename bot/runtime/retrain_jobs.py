"""The admins' retrain button, Rasa side: ``/webhooks/retrain/jobs``.

The handoff service cannot train (Rasa lives in this environment), so when an
admin presses the button on the trainers' page the service calls this route
of the Rasa server with the service token. It runs ``python -m bot retrain
--from-service`` as a child process, one at a time, and reports its stage
from the lines the command prints:

``exporting`` → ``validating`` → ``training`` → ``scoring`` → ``promoting``,
then ``promoted``, ``unchanged`` (nothing new to train on), ``refused`` (the
gate kept the serving model; exit 3) or ``failed``.

``POST /webhooks/retrain/jobs`` ``{"requested_by"}`` starts a job (202; 409
while one runs); ``GET /webhooks/retrain/jobs/current`` is the latest job
(404 before the first). Both demand ``Authorization: Bearer
<HANDOFF_SERVICE_TOKEN>``. Nothing from the request reaches the command
line. The job's state lives in the database (:mod:`bot.runtime.job_store`),
so with several Rasa replicas behind one address any of them answers the
page's polling, and one job runs at a time across all of them. The job runs
on the replica that took the request; the model it promotes reaches every
replica through the registry (:mod:`bot.runtime.model_sync`).

It is a Rasa input channel only to be mounted on the Rasa server; it never
receives customer messages. ``credentials.yml`` turns it on; ``project``
(``BOT_RETRAIN_PROJECT``) is the assistant's folder, the checkout by default.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import settings as bot_settings
from bot.common.service_token import token_matches
from bot.runtime.job_store import HEARTBEAT_S, JobStore, NumberTaken
from bot.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

# What `bot retrain` prints at each step (bot/training/retrain.py), and the stage it starts.
_STAGE_MARKERS = (
    ("serving model:", "exporting"),
    ("labelled examples in", "validating"),
    ("training the candidate", "training"),
    ("trained in", "scoring"),
    ("registered the serving model", "promoting"),
    ("promoted version", "promoting"),
)
STAGES = ("exporting", "validating", "training", "scoring", "promoting")
LOG_LINES = 200
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Library chatter that would push the command's own lines out of the log.
_NOISE = re.compile(r"warning|deprecat|jieba|prefix dict|loading model|^\s|^\[|^$", re.IGNORECASE)
_REQUESTED_BY = re.compile(r"[\w.@:-]{1,64}")
EXIT_REFUSED = 3
MAX_BODY_BYTES = 4096


@dataclass
class RetrainJob:
    """One run of ``bot retrain``, as the trainers' page shows it."""

    number: int
    requested_by: str
    state: str = "running"  # running, promoted, unchanged, refused, failed
    stage: str = "exporting"
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    exit_code: int | None = None
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES))

    def read(self, line: str) -> None:
        """Takes one line of the command's output: the stage it marks, and the log."""
        line = _ANSI.sub("", line).rstrip()
        for marker, stage in _STAGE_MARKERS:
            if marker in line:
                self.stage = stage
        if line.startswith(("refused:", "error:")) or not _NOISE.search(line):
            self.log.append(line)

    def finish(self, exit_code: int) -> None:
        """Sets the outcome from the exit code (bot/commands.py) and what was printed."""
        self.exit_code = exit_code
        self.finished_at = time.time()
        said = "\n".join(self.log)
        if exit_code == 0:
            self.state = "promoted" if "promoted version" in said else "unchanged"
        else:
            self.state = "refused" if exit_code == EXIT_REFUSED else "failed"

    def as_json(self) -> dict[str, Any]:
        """The JSON the trainers' page reads."""
        return {
            "number": self.number,
            "requested_by": self.requested_by,
            "state": self.state,
            "stage": self.stage,
            "stages": list(STAGES),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "exit_code": self.exit_code,
            "log": list(self.log),
        }


class AlreadyRunning(Exception):
    """A job runs already."""


class RetrainRunner:
    """Runs one retrain at a time as a child process; its jobs live in ``store``."""

    def __init__(self, command: list[str], store: JobStore, *, replica: str = "") -> None:
        """``command`` is run as is, with this process's environment."""
        self.command = command
        self.store = store
        self.replica = replica or socket.gethostname()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def for_project(cls, project: Path, store: JobStore, *, replica: str = "") -> RetrainRunner:
        """``python -m bot retrain --from-service --project <project>``."""
        command = [sys.executable, "-m", "bot", "retrain", "--from-service"]
        return cls([*command, "--project", str(project)], store, replica=replica)

    async def latest(self) -> dict[str, Any] | None:
        """The newest job of any replica, as the page's JSON (with the replica running it)."""
        job = await asyncio.to_thread(self.store.latest)
        return None if job is None else job | {"stages": list(STAGES)}

    async def start(self, requested_by: str) -> RetrainJob:
        """Starts a job here.

        Raises:
            AlreadyRunning: A job (of any replica) has not finished.
        """
        latest = await self.latest()
        if latest is not None and latest["state"] == "running":
            raise AlreadyRunning(f"retrain {latest['number']} is still running")
        job = RetrainJob(latest["number"] + 1 if latest else 1, requested_by)
        try:
            await asyncio.to_thread(self.store.insert, job.as_json(), replica=self.replica)
        except NumberTaken as error:
            raise AlreadyRunning(f"retrain {job.number} was started by another replica") from error
        self._task = asyncio.get_running_loop().create_task(self._run(job))
        return job

    async def wait(self) -> None:
        """Until the current job has finished (tests, shutdown)."""
        if self._task is not None:
            await self._task

    async def _save(self, job: RetrainJob) -> None:
        try:
            await asyncio.to_thread(self.store.save, job.as_json())
        except Exception:  # the job goes on; the page sees it at the next save
            logger.exception("could not save retrain %s", job.number)

    async def _heartbeat(self, job: RetrainJob) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            await self._save(job)

    async def _run(self, job: RetrainJob) -> None:
        logger.info("retrain %s requested by %s", job.number, job.requested_by)
        heartbeat = asyncio.get_running_loop().create_task(self._heartbeat(job))
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command,
                cwd=PROJECT_ROOT,
                env=dict(os.environ) | {"PYTHONUNBUFFERED": "1"},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            assert process.stdout is not None
            async for raw in process.stdout:
                before = (job.stage, len(job.log), job.log[-1] if job.log else None)
                job.read(raw.decode("utf-8", errors="replace"))
                if (job.stage, len(job.log), job.log[-1] if job.log else None) != before:
                    await self._save(job)
            job.finish(await process.wait())
        except Exception as error:  # the job must end in a state the page can show
            logger.exception("retrain %s could not run", job.number)
            job.log.append(f"error: {error}")
            job.finish(-1)
        finally:
            heartbeat.cancel()
        await self._save(job)
        logger.info("retrain %s: %s", job.number, job.state)


class RetrainJobsInput(InputChannel):
    """Mounts the retrain jobs' routes on the Rasa server (no customer messages)."""

    @classmethod
    def name(cls) -> str:
        """``/webhooks/retrain/``."""
        return "retrain"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> RetrainJobsInput:
        """``project``: the assistant's folder (default: this checkout)."""
        project = str((credentials or {}).get("project") or "").strip()
        settings = bot_settings.load()
        store = JobStore.from_settings(settings)
        replica = f"{socket.gethostname()}:{settings.rasa_port}"
        runner = RetrainRunner.for_project(
            Path(project) if project else PROJECT_ROOT, store, replica=replica
        )
        return cls(runner)

    def __init__(self, runner: RetrainRunner, *, token: str | None = None) -> None:
        """``token``: the service token; by default from the settings, read at start-up."""
        self.runner = runner
        self.token = token

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """``POST /jobs`` and ``GET /jobs/current``."""
        expected = self.token or bot_settings.service_token(bot_settings.load())
        blueprint = Blueprint("retrain_jobs", __name__)

        def refused(request: Request) -> HTTPResponse | None:
            if token_matches(request.headers.get("authorization"), expected):
                return None
            return response.json({"error": "wrong or missing service token"}, status=403)

        @blueprint.route("/jobs", methods=["POST"])
        async def start(request: Request) -> HTTPResponse:
            if (answer := refused(request)) is not None:
                return answer
            if len(request.body or b"") > MAX_BODY_BYTES:
                return response.json({"error": "the body is too large"}, status=413)
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                return response.json({"error": "the body is not JSON"}, status=400)
            who = body.get("requested_by") if isinstance(body, dict) else None
            if not isinstance(who, str) or not _REQUESTED_BY.fullmatch(who):
                return response.json({"error": "requested_by must be a user name"}, status=400)
            try:
                job = await self.runner.start(who)
            except AlreadyRunning as error:
                current = await self.runner.latest()
                return response.json({"error": str(error), "job": current}, status=409)
            return response.json(job.as_json(), status=202)

        @blueprint.route("/jobs/current", methods=["GET"])
        async def current(request: Request) -> HTTPResponse:
            if (answer := refused(request)) is not None:
                return answer
            job = await self.runner.latest()
            if job is None:
                return response.json({"error": "no retrain yet"}, status=404)
            return response.json(job)

        return blueprint
