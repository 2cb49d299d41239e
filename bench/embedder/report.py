"""The markdown table of the embedder comparison (:mod:`bench.embedder.compare`)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["markdown"]

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
