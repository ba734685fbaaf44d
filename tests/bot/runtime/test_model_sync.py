"""A model served everywhere: two real Rasa servers on one PostgreSQL registry and Redis.

Both replicas start on the cached model. Promotion records a new version in
the registry and announces it on Redis; each replica loads it into itself
with ``PUT /model`` and reports it, and promotion returns once both serve it.
``bot rollback`` brings both back; ``bot models`` lists what each serves; a
version whose file is gone is reported by the replicas and withdrawn; the
retrain button's job started on one replica is answered by the other. The
replicas poll the registry only every 120 s here, so what moves them within
the test is the Redis announcement.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.errors import RasaServerError
from bot.training.evaluate import Scores
from bot.training.model_cache import ensure_model
from bot.training.promotion import promote, record_baseline
from bot.training.rasa_server import RasaServer
from bot.training.registry import Registry
from tests.support.models import twin_model
from tests.support.postgres import throwaway_database
from tests.support.processes import (
    PROJECT_ROOT,
    STACK_START_TIMEOUT_S,
    Process,
    base_env,
    free_port,
    wait_until,
)

TOKEN = "service-token-for-the-model-sync-tests"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
SCORES = Scores(
    examples=10,
    accuracy=0.9,
    macro_f1=0.9,
    out_of_scope_recall=0.9,
    per_intent_f1={"greet": 0.9},
    parses_per_second=1.0,
)


@dataclass
class Replicas:
    urls: list[str]
    registry: Registry
    env: dict[str, str]
    project: Path
    processes: list[Process]


def _served(url: str) -> dict[str, object]:
    return dict(httpx.get(f"{url}/webhooks/models/served", timeout=10).json())


def _status_id(url: str) -> str:
    return str(httpx.get(f"{url}/status", timeout=30).json()["model_id"])


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    served = ensure_model()
    project = tmp_path_factory.mktemp("project")
    (project / "models").mkdir()
    baseline = project / "models" / served.name
    shutil.copyfile(served, baseline)
    with throwaway_database("model_sync") as database:
        registry = Registry(database)
        record_baseline(
            baseline, registry=registry, fingerprint="base", scores=SCORES, annotations=None
        )
        processes, urls = [], []
        common = {
            "DATABASE_URL": database,
            "REDIS_URL": REDIS_URL,
            "BOT_MODEL_POLL_S": "120",
            "BOT_MODEL_CACHE": str(project / "cache"),
            "HANDOFF_SERVICE_TOKEN": TOKEN,
            "HANDOFF_URL": f"http://127.0.0.1:{free_port()}",  # nobody: the retrain fails fast
        }
        for number in (1, 2):
            port = free_port()
            var_dir = tmp_path_factory.mktemp(f"rasa-{number}")
            env = base_env(
                var_dir, RASA_PORT=str(port), BOT_REPLICA_NAME=f"rasa-{number}", **common
            )
            processes.append(Process("rasa", env, var_dir / "rasa.log"))
            urls.append(f"http://127.0.0.1:{port}")
        try:
            for process in processes:
                process.start()
            for process, url in zip(processes, urls, strict=True):

                def ready(process: Process = process, url: str = url) -> bool:
                    process.assert_running()
                    return _served(url).get("version") == 1

                wait_until(ready, timeout_s=STACK_START_TIMEOUT_S, what=process.name)
            cli_env = base_env(tmp_path_factory.mktemp("cli"), RASA_URL=urls[0], **common)
            yield Replicas(urls, registry, cli_env, project, processes)
        finally:
            for process in processes:
                process.stop()
            registry.close()


def _bot(replicas: Replicas, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=PROJECT_ROOT,
        env=replicas.env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_promotion_is_served_by_every_replica_and_a_rollback_too(
    replicas: Replicas, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_MODEL_CACHE", str(replicas.project / "cache"))
    baseline_id = _status_id(replicas.urls[0])
    candidate = replicas.project / "models" / "shop-candidate.tar.gz"
    candidate_id = twin_model(Path(replicas.registry.version(1).path), candidate)
    assert candidate_id != baseline_id

    started = time.monotonic()
    promoted = promote(
        candidate,
        server=RasaServer(replicas.urls[0]),
        registry=replicas.registry,
        fingerprint="candidate",
        scores=SCORES,
        annotations="nlu: []",
        redis_url=REDIS_URL,
    )
    took = time.monotonic() - started
    assert promoted.version == 2
    assert [_status_id(url) for url in replicas.urls] == [candidate_id, candidate_id]
    assert [_served(url)["version"] for url in replicas.urls] == [2, 2]
    assert took < 120, f"the replicas waited for their poll ({took:.0f} s), not for Redis"

    listed = _bot(replicas, "models")
    assert listed.returncode == 0, listed.stderr
    lines = [line for line in listed.stdout.splitlines() if line.startswith("replica ")]
    assert len(lines) == 2 and all("serves version 2" in line for line in lines), listed.stdout
    assert {"rasa-1", "rasa-2"} == {line.split()[1] for line in lines}

    rolled_back = _bot(replicas, "rollback", "--project", str(replicas.project))
    assert rolled_back.returncode == 0, rolled_back.stderr
    assert "serving version 1 again" in rolled_back.stdout
    assert [_status_id(url) for url in replicas.urls] == [baseline_id, baseline_id]
    assert [_served(url)["version"] for url in replicas.urls] == [1, 1]


def test_a_version_no_replica_can_load_is_withdrawn(
    replicas: Replicas, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_MODEL_CACHE", str(replicas.project / "cache"))
    served_before = _status_id(replicas.urls[0])
    broken = replicas.project / "models" / "shop-broken.tar.gz"
    with tarfile.open(broken, "w:gz") as archive:  # a model id, and nothing to load
        metadata = json.dumps({"model_id": uuid.uuid4().hex}).encode()
        info = tarfile.TarInfo("metadata.json")
        info.size = len(metadata)
        archive.addfile(info, io.BytesIO(metadata))
    with pytest.raises(RasaServerError, match="could not load"):
        promote(
            broken,
            server=RasaServer(replicas.urls[0]),
            registry=replicas.registry,
            fingerprint="broken",
            scores=SCORES,
            annotations=None,
            redis_url=REDIS_URL,
        )
    serving = replicas.registry.serving()
    assert serving is not None and serving.version == 1
    withdrawn = replicas.registry.versions()[0]
    assert withdrawn.rolled_back_by is not None and "promotion failed" in withdrawn.rolled_back_by
    assert [_status_id(url) for url in replicas.urls] == [served_before, served_before]


def test_the_retrain_button_s_job_is_answered_by_either_replica(replicas: Replicas) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    one, two = (f"{url}/webhooks/retrain/jobs" for url in replicas.urls)
    started = httpx.post(one, json={"requested_by": "ada"}, headers=headers, timeout=30)
    assert started.status_code == 202, started.text
    number = started.json()["number"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = httpx.get(f"{two}/current", headers=headers, timeout=30).json()
        assert job["number"] == number and job["replica"].endswith(replicas.urls[0].rsplit(":")[-1])
        if job["state"] != "running":
            break
        time.sleep(1)
    assert job["state"] == "failed"  # no handoff service to read labels from
    assert any(line.startswith("error: cannot fetch labels") for line in job["log"]), job["log"]
