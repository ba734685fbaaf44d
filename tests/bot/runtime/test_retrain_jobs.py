"""The Rasa side of the retrain button (``bot/runtime/retrain_jobs.py``), on a real Sanic server.

The job runs a short script that prints what ``bot retrain`` prints and exits
with its codes, so the stages, the log and the outcome can be checked in
seconds; ``tests/test_retrain_loop.py`` presses the button for real. Jobs
live in the database: on SQLite here, and on real PostgreSQL shared by two
servers (two replicas) in the last tests.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sanic import Sanic

from bot.runtime import job_store
from bot.runtime.job_store import JobStore
from bot.runtime.retrain_jobs import RetrainJob, RetrainJobsInput, RetrainRunner
from tests.support.postgres import throwaway_database
from tests.support.sanic_server import serve_sanic

TOKEN = "service-token-for-the-retrain-tests"
PRINTS = """
import sys, time
for line in [
    "serving model: /srv/models/shop-1.tar.gz",
    "\\x1b[93mUserWarning: something deprecated\\x1b[0m",
    "6 labelled examples in data/nlu/annotations.yml",
    "training the candidate (full training)",
    "trained in 52 s; scoring both models on nlu_holdout",
]:
    print(line, flush=True)
    time.sleep(0.05)
if sys.argv[1] == "refuse":
    print("refused: the serving model stays. greet F1 0.750 is 0.216 below", file=sys.stderr)
    sys.exit(3)
print("promoted version 2: accuracy 0.899 -> 0.901")
"""


@pytest.fixture(autouse=True)
def _sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    jobs = JobStore(f"sqlite:///{tmp_path / 'registry.db'}")
    yield jobs
    jobs.close()


@pytest.fixture
def shared_store() -> Iterator[str]:
    """A PostgreSQL database two replicas' stores share (yields its URL)."""
    with throwaway_database("retrain_jobs") as url:
        yield url


@asynccontextmanager
async def serving(channel: RetrainJobsInput) -> AsyncIterator[str]:
    async def nothing(_: object) -> None:
        raise AssertionError("the retrain channel takes no messages")

    app = Sanic(f"retrain_test_{uuid.uuid4().hex[:10]}")
    app.blueprint(channel.blueprint(nothing), url_prefix="/webhooks/retrain")
    async with serve_sanic(app, listeners=False) as url:
        try:
            yield f"{url}/webhooks/retrain"
        finally:
            await channel.runner.wait()


def _channel(outcome: str, store: JobStore, replica: str = "rasa-1") -> RetrainJobsInput:
    runner = RetrainRunner([sys.executable, "-c", PRINTS, outcome], store, replica=replica)
    return RetrainJobsInput(runner, token=TOKEN)


async def _finished(http: httpx.AsyncClient, url: str) -> dict[str, object]:
    for _ in range(200):
        job = (await http.get(f"{url}/jobs/current")).json()
        if job["state"] != "running":
            return dict(job)
        await asyncio.sleep(0.05)
    raise AssertionError("the job never finished")


async def test_a_job_runs_reports_its_stages_and_is_promoted(store: JobStore) -> None:
    channel = _channel("promote", store)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with serving(channel) as url, httpx.AsyncClient(headers=headers) as http:
        assert (await http.get(f"{url}/jobs/current")).status_code == 404
        started = await http.post(f"{url}/jobs", json={"requested_by": "ada"})
        assert started.status_code == 202, started.text
        assert started.json()["state"] == "running"
        second = await http.post(f"{url}/jobs", json={"requested_by": "bob"})
        assert second.status_code == 409
        job = await _finished(http, url)

    assert job["state"] == "promoted"
    assert job["stage"] == "promoting"
    assert job["exit_code"] == 0
    assert job["requested_by"] == "ada"
    assert job["log"] == [
        "serving model: /srv/models/shop-1.tar.gz",
        "6 labelled examples in data/nlu/annotations.yml",
        "training the candidate (full training)",
        "trained in 52 s; scoring both models on nlu_holdout",
        "promoted version 2: accuracy 0.899 -> 0.901",
    ]


