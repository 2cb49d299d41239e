"""Fit the pipeline's learned heads from committed data (``workers/pipeline/heads/``).

Build-time only (scikit-learn is not a runtime dependency)::

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python scripts/train_heads.py            # writes workers/pipeline/heads/
    .venv/bin/python scripts/train_heads.py --check    # cross-validated scores only

Features are exactly what the worker computes: the sentence vector of the place-masked
``match_text`` (workers.pipeline.engine) and, for the kind head, the surface features of
workers.pipeline.kind. Training data (all written for this project, never a blind set):

* kind: ``bench/data/train/kind.jsonl`` (``text``, ``channel``, ``kind``) plus the X and
  Facebook items of ``bench/data/policing_questions.jsonl`` (a question when it asks, with a
  question mark or an asking phrase, else a comment; spam left out).
* moderation: ``bench/data/moderation_cases.jsonl`` (``expect``),
  ``bench/data/policing_questions.jsonl`` (``flags``) and ``bench/data/train/moderation.jsonl``
  (``label``: ok, abuse, spam, out_of_scope).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers.pipeline.dedupe import mask_location  # noqa: E402
from workers.pipeline.embedding import default_embedder  # noqa: E402
from workers.pipeline.kind import SOCIAL_CHANNELS, kind_features, surface_features  # noqa: E402
from workers.pipeline.linear_head import HEADS_DIR, LinearHead  # noqa: E402
from workers.pipeline.normalise import normalise  # noqa: E402

DATA = ROOT / "bench" / "data"
CODES = ("abuse", "spam", "out_of_scope")
#: the learned moderation flag fires where its out-of-fold precision is at least this
TARGET_PRECISION = 0.95


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


def _vectors(texts: list[str], locations: list[str | None]) -> np.ndarray:
    embedder = default_embedder()
    pairs = zip(texts, locations, strict=True)
    masked = [mask_location(normalise(t).match_text, loc) for t, loc in pairs]
    return np.asarray(embedder.embed(masked), dtype=np.float32)


def kind_data() -> tuple[list[str], list[str], list[str | None], list[str], list[Path]]:
    """Texts, channels, locations and labels of the kind head."""
    texts: list[str] = []
    channels: list[str] = []
    locations: list[str | None] = []
    labels: list[str] = []
    for r in _rows(DATA / "train" / "kind.jsonl"):
        texts.append(r["text"])
        channels.append(r["channel"])
        locations.append(None)
        labels.append(r["kind"])
    for r in _rows(DATA / "policing_questions.jsonl"):
        if r["channel"] not in SOCIAL_CHANNELS or "spam" in r["flags"]:
            continue
        s = surface_features(normalise(r["text"]))
        texts.append(r["text"])
        channels.append(r["channel"])
        locations.append(r.get("location"))
        labels.append("question" if s[:3].any() else "comment")
    return (
        texts,
        channels,
        locations,
        labels,
        [DATA / "train" / "kind.jsonl", DATA / "policing_questions.jsonl"],
    )


def moderation_data() -> tuple[list[str], list[str | None], np.ndarray, list[Path]]:
    """Texts, locations and a 0/1 matrix (rows × CODES) of the moderation head."""
    texts: list[str] = []
    locations: list[str | None] = []
    ys: list[list[bool]] = []
    for r in _rows(DATA / "moderation_cases.jsonl"):
        texts.append(r["text"])
        locations.append(None)
        ys.append([c in r["expect"] for c in CODES])
    for r in _rows(DATA / "policing_questions.jsonl"):
        texts.append(r["text"])
        locations.append(r.get("location"))
        ys.append([c in r["flags"] for c in CODES])
    for r in _rows(DATA / "train" / "moderation.jsonl"):
        texts.append(r["text"])
        locations.append(None)
        ys.append([c == r["label"] for c in CODES])
    # live comments, greetings and social questions are clean (test posts aside: spam)
    for r in _rows(DATA / "train" / "kind.jsonl"):
        if "test" in r["text"].lower():
            continue
        texts.append(r["text"])
        locations.append(None)
        ys.append([False] * len(CODES))
    paths = [
        DATA / "moderation_cases.jsonl",
        DATA / "policing_questions.jsonl",
        DATA / "train" / "moderation.jsonl",
        DATA / "train" / "kind.jsonl",
    ]
    return texts, locations, np.asarray(ys, dtype=int), paths


def fit_kind(check: bool) -> tuple[LinearHead, dict]:
    texts, _channels, locations, labels, paths = kind_data()
    vectors = _vectors(texts, locations)
    x = kind_features([normalise(t) for t in texts], vectors)
    y = np.asarray(labels)
    model = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    oof = cross_val_predict(model, x, y, cv=folds)
    report = {"rows": len(y), "counts": {k: int((y == k).sum()) for k in sorted(set(labels))}}
    for k in sorted(set(labels)):
        tp = int(((oof == k) & (y == k)).sum())
        report[k] = {
            "precision": round(tp / max(1, (oof == k).sum()), 3),
            "recall": round(tp / max(1, (y == k).sum()), 3),
        }
    print("kind, 5-fold cross-validation:", json.dumps(report))
    model.fit(x, y)
    head = LinearHead(
        tuple(model.classes_),
        model.coef_.astype(np.float32),
        model.intercept_.astype(np.float32),
        "softmax",
    )
    return head, {"trained_on_sha256": _digest(paths), "cross_validation": report}


def fit_moderation(check: bool) -> tuple[LinearHead, dict]:
    texts, locations, y, paths = moderation_data()
    x = _vectors(texts, locations)
    coefs, intercepts, thresholds = [], [], []
    report: dict[str, object] = {"rows": len(texts)}
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    for j, code in enumerate(CODES):
        model = LogisticRegression(C=4.0, max_iter=2000)
        p = cross_val_predict(model, x, y[:, j], cv=folds, method="predict_proba")[:, 1]
        threshold = 0.99
        for t in np.arange(0.5, 0.99, 0.01):
            fired = p >= t
            if fired.sum() and (fired & (y[:, j] == 1)).sum() / fired.sum() >= TARGET_PRECISION:
                threshold = float(round(t, 2))
                break
        fired = p >= threshold
        tp = int((fired & (y[:, j] == 1)).sum())
        report[code] = {
            "positives": int(y[:, j].sum()),
            "threshold": threshold,
            "precision": round(tp / max(1, fired.sum()), 3),
            "recall": round(tp / max(1, y[:, j].sum()), 3),
        }
        model.fit(x, y[:, j])
        coefs.append(model.coef_[0])
        intercepts.append(model.intercept_[0])
        thresholds.append(threshold)
    print("moderation, 5-fold cross-validation (learned head alone):", json.dumps(report))
    head = LinearHead(
        CODES, np.asarray(coefs, np.float32), np.asarray(intercepts, np.float32), "sigmoid"
    )
    meta = {
        "thresholds": dict(zip(CODES, thresholds, strict=True)),
        "trained_on_sha256": _digest(paths),
        "cross_validation": report,
    }
    return head, meta


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="cross-validate, write nothing")
    args = parser.parse_args()
    written = {}
    for name, fit in (("kind", fit_kind), ("moderation", fit_moderation)):
        head, meta = fit(args.check)
        if not args.check:
            path = HEADS_DIR / f"{name}.json"
            path.write_text(head.to_json(**meta) + "\n", encoding="utf-8")
            written[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    if written:
        lines = [f"{digest}  {name}" for name, digest in sorted(written.items())]
        (HEADS_DIR / "sha256sums.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
