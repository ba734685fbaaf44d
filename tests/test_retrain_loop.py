"""The trainers' loop for real: queue → labels → ``bot retrain`` → the running server.

Against the session stack (real Rasa, action server, shop and handoff
service): messages the shipped model gets wrong are sent through the REST
channel, land in the trainers' queue, are labelled through the service's
API, and ``bot retrain --from-service`` trains, evaluates and promotes a
model that gets them right into the running Rasa server (``PUT /model``).
Then ``bot rollback`` serves the shipped model again; the admins' button
(``POST /api/retrain`` on the handoff service → ``bot/runtime/retrain_jobs.py`` on
the Rasa server) does the same retrain and reports its stages; and a harmful
label set (greetings labelled as refunds) is refused by the gate after a
real training and evaluation.

The retrain runs on a copy of the assistant's files (``--project``), with
its own registry (``BOT_VAR_DIR``) and model cache (``BOT_MODEL_CACHE``), and
against a stack of its own, so the checkout's data, ``models/``, the shared
cache and the session's Rasa server stay as they are. Two trainings of about
a minute each (two to three on a busy 2-core machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.settings import PROJECT_ROOT
from bot.training.model_cache import CURRENT_MODEL, ensure_model
from bot.training.promotion import model_id
from tests.support.assistant import copy_assistant
from tests.support.handoff_client import HandoffClient
from tests.support.processes import Stack, running_stack

pytestmark = pytest.mark.stack

# What customers wrote that the shipped model does not understand (it falls
# back or hesitates between two intents), and what they meant. Checked
# against the served model first, so a better shipped model fails the test
# loudly instead of making it pass without testing anything.
MISUNDERSTOOD = {
    example["text"]: example["intent"]
    for example in json.loads(
        (Path(__file__).parent / "fixtures" / "misunderstood_labels.json").read_text("utf-8")
    )["examples"]
}
# Greetings labelled as refunds: the averages barely move (-0.01), greet and
# request_refund lose 0.2 and 0.07 F1 on the held-out split.
GREETINGS = [
    line
    for line in (Path(__file__).parent / "fixtures" / "harmful_greetings.txt")
    .read_text("utf-8")
    .splitlines()
    if line and not line.startswith("#")
]
RETRAIN_TIMEOUT_S = 900


@dataclass
class Project:
    """A copy of the assistant's files, and a stack of its own serving and retraining it."""

    root: Path
    stack: Stack
    env: dict[str, str]

    def bot(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "bot", *args]
        if args[0] in ("retrain", "rollback"):
            command += ["--project", str(self.root)]
        return subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=RETRAIN_TIMEOUT_S,
        )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """Its own stack, so the session's Rasa keeps its model whatever happens here.

    The Rasa server's retrain button (``bot/runtime/retrain_jobs.py``) works on the
    copy (``BOT_RETRAIN_PROJECT``); the registry is the stack's
    (``BOT_VAR_DIR``), shared by the commands the test runs and the button.
    """
    ensure_model()
    root = tmp_path_factory.mktemp("assistant")
    copy_assistant(root)
    cache = str(root / "model-cache")
    var_dir = tmp_path_factory.mktemp("retrain-stack")
    with running_stack(
        var_dir, handoff=True, BOT_RETRAIN_PROJECT=str(root), BOT_MODEL_CACHE=cache
    ) as stack:
        assert stack.handoff is not None
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("RASA_", "HANDOFF_", "DATABASE_URL", "REDIS_URL"))
        }
        env |= {
            "BOT_IGNORE_DOTENV": "1",
            "BOT_VAR_DIR": str(var_dir),
            "BOT_MODEL_CACHE": cache,
            "RASA_URL": stack.rasa_url,
            "HANDOFF_URL": stack.handoff.url,
            "HANDOFF_SERVICE_TOKEN": stack.handoff.token,
        }
        yield Project(root, stack, env)


@pytest.fixture(scope="module")
def stack(project: Project) -> Stack:
    """This module's stack (not the session's)."""
    return project.stack


def _parse(stack: Stack, text: str) -> dict[str, Any]:
    response = httpx.post(f"{stack.rasa_url}/model/parse", json={"text": text}, timeout=60)
    response.raise_for_status()
    return dict(response.json())


def _served_model_id(stack: Stack) -> str:
    return str(httpx.get(f"{stack.rasa_url}/status", timeout=30).json()["model_id"])


