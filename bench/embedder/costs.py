"""What an embedder costs: install size, throughput, single-question latency, cold load.

Install size counts the on-disk files of a candidate's distributions and their dependency
closure (plus converted files in a cache). Throughput is the best of several runs over a fixed
list of questions, in wall-clock and CPU terms. Cold load runs a fresh interpreter.
"""

from __future__ import annotations

import importlib.metadata as md
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.datasets import REPO_ROOT
from workers.pipeline.embedding import Embedder

__all__ = ["cold_load_seconds", "install_size_mb", "single_latency_ms", "throughput"]


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
        "import sys; from bench.embedder.compare import by_name; "
        f"by_name({name!r}).build().embed(['where are all the police?'])"
    )
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT, capture_output=True)
    return time.perf_counter() - start
