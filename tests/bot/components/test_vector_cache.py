"""The training vectors' on-disk cache, over the real packaged encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.components.encoder import SentenceEncoder, shared_encoder
from bot.components.vector_cache import VectorCache

TEXTS = ["我的快递到哪了", "Where is my parcel?", "我要退款", "Where is my parcel?"]


class CountingEncoder(SentenceEncoder):
    """The real encoder, remembering which texts it was asked to encode."""

    def __init__(self, real: SentenceEncoder) -> None:
        self.__dict__.update(real.__dict__)
        self.asked: list[str] = []

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        self.asked.extend(texts)
        return super().encode(texts, batch_size)


@pytest.fixture
def encoder() -> CountingEncoder:
    return CountingEncoder(shared_encoder())


def test_vectors_are_the_encoders_in_input_order(encoder: CountingEncoder, tmp_path: Path) -> None:
    vectors = VectorCache(encoder, tmp_path / "v.npz").vectors(TEXTS)
    np.testing.assert_allclose(vectors, shared_encoder().encode(TEXTS), atol=1e-5)
    assert sorted(encoder.asked) == sorted(set(TEXTS))  # the repeated text encoded once


def test_a_second_training_encodes_only_new_texts(encoder: CountingEncoder, tmp_path: Path) -> None:
    path = tmp_path / "v.npz"
    first = VectorCache(encoder, path).vectors(TEXTS)
    encoder.asked.clear()
    again = VectorCache(encoder, path).vectors([*TEXTS, "换个地址"])
    assert encoder.asked == ["换个地址"]
    np.testing.assert_array_equal(again[: len(TEXTS)], first)
    np.testing.assert_allclose(again[-1], shared_encoder().encode(["换个地址"])[0], atol=1e-5)


def test_an_unreadable_cache_is_rebuilt(encoder: CountingEncoder, tmp_path: Path) -> None:
    path = tmp_path / "v.npz"
    path.write_bytes(b"not a numpy archive")
    vectors = VectorCache(encoder, path).vectors(TEXTS[:2])
    assert sorted(encoder.asked) == sorted(TEXTS[:2])
    assert vectors.shape == (2, 384)
    encoder.asked.clear()
    VectorCache(encoder, path).vectors(TEXTS[:2])
    assert encoder.asked == []  # rewritten whole, readable again
