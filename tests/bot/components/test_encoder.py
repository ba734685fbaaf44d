"""The numpy all-MiniLM-L6-v2 encoder on the packaged weights (no mocks)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.components.encoder import EncoderUnavailableError, SentenceEncoder, shared_encoder

TEXTS = [
    "Where is my parcel?",
    "When will my package arrive?",
    "I would like a refund for order 12345",
    "My card was declined at the ATM",
    "我的订单什么时候发货？",
]
REFERENCE_PREFIX = [0.0339, -0.0140, 0.0437, -0.0239]


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return shared_encoder()


def test_one_unit_vector_per_text(encoder: SentenceEncoder) -> None:
    vectors = encoder.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_deterministic_and_independent_of_batching(encoder: SentenceEncoder) -> None:
    together = encoder.encode(TEXTS, batch_size=64)
    one_by_one = encoder.encode(TEXTS, batch_size=1)
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    np.testing.assert_array_equal(together, encoder.encode(TEXTS, batch_size=64))


def test_similar_sentences_are_closer_than_unrelated_ones(encoder: SentenceEncoder) -> None:
    parcel, arrive, refund, card, _ = encoder.encode(TEXTS)
    assert parcel @ arrive > parcel @ card + 0.2
    assert parcel @ arrive > arrive @ refund


def test_matches_reference_values(encoder: SentenceEncoder) -> None:
    # First components of sentence-transformers' own embedding of the text
    # (torch 2.13.0 CPU, sentence-transformers 6.2.0), rounded to 4 places.
    vector = encoder.encode(["Where is my parcel?"])[0]
    np.testing.assert_allclose(vector[:4], REFERENCE_PREFIX, atol=2e-4)


def test_long_text_is_truncated_not_rejected(encoder: SentenceEncoder) -> None:
    vector = encoder.encode(["refund " * 1000])
    assert vector.shape == (1, 384)
    assert np.isfinite(vector).all()


def test_missing_model_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EncoderUnavailableError):
        SentenceEncoder(tmp_path)


def test_a_large_batch_takes_tensorflows_gelu_and_agrees_with_single_texts(
    encoder: SentenceEncoder,
) -> None:
    from bot.components import encoder as encoder_module

    assert encoder_module._fused_gelu() is not None  # Rasa's environment has TensorFlow
    values = np.linspace(-6, 6, encoder_module._FUSED_GELU_FROM, dtype=np.float32)
    from scipy.special import erf

    exact = 0.5 * values * (1.0 + erf(values / np.sqrt(2.0)))
    np.testing.assert_allclose(encoder_module._gelu(values), exact, atol=2e-6)
    many = [f"{text} #{n}" for n in range(40) for text in TEXTS]  # well over the threshold
    batched = encoder.encode(many, batch_size=64)
    single = np.vstack([encoder.encode([text]) for text in many[:10]])
    np.testing.assert_allclose(batched[:10], single, atol=1e-5)


def test_blas_threads_are_limited_for_one_message_and_restored(encoder: SentenceEncoder) -> None:
    from threadpoolctl import threadpool_info

    def blas_threads() -> list[int]:
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    before = blas_threads()
    seen: list[list[int]] = []
    original = encoder._encode_batch

    def encode_batch_watched(batch: list[list[int]]) -> np.ndarray:
        seen.append(blas_threads())
        return original(batch)

    encoder._encode_batch = encode_batch_watched  # type: ignore[method-assign]
    try:
        encoder.encode(["我的订单什么时候发货？"])
        encoder.encode(["Where is my parcel?"])
    finally:
        del encoder._encode_batch
    assert seen and all(threads and set(threads) == {1} for threads in seen)
    assert blas_threads() == before
