"""Sentence embeddings of benchmark texts, computed once and kept on disk.

Encoding a public set takes a minute or two on this machine; sweeps read the
vectors from ``~/.cache/shop-assistant/embeddings`` (outside the repository)
instead. The file name hashes the model's weights and the texts, so a changed
set or model never reuses stale vectors.
"""

from __future__ import annotations

import hashlib

import numpy as np

from bench.public_sets import Benchmark
from bot.components.encoder import shared_encoder
from bot.components.vector_cache import cache_dir, model_digest


def embeddings(texts: list[str]) -> np.ndarray:
    """The encoder's vectors for ``texts``, from the cache when present."""
    digest = hashlib.sha256(model_digest().encode())
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    path = cache_dir() / f"{digest.hexdigest()[:24]}.npy"
    if path.exists():
        return np.load(path)
    vectors = shared_encoder().encode(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def benchmark_embeddings(benchmark: Benchmark) -> dict[str, np.ndarray]:
    """Vectors for every split of a set; each distinct text is encoded once.

    The whole set is one cache entry, so a sweep (fit, validation) and the
    final run (training, test) read the same file.
    """
    splits = {
        name: [text for text, _ in getattr(benchmark, name)]
        for name in ("fit", "validation", "training", "test")
    }
    pool = sorted({text for texts in splits.values() for text in texts})
    vectors = embeddings(pool)
    row = {text: index for index, text in enumerate(pool)}
    return {name: vectors[[row[text] for text in texts]] for name, texts in splits.items()}