async def test_a_refused_candidate_ends_refused_with_the_reason(store: JobStore) -> None:
    channel = _channel("refuse", store)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with serving(channel) as url, httpx.AsyncClient(headers=headers) as http:
        await http.post(f"{url}/jobs", json={"requested_by": "ada"})
        job = await _finished(http, url)
        again = await http.post(f"{url}/jobs", json={"requested_by": "ada"})
        assert again.status_code == 202  # a finished job does not block the next
        assert again.json()["number"] == 2

    assert job["state"] == "refused"
    assert job["stage"] == "scoring"
    assert job["exit_code"] == 3
    assert any(str(line).startswith("refused: the serving model stays") for line in job["log"])


async def test_only_the_service_token_may_start_or_read_and_bad_bodies_change_nothing(
    store: JobStore,
) -> None:
    channel = _channel("promote", store)
    async with serving(channel) as url, httpx.AsyncClient() as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            start = await http.post(f"{url}/jobs", json={"requested_by": "x"}, headers=headers)
            read = await http.get(f"{url}/jobs/current", headers=headers)
            assert (start.status_code, read.status_code) == (403, 403)
        good = {"Authorization": f"Bearer {TOKEN}"}
        bad = [
            await http.post(f"{url}/jobs", content=b"{", headers=good),
            await http.post(f"{url}/jobs", json={"requested_by": "a b; rm -rf /"}, headers=good),
            await http.post(f"{url}/jobs", json={}, headers=good),
        ]
        too_large = await http.post(f"{url}/jobs", content=b"x" * 5000, headers=good)
        assert [r.status_code for r in bad] == [400, 400, 400]
        assert too_large.status_code == 413
        assert await channel.runner.latest() is None


def test_stages_follow_the_commands_output() -> None:
    job = RetrainJob(1, "ada")
    job.read("serving model: x\n")
    assert job.stage == "exporting"
    job.read("training the candidate (full training: ...)\n")
    assert job.stage == "training"
    job.read("the data is that of the serving model: nothing to retrain\n")
    job.finish(0)
    assert job.state == "unchanged"
    failed = RetrainJob(2, "ada")
    failed.read("error: cannot fetch labels from http://127.0.0.1:8000/api/annotations/export\n")
    failed.finish(1)
    assert failed.state == "failed"
    assert failed.log[-1].startswith("error: cannot fetch labels")


async def test_any_replica_answers_about_a_job_another_runs_and_only_one_runs(
    shared_store: str,
) -> None:
    first_store, second_store = JobStore(shared_store), JobStore(shared_store)
    first = _channel("promote", first_store, replica="rasa-1")
    second = _channel("promote", second_store, replica="rasa-2")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with (
            serving(first) as one,
            serving(second) as two,
            httpx.AsyncClient(headers=headers) as http,
        ):
            started = await http.post(f"{one}/jobs", json={"requested_by": "ada"})
            assert started.status_code == 202, started.text
            elsewhere = await http.post(f"{two}/jobs", json={"requested_by": "bob"})
            assert elsewhere.status_code == 409  # one job across replicas
            assert elsewhere.json()["job"]["replica"] == "rasa-1"
            seen = (await http.get(f"{two}/jobs/current")).json()
            assert (seen["number"], seen["state"], seen["replica"]) == (1, "running", "rasa-1")
            job = await _finished(http, two)  # polled on the replica not running it
            assert job["state"] == "promoted" and job["log"][-1].startswith("promoted version 2")
            again = await http.post(f"{two}/jobs", json={"requested_by": "bob"})
            assert again.status_code == 202 and again.json()["number"] == 2
    finally:
        first_store.close()
        second_store.close()


def test_a_job_whose_replica_fell_silent_is_reported_failed(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = RetrainJob(7, "ada").as_json()
    store.insert(job, replica="rasa-9")
    latest = store.latest()
    assert latest is not None and latest["state"] == "running"
    monkeypatch.setattr(job_store, "STALE_S", 0.05)  # as if a minute had passed
    time.sleep(0.1)
    latest = store.latest()
    assert latest is not None and latest["state"] == "failed"
    assert latest["log"][-1] == "error: replica rasa-9 stopped while running it"
