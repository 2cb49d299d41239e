"""The markdown report of the dedupe benchmark (:mod:`bench.eval.dedupe`).

One table row per set and decision rule (threshold, where it was chosen, P/R/F1, ARI,
V-measure, group counts), followed by per-run notes: decision kinds, time per question and how
often live questions joined an advance one on the same point.
"""

from __future__ import annotations

from typing import Any

__all__ = ["markdown"]


def _fmt(v: object) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def markdown(results: dict[str, Any]) -> str:
    """Render results as a markdown table."""
    lines = [
        "| set | decision | threshold (chosen on) | P | R | F1 | ARI | V-measure "
        "| groups (pred/true) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    q = results.get("qqp")
    if q and "skipped" in q:
        lines.append(f"| QQP | skipped: {q['skipped']} | | | | | | | |")
    elif q:
        for key, label in (
            ("cosine", "cosine (default)"),
            ("scorer_fit_on_qqp_tune", "logistic: cosine + lexical"),
        ):
            r = q[key]
            lines.append(
                f"| QQP test half (pairs) | {label} | {r['threshold']:.3f} (QQP tune half) "
                f"| {_fmt(r['precision'])} | {_fmt(r['recall'])} | {_fmt(r['f1'])} | | | |"
            )
    for key in ("covidq", "policing"):
        r = results.get(key)
        if not r:
            continue
        if "skipped" in r:
            lines.append(f"| {key} | skipped: {r['skipped']} | | | | | | | |")
            continue
        for label, src in (
            ("test_without_themes", "tune half, no themes"),
            ("test_at_tuned", "tune half of this set"),
            ("test_at_default", "default"),
        ):
            if label not in r:
                continue
            m = r[label]
            same = m.get("same_theme_threshold")
            shown = f"{m['threshold']:.3f}" + (f" / same theme {same:.3f}" if same else "")
            decision = "DedupeIndex" + (" + themes" if same else "")
            lines.append(
                f"| {r['name']} test half (online) | {decision} | {shown} ({src}) "
                f"| {_fmt(m['precision'])} | {_fmt(m['recall'])} | {_fmt(m['f1'])} "
                f"| {_fmt(m['ari'])} | {_fmt(m['v_measure'])} "
                f"| {m['pred_groups']}/{m['true_groups']} |"
            )
    extra = []
    for key in ("covidq", "policing"):
        r = results.get(key)
        if r and "skipped" not in r:
            for label in ("test_at_tuned", "test_at_default"):
                m = r[label]
                line = (
                    f"- {r['name']} {label}: kinds {m['kinds']}, placing took "
                    f"{m['ms_per_item']:.2f} ms ({m['cpu_ms_per_item']:.2f} CPU-ms) per question"
                )
                if "live_matched_to_advance" in m:
                    share = m["live_matched_to_advance"]
                    line += (
                        f", live questions joined to an advance one on the same point: {share:.1%}"
                    )
                extra.append(line)
    return "\n".join([*lines, "", *extra])
