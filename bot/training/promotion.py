"""Serving a model: which one is served, promoting a new one, rolling back.

A promoted model is recorded in the registry as the served version,
``models/current.tar.gz`` is pointed at it (so a restart serves it too), and
it is kept in the model cache. Every Rasa replica watches the registry
(:mod:`bot.runtime.model_sync`; at once when ``REDIS_URL`` carries the news)
and loads the served version into itself with ``PUT /model``; promotion and
rollback wait until every live replica reports serving it. When no replica
reports at all (a Rasa server started without the watcher), the model is
loaded into the server at ``RASA_URL`` directly, as before.
"""

from __future__ import annotations

import getpass
import json
import logging
import shutil
import socket
import tarfile
import time
from dataclasses import asdict
from pathlib import Path

from bot.errors import RasaServerError, RegistryError
from bot.training.evaluate import Scores
from bot.training.model_cache import CURRENT_MODEL, cache_dir, point_current_at
from bot.training.model_news import announce
from bot.training.rasa_server import RasaServer
from bot.training.registry import LIVE_WITHIN_S, ModelVersion, Registry

logger = logging.getLogger(__name__)

SERVED_TIMEOUT_S = 600.0


def who() -> str:
    """The operator, as ``user@host`` (``USER``/``LOGNAME`` and the host name)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def model_id(model: Path) -> str:
    """The unique id Rasa gave the model at training (also in ``GET /status``)."""
    with tarfile.open(model, "r:gz") as archive:
        for member in archive:
            if member.name.lstrip("./") == "metadata.json":
                file = archive.extractfile(member)
                if file is not None:
                    return str(json.load(file)["model_id"])
    raise ValueError(f"{model} has no metadata.json: not a Rasa model")


def serving_model(
    models_dir: Path, registry: Registry, server_model_id: str | None
) -> tuple[Path, ModelVersion | None]:
    """The file of the model the server serves (or would serve when started).

    Looks at the registry's served version, then ``models/current.tar.gz``;
    when the server answers with another model id, searches ``models/``
    and the model cache for it.

    Raises:
        RegistryError: The served model's file cannot be found.
    """
    served = registry.serving()
    candidates: list[Path] = []
    if served is not None:
        candidates.append(Path(served.path))
    current = models_dir / CURRENT_MODEL.name
    candidates.append(current)
    if server_model_id is None:
        for path in candidates:
            if path.is_file():
                return path.resolve(), served if path == candidates[0] else None
        raise RegistryError(f"no served model: {current} is missing; run `bot train` first")
    candidates += sorted(models_dir.glob("shop-*.tar.gz")) + sorted(cache_dir().glob("*.tar.gz"))
    for path in candidates:
        if path.is_file() and model_id(path) == server_model_id:
            version = served if served is not None and served.model_id == server_model_id else None
            return path.resolve(), version
    raise RegistryError(f"the server serves model {server_model_id}, whose file was not found")


def install(model: Path, models_dir: Path) -> Path:
    """Makes ``models/current.tar.gz`` point at ``model``, copied into ``models/`` if needed."""
    local = models_dir / model.name
    if local.resolve() != model.resolve():
        models_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model, local)
    point_current_at(local)
    return local


def load_into_server(server: RasaServer, model: Path) -> bool:
    """``PUT /model`` and a check that the server now serves it; False if it is down."""
    if server.status() is None:
        logger.warning("Rasa at %s is not running; it serves the model when started", server.url)
        return False
    server.load_model(model)
    status = server.status()
    expected = model_id(model)
    if status is None or status.get("model_id") != expected:
        raise RasaServerError(f"after PUT /model the server reports {status}, not {expected}")
    return True


def serve_everywhere(
    version: ModelVersion,
    *,
    server: RasaServer,
    registry: Registry,
    redis_url: str | None = None,
    timeout_s: float = SERVED_TIMEOUT_S,
    poll_s: float = 0.5,
) -> bool:
    """Waits until every live replica serves ``version`` (announced on Redis first).

    Returns False when no replica reports and the server at ``RASA_URL`` is
    down too (it serves the registry's version when started).

    Raises:
        RasaServerError: A replica failed to load it, or not all did in time.
    """
    announce(redis_url, version.version)
    deadline = time.monotonic() + timeout_s
    while True:
        live = [r for r in registry.replicas() if r.alive(LIVE_WITHIN_S)]
        if not live:
            return load_into_server(server, Path(version.path))
        failed = [r for r in live if (r.error or "").startswith(f"version {version.version}:")]
        if failed:
            reasons = "; ".join(f"{r.name}: {r.error}" for r in failed)
            raise RasaServerError(f"a replica could not load it: {reasons}")
        behind = [r.name for r in live if r.model_id != version.model_id]
        if not behind:
            return True
        if time.monotonic() > deadline:
            raise RasaServerError(f"version {version.version} not served in time by {behind}")
        time.sleep(poll_s)


def promote(
    candidate: Path,
    *,
    server: RasaServer,
    registry: Registry,
    fingerprint: str,
    scores: Scores,
    annotations: str | None,
    note: str = "",
    redis_url: str | None = None,
) -> ModelVersion:
    """Records ``candidate`` as the served version and waits until every replica serves it.

    Raises:
        RasaServerError: A replica could not load it; the version is withdrawn
            again (the replicas go back to the one before).
    """
    cached = cache_dir() / candidate.name
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(candidate, cached)
    version = registry.record(
        model_id=model_id(candidate),
        fingerprint=fingerprint,
        path=str(candidate.resolve()),
        metrics=_metrics(scores),
        annotations=annotations,
        created_by=who(),
        note=note,
    )
    try:
        served = serve_everywhere(version, server=server, registry=registry, redis_url=redis_url)
    except Exception:
        registry.withdraw(version.version, by=f"{who()} (promotion failed)")
        announce(redis_url, version.version - 1)
        raise
    point_current_at(candidate)  # the candidate is trained into models/
    if not served:
        registry.set_note(version.version, f"{note} (server not running at promotion)".strip())
    return registry.version(version.version)


def record_baseline(
    model: Path, *, registry: Registry, fingerprint: str, scores: Scores, annotations: str | None
) -> ModelVersion:
    """Registers the model served before the first retrain, so one can roll back to it."""
    return registry.record(
        model_id=model_id(model),
        fingerprint=fingerprint,
        path=str(model),
        metrics=_metrics(scores),
        annotations=annotations,
        created_by=who(),
        note="served before the first retrain",
    )


def roll_back(
    *,
    server: RasaServer,
    registry: Registry,
    models_dir: Path,
    annotations_file: Path,
    redis_url: str | None = None,
) -> ModelVersion:
    """Serves the version before the served one again; returns it.

    The annotations file it was trained with is written back, so the data
    in the checkout matches the served model again (and ``bot run`` keeps
    serving it).

    Raises:
        RegistryError: There is nothing to roll back to, or its file is gone.
    """
    rolled_back, previous = registry.roll_back(by=who())
    model = Path(previous.path)
    try:
        if not model.is_file():
            raise RegistryError(f"version {previous.version}'s model {model} is gone")
        serve_everywhere(previous, server=server, registry=registry, redis_url=redis_url)
    except Exception:
        registry.undo_roll_back(rolled_back.version)
        announce(redis_url, rolled_back.version)
        raise
    install(model, models_dir)
    if previous.annotations is None:
        annotations_file.unlink(missing_ok=True)
    else:
        annotations_file.write_text(previous.annotations, encoding="utf-8")
    return previous


def _metrics(scores: Scores) -> dict[str, object]:
    metrics = asdict(scores)
    metrics.pop("errors")
    return metrics
