"""`make bench`: run every benchmark and write docs/benchmarks.md with the machine and commands.

Each section is produced by its own script (run it alone to repeat one figure):

* ``python -m bench.eval.grouping``    staff clicks, suggestions and themes on every labelled set
* ``python -m bench.eval.dedupe``      duplicate matching on QQP, COVID-Q and our policing set
* ``python -m bench.eval.themes``      theme grouping on our policing set (held-out half)
* ``python -m bench.eval.theme_sets``  theme V on every labelled set, leave one set out
* ``python -m bench.eval.moderation``  abuse / spam / out-of-scope / personal-data flags
* ``python -m bench.embedder.compare``        embedding candidates: quality, speed, install size
* ``python -m bench.throughput``       worker throughput and per-question cost as a meeting grows
* ``python -m bench.collectors``       collector throughput; delay at 20 comments per second
* ``python -m bench.chair_delay``      comment on the fake platform → chair's screen at 20/s
* ``python -m bench.board``            the staff board at meeting size (page load, merge)

* ``python -m bench.load``             the web tier under load: API and form, SQLite and PostgreSQL

``--only MODULE`` runs one section and replaces just that section in the existing report.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SECTIONS: list[tuple[str, list[str]]] = [
    ("Grouping as staff feel it", ["bench.eval.grouping"]),
    ("Duplicate matching", ["bench.eval.dedupe"]),
    ("Theme grouping", ["bench.eval.themes"]),
    ("Theme V on every labelled set", ["bench.eval.theme_sets"]),
    ("Moderation and personal data", ["bench.eval.moderation"]),
    ("Worker throughput and growth", ["bench.throughput"]),
    ("Social collectors", ["bench.collectors"]),
    ("Comment to the chair's screen", ["bench.chair_delay"]),
    ("Staff board at meeting size", ["bench.board"]),
    ("Load: the intake web tier", ["bench.load"]),
]


def machine() -> str:
    """One paragraph describing where the figures were measured."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} cores ({cpu}){mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average {load:.1f} at start; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def run(module: list[str], extra: list[str]) -> tuple[str, float]:
    """Run one benchmark module; returns its markdown output and the seconds it took."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", *module, *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return f"**failed** (exit {done.returncode}):\n\n```\n{done.stderr[-3000:]}\n```", seconds
    return done.stdout.strip(), seconds


def main() -> None:
    """Run all sections and write the report."""
    parser = argparse.ArgumentParser(description="run all benchmarks")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--growth", default="100000", help="meeting size for the growth test")
    parser.add_argument("--only", help="one module, e.g. bench.load: refresh just its section")
    args = parser.parse_args()
    if args.only:
        _refresh_one(Path(args.output), args.only)
        return
    parts = [
        "# Benchmarks\n",
        "Written by `make bench` (`python -m bench.run_all`). Every figure below was measured in "
        "the same run on this machine:\n",
        f"> {machine()}\n",
        "Thresholds are always chosen on one half of a labelled set and reported on the other. "
        "The external sets (Quora Question Pairs sample, COVID-Q) are read from "
        "`../shared/benchmarks/` (`OPENFLOOR_BENCH_DATA`) and never copied into this repository.\n",
    ]
    for title, module in SECTIONS:
        extra = ["--growth", args.growth] if module == ["bench.throughput"] else []
        print(f"running {' '.join(module)} …", file=sys.stderr, flush=True)
        body, seconds = run(module, extra)
        command = " ".join(["python -m", *module, *extra])
        parts.append(f"## {title}\n\nCommand: `{command}` ({seconds:.0f} s)\n\n{body}\n")
    parts += _records()
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text("\n".join(parts))
    print(f"wrote {args.output}", file=sys.stderr)


def _records() -> list[str]:
    """Records copied in as kept, never re-measured here: the last `make soak` run (fault
    tests too long for the bench) and the first-contact figures on blind sets."""
    paths = [ROOT / "docs" / record for record in ("soak.md", "first-contact.md")]
    return [path.read_text(encoding="utf-8") for path in paths if path.exists()]


def _refresh_one(output: Path, module: str) -> None:
    """Re-run one section and splice it into an existing report (added at the end if new)."""
    title = next(t for t, m in SECTIONS if m == [module])
    print(f"running {module} …", file=sys.stderr, flush=True)
    body, seconds = run([module], [])
    section = f"## {title}\n\nCommand: `python -m {module}` ({seconds:.0f} s)\n\n"
    section += f"Machine for this section: {machine()}\n\n{body}\n"
    text = output.read_text() if output.exists() else "# Benchmarks\n"
    head, marker, rest = text.partition(f"## {title}\n")
    if marker:
        _, nxt, tail = rest.partition("\n## ")
        text = head + section + (("\n## " + tail) if nxt else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    # the records as they are now (a section is never spliced after them: they end the report)
    records = _records()
    if records:
        start = text.find(records[0].split("\n", 1)[0] + "\n")
        text = (text[:start] if start >= 0 else text.rstrip("\n") + "\n\n") + "\n".join(records)
    output.write_text(text)
    print(f"wrote {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