def _queued(trainer: HandoffClient, texts: set[str], timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    found: dict[str, Any] = {}
    while time.monotonic() < deadline:
        listed = trainer.http.get("/api/annotations", params={"status": "new", "limit": 1000})
        listed.raise_for_status()
        found = {item["text"]: item for item in listed.json()["items"] if item["text"] in texts}
        if set(found) == texts:
            return found
        time.sleep(0.5)
    raise AssertionError(f"not queued in {timeout_s} s: {sorted(texts - set(found))}")


def test_labelled_messages_are_understood_after_retrain_then_rolled_back(
    stack: Stack, project: Project
) -> None:
    shipped = _served_model_id(stack)
    for text, intent in MISUNDERSTOOD.items():
        parse = _parse(stack, text)
        assert parse["intent"]["name"] != intent, f"the shipped model already gets {text!r}"

    for text in MISUNDERSTOOD:
        sender = f"webchat:{uuid.uuid4().hex[:12]}"
        said = httpx.post(
            f"{stack.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=60,
        )
        said.raise_for_status()

    assert stack.handoff is not None
    trainer = HandoffClient.admin(stack.handoff)
    queued = _queued(trainer, set(MISUNDERSTOOD))
    for text, item in queued.items():
        assert item["reason"] in ("nlu_fallback", "ambiguous"), item
        labelled = trainer.http.post(
            f"/api/annotations/{item['id']}", json={"intent": MISUNDERSTOOD[text]}
        )
        assert labelled.status_code == 200, labelled.text

    retrained = project.bot("retrain", "--from-service")
    assert retrained.returncode == 0, retrained.stdout + retrained.stderr
    assert "promoted version 2" in retrained.stdout, retrained.stdout
    assert "candidate" in retrained.stdout  # the side-by-side per-intent table
    annotations = (project.root / "data" / "nlu" / "annotations.yml").read_text("utf-8")
    for text in MISUNDERSTOOD:
        assert text in annotations

    trained = [
        path
        for path in (project.root / "models").glob("shop-*.tar.gz")
        if path.name != CURRENT_MODEL.resolve().name
    ]
    assert len(trained) == 1, trained
    promoted = trained[0]
    assert _served_model_id(stack) == model_id(promoted) != shipped
    for text, intent in MISUNDERSTOOD.items():
        assert _parse(stack, text)["intent"]["name"] == intent, text
    assert (project.root / "model-cache" / promoted.name).is_file()
    assert not any(path.name == promoted.name for path in (PROJECT_ROOT / "models").glob("*"))

    listed = project.bot("models")
    assert listed.returncode == 0, listed.stderr
    table, _, replicas = listed.stdout.partition("\n\n")
    rows = [line.split() for line in table.splitlines()[1:]]
    assert [row[0] for row in rows] == ["2", "1"]
    assert "serving" in listed.stdout.splitlines()[1]
    # The stack's Rasa server reports what it serves (bot/runtime/model_sync.py).
    assert replicas.startswith("replica ") and "serves version 2" in replicas, listed.stdout

    rolled_back = project.bot("rollback")
    assert rolled_back.returncode == 0, rolled_back.stderr
    assert "serving version 1 again" in rolled_back.stdout
    assert _served_model_id(stack) == shipped
    assert not (project.root / "data" / "nlu" / "annotations.yml").exists()


def test_an_admins_button_retrains_through_the_rasa_side_and_shows_the_stages(
    stack: Stack, project: Project
) -> None:
    # After the rollback above the labels are still in the queue: the button
    # retrains on them again. The candidate trained above is still on disk,
    # so this run exports, validates, scores and promotes without training.
    assert stack.handoff is not None
    admin = HandoffClient.admin(stack.handoff)
    shipped = _served_model_id(stack)
    started = admin.http.post("/api/retrain")
    assert started.status_code == 202, started.text
    assert started.json()["requested_by"] == stack.handoff.admin[0]
    assert admin.http.post("/api/retrain").status_code == 409  # one at a time
    stages = set()
    deadline = time.monotonic() + RETRAIN_TIMEOUT_S
    job = started.json()
    while job["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.5)
        job = admin.http.get("/api/retrain").json()
        stages.add(job["stage"])

    assert job["state"] == "promoted", job
    assert {"scoring", "promoting"} <= stages, stages
    assert any(line.startswith("promoted version 3") for line in job["log"]), job["log"]
    assert _served_model_id(stack) != shipped
    for text, intent in MISUNDERSTOOD.items():
        assert _parse(stack, text)["intent"]["name"] == intent, text

    rolled_back = project.bot("rollback")
    assert rolled_back.returncode == 0, rolled_back.stderr
    assert _served_model_id(stack) == shipped


def test_a_harmful_label_set_is_refused_and_the_serving_model_stays(
    stack: Stack, project: Project, tmp_path: Path
) -> None:
    serving = _served_model_id(stack)
    # The registry's table (the replicas' lines after it show when each was last seen).
    before = project.bot("models").stdout.partition("\n\n")[0]
    labels = tmp_path / "harmful.json"
    labels.write_text(
        json.dumps({"examples": [{"text": g, "intent": "request_refund"} for g in GREETINGS]}),
        encoding="utf-8",
    )
    models_before = sorted(path.name for path in (project.root / "models").iterdir())

    refused = project.bot("retrain", "--labels", str(labels))

    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "refused: the serving model stays" in refused.stderr
    assert "greet F1" in refused.stderr  # why
    assert "request_refund F1" in refused.stderr
    assert "candidate" in refused.stdout  # it was really trained and scored
    assert _served_model_id(stack) == serving
    assert project.bot("models").stdout.partition("\n\n")[0] == before
    assert sorted(path.name for path in (project.root / "models").iterdir()) == models_before
    assert not (project.root / "data" / "nlu" / "annotations.yml").exists()
