"""Trained models: fingerprint of the training inputs, and a cache outside the clone.

Training takes minutes on a small machine, so a model is trained only when
no model with the same data fingerprint exists, either in ``models/`` or in
the user's cache (``$BOT_MODEL_CACHE``, default ``~/.cache/shop-assistant``),
the way pip keeps wheels: a fresh clone with unchanged data reuses it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bot.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

MODELS_DIR = PROJECT_ROOT / "models"
CURRENT_MODEL = MODELS_DIR / "current.tar.gz"
# What the trained model depends on; the components the pipeline names
# (bot/components/) are included because a changed component may train
# differently.
TRAINING_INPUTS = (
    "config.yml",
    "domain.yml",
    "data",
    "bot/components/policies.py",
    "bot/components/tokenizer.py",
    "bot/components/classifier.py",
    "bot/components/features.py",
    "bot/components/encoder.py",
    "bot/components/vector_cache.py",
)


def cache_dir() -> Path:
    """Where trained models are kept across clones."""
    configured = os.environ.get("BOT_MODEL_CACHE")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "shop-assistant" / "models"


def _input_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for name in TRAINING_INPUTS:
        path = root / name
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            files.append(path)
    return files


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    """A hash of every training input and the Rasa version."""
    from rasa import __version__ as rasa_version

    digest = hashlib.sha256(f"rasa {rasa_version}\n".encode())
    for path in _input_files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def current_model_path() -> Path:
    """The model the stack serves."""
    return CURRENT_MODEL


def point_current_at(model: Path) -> None:
    """Makes ``current.tar.gz`` next to ``model`` point at it (what a restart serves)."""
    current = model.parent / CURRENT_MODEL.name
    model.parent.mkdir(parents=True, exist_ok=True)
    if current.is_symlink() or current.exists():
        current.unlink()
    current.symlink_to(model.name)


def ensure_model(*, force: bool = False) -> Path:
    """Returns a model trained on the current data, training one if needed.

    Args:
        force: Train even when a cached model matches.

    Returns:
        The path of the model under ``models/``.
    """
    name = f"shop-{fingerprint()}.tar.gz"
    local = MODELS_DIR / name
    cached = cache_dir() / name
    if not force and local.is_file():
        logger.info("model %s is up to date", name)
    elif not force and cached.is_file():
        MODELS_DIR.mkdir(exist_ok=True)
        shutil.copyfile(cached, local)
        logger.info("model %s restored from %s", name, cached.parent)
    else:
        train(local)
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, cached)
    point_current_at(local)
    return local


def train(output: Path, root: Path = PROJECT_ROOT) -> float:
    """Trains a model into ``output`` from the inputs under ``root``; returns the seconds.

    Rasa runs in this checkout, so the pipeline's components (``bot.components.tokenizer`` …)
    and Rasa's training cache (``.rasa/``) are this checkout's.
    """
    started = time.monotonic()
    rasa = os.path.join(os.path.dirname(sys.executable), "rasa")
    subprocess.run(
        [
            rasa,
            "train",
            "--config",
            str(root / "config.yml"),
            "--domain",
            str(root / "domain.yml"),
            "--data",
            str(root / "data"),
            "--out",
            str(output.parent),
            "--fixed-model-name",
            output.name.removesuffix(".tar.gz"),
        ],
        cwd=PROJECT_ROOT,
        check=True,
    )
    seconds = time.monotonic() - started
    logger.info("trained %s in %.0f s", output.name, seconds)
    return seconds


def train_validated(output: Path, root: Path = PROJECT_ROOT) -> float:
    """:func:`train` in this process, for data the caller has just validated.

    ``bot retrain`` has Rasa loaded and its validator run already; training
    here skips a second interpreter's start-up (about 7 s of imports) and
    ``rasa train``'s own validation pass. Rasa's training cache is the
    checkout's (``.rasa/cache``), as with :func:`train`, unless
    ``RASA_CACHE_DIRECTORY`` says otherwise.

    Raises:
        DataInvalid: Rasa trained nothing (no usable data).
    """
    from rasa.engine.caching import CACHE_LOCATION_ENV, DEFAULT_CACHE_LOCATION
    from rasa.model_training import train as rasa_train

    from bot.errors import DataInvalid

    os.environ.setdefault(CACHE_LOCATION_ENV, str(PROJECT_ROOT / DEFAULT_CACHE_LOCATION))
    started = time.monotonic()
    result = rasa_train(
        str(root / "domain.yml"),
        str(root / "config.yml"),
        [str(root / "data")],
        output=str(output.parent),
        fixed_model_name=output.name.removesuffix(".tar.gz"),
    )
    if result.code != 0 or not output.is_file():
        raise DataInvalid(f"Rasa trained no model from {root} (exit code {result.code})")
    seconds = time.monotonic() - started
    logger.info("trained %s in %.0f s", output.name, seconds)
    return seconds
