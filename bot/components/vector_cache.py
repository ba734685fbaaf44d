"""Sentence vectors of training texts, kept on disk between trainings.

Encoding the 7,000-odd training examples is most of a training's time (about
70 s of a 100 s training on two cores), while a retrain after a trainer's
labels adds a handful of texts. Vectors are kept by text, in one file per
encoder model, under ``~/.cache/shop-assistant/embeddings``
(``EMBEDDINGS_CACHE`` overrides it): outside the clone, as pip keeps its
cache, so a fresh clone or the next retrain encodes only texts it has not
seen. A vector is the same whichever batch computed it, so the cache changes
no prediction.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.components.encoder import SentenceEncoder, packaged_model_dir

logger = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where vectors are kept (``EMBEDDINGS_CACHE`` overrides it)."""
    default = Path.home() / ".cache" / "shop-assistant" / "embeddings"
    return Path(os.environ.get("EMBEDDINGS_CACHE", default))


@lru_cache(maxsize=1)
def model_digest() -> str:
    """A short hash of the packaged weights: vectors never outlive their model."""
    digest = hashlib.sha256()
    with (packaged_model_dir() / "model.safetensors").open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class VectorCache:
    """Vectors by text in one ``.npz`` file; missing ones are encoded and added."""

    def __init__(self, encoder: SentenceEncoder, path: Path) -> None:
        """Keeps ``encoder``'s vectors in the file ``path``."""
        self._encoder = encoder
        self._path = path

    @classmethod
    def for_training(cls, encoder: SentenceEncoder) -> VectorCache:
        """The cache of training texts for ``encoder``'s packaged weights."""
        return cls(encoder, cache_dir() / f"training-{model_digest()}.npz")

    def vectors(self, texts: list[str]) -> np.ndarray:
        """One unit-length row per text, in input order."""
        keys, matrix = self._load()
        row = {key: index for index, key in enumerate(keys)}
        missing = sorted({text for text in texts if _key(text) not in row})
        if missing:
            logger.info(
                "Encoding %d of %d training texts (the rest cached).", len(missing), len(texts)
            )
            added = self._encoder.encode(missing)
            new_keys = [_key(text) for text in missing]
            row.update({key: len(keys) + offset for offset, key in enumerate(new_keys)})
            keys = keys + new_keys
            matrix = np.vstack([matrix, added]) if len(matrix) else added
            self._save(keys, matrix)
        return matrix[[row[_key(text)] for text in texts]]

    def _load(self) -> tuple[list[bytes], np.ndarray]:
        empty = np.zeros((0, self._encoder.dimension), dtype=np.float32)
        if not self._path.exists():
            return [], empty
        try:
            with np.load(self._path, allow_pickle=False) as stored:
                keys = [bytes(key) for key in stored["keys"]]
                matrix = stored["vectors"].astype(np.float32, copy=False)
        except (OSError, ValueError, KeyError) as error:
            logger.warning("Ignoring the unreadable vector cache %s: %s", self._path, error)
            return [], empty
        if matrix.shape != (len(keys), self._encoder.dimension):
            logger.warning("Ignoring the vector cache %s: shape %s", self._path, matrix.shape)
            return [], empty
        return keys, matrix

    def _save(self, keys: list[bytes], matrix: np.ndarray) -> None:
        """Written whole and renamed into place: a reader never sees half a file."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self._path.parent, suffix=".npz")
        try:
            with os.fdopen(handle, "wb") as stream:
                np.savez(stream, keys=np.array(keys, dtype="S32"), vectors=matrix)
            os.replace(temporary, self._path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
