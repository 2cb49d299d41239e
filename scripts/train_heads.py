"""Fit the pipeline's learned heads from committed data (``workers/pipeline/heads/``).

Build-time only (scikit-learn is not a runtime dependency)::

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python scripts/train_heads.py                 # writes workers/pipeline/heads/
    .venv/bin/python scripts/train_heads.py --check         # cross-validated scores only
    .venv/bin/python scripts/train_heads.py --only moderation --hold-out moderation1
        # moderation1 left out of training, then scored through the worker pipeline

Features are exactly what the worker computes: the sentence vector of the place-masked
``match_text`` (workers.pipeline.engine), for the kind head the surface features of
workers.pipeline.kind, for the moderation head the character and word n-grams of
workers.pipeline.moderation.features (``scripts/moderation_fit.py``). Training data:

* kind: ``bench/data/train/kind.jsonl`` (``text``, ``channel``, ``kind``) plus the X and
  Facebook items of ``bench/data/policing_questions.jsonl`` (a question when it asks, with a
  question mark or an asking phrase, else a comment; spam left out).
* moderation: ``bench/data/moderation_cases.jsonl`` (``expect``),
  ``bench/data/policing_questions.jsonl`` (``flags``), ``bench/data/train/moderation.jsonl``,
  ``moderation2.jsonl`` to ``moderation7.jsonl`` (``label``: ok, abuse, spam, out_of_scope;
  written for training; the third, fourth and sixth mostly the line between ok and out of
  scope, the fifth the line between ok and abuse: threats and hate without a swear word),
  ``moderation7.jsonl`` (ok against out of scope: other forces, legal advice on one's own
  case, national politics, reports through the comments), ``moderation8.jsonl`` (the same
  line in close pairs: another force against working with it, national politics against
  the PCC's own role, one's own case against the general question, other services against
  their policing angle, asides against short live questions, a crime now against how such
  things are handled), ``moderation9.jsonl`` (likewise: chasing one's own case, faraway and
  national events, jobs and event logistics, lost and found and asides, private disputes,
  each against its in-scope twin), ``moderation10.jsonl`` (one's own case, other public
  bodies, national politics and crimes now, each against a close in-scope neighbour, with
  the same asking phrases on both sides: "can you …", "what can you do", "please help"),
  the live chatter of ``kind.jsonl`` (clean), the former blind sets
  ``bench/data/blind/moderation*.jsonl`` (``label``; development data since their first
  contact) and the questions of the former blind grouping sets ``bench/data/blind/group*.jsonl``
  (clean: each is a genuine question for the meeting).
* urgent (possible emergencies): see ``scripts/urgent_fit.py``.
* theme (a softmax over the taxonomy's slugs): see ``scripts/theme_fit.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation_fit import (  # noqa: E402
    FOLDS,
    Features,
    cross_validate,
    fit,
    pick_thresholds,
)
from moderation_fit import report as moderation_report  # noqa: E402
from theme_fit import fit_theme  # noqa: E402
from urgent_fit import fit_urgent, reading_vectors  # noqa: E402

from bench.datasets import files_sha256, read_jsonl  # noqa: E402
from bench.score_blind import analyse_file, score_moderation  # noqa: E402
from bench.training_pairs import blind_sets  # noqa: E402
from domain.models.enums import QuestionKind  # noqa: E402
from workers.pipeline.kind import (  # noqa: E402
    SOCIAL_CHANNELS,
    classify_kinds,
    kind_features,
    surface_features,
)
from workers.pipeline.linear_head import HEADS_DIR, LinearHead  # noqa: E402
from workers.pipeline.moderation.forces import other_force_reason  # noqa: E402
from workers.pipeline.moderation.head import ModerationHead  # noqa: E402
from workers.pipeline.normalise import normalise  # noqa: E402
from workers.pipeline.welsh import as_read  # noqa: E402

DATA = ROOT / "bench" / "data"
CODES = ("abuse", "spam", "out_of_scope")
#: Each learned moderation flag fires where the head's out-of-fold precision is at least
#: this. The keyword rules add their own false alarms, so abuse and spam aim higher than the
#: 0.90 wanted of rules and head together. Out of scope is wanted for its recall, but 0.85 (tried
#: with moderation4 and the grouping sets' questions added; moderation9 and group16 held out:
#: recall 0.84 against 0.81) also held live greetings ("Evening all from Ludlow") and more
#: ordinary questions, so it stays at 0.92.
TARGET_PRECISION = {"abuse": 0.94, "spam": 0.94, "out_of_scope": 0.92}


def kind_data() -> tuple[list[str], list[str], list[str | None], list[str], list[Path]]:
    """Texts, channels, locations and labels of the kind head."""
    texts: list[str] = []
    channels: list[str] = []
    locations: list[str | None] = []
    labels: list[str] = []
    for r in read_jsonl(DATA / "train" / "kind.jsonl"):
        texts.append(r["text"])
        channels.append(r["channel"])
        locations.append(None)
        labels.append(r["kind"])
    for r in read_jsonl(DATA / "policing_questions.jsonl"):
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


@dataclass
class ModerationSet:
    """The moderation head's rows: text, location, source file, group and 0/1 per code."""

    texts: list[str] = field(default_factory=list)
    locations: list[str | None] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    labels: list[list[bool]] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)

    def add(self, source: str, text: str, codes: set[str], location: str | None = None,
            group: str | None = None) -> None:  # fmt: skip
        """One row; rows of one ``group`` (default: the same words) share a fold."""
        self.texts.append(text)
        self.locations.append(location)
        self.sources.append(source)
        self.groups.append(group or normalise(text).match_text or text)
        self.labels.append([c in codes for c in CODES])

    @property
    def y(self) -> np.ndarray:
        """0/1 matrix, rows × CODES."""
        return np.asarray(self.labels, dtype=int).reshape(-1, len(CODES))

    def subset(self, keep: np.ndarray) -> ModerationSet:
        """The rows where ``keep`` is true (the files read stay the same)."""
        rows = np.flatnonzero(keep)
        pick = lambda values: [values[i] for i in rows]  # noqa: E731
        return ModerationSet(
            pick(self.texts), pick(self.locations), pick(self.sources), pick(self.groups),
            pick(self.labels), self.paths,
        )  # fmt: skip


def without_chatter(data: ModerationSet, vectors: np.ndarray) -> np.ndarray:
    """Rows to keep: all but those labelled out of scope alone that the kind stage would call
    noise as a live comment. Writers label greetings and remarks on the stream out of scope;
    the kind stage keeps those off the agenda already, and a head that learns them holds live
    chatter in the moderation queue ("Evening all from Ludlow")."""
    kinds = classify_kinds([normalise(t) for t in data.texts], ["facebook"] * len(data.texts),
                           vectors)  # fmt: skip
    y = data.y
    only_scope = (y[:, CODES.index("out_of_scope")] == 1) & (y.sum(axis=1) == 1)
    return ~(only_scope & np.asarray([k is QuestionKind.NOISE for k in kinds]))


def without_other_areas(data: ModerationSet) -> np.ndarray:
    """Rows to keep: all but those labelled out of scope that the other-force rule flags. The
    rule decides them by a town's or a force's name; a head that learns them learns the topic
    beside the name instead ("hare coursing near Newent", Gloucestershire's) and holds the
    same question from Tenbury."""
    norms = [normalise(t) for t in data.texts]
    by_rule = np.asarray([other_force_reason(n.match_text, frozenset(n.match_text.split()))
                          is not None for n in norms])  # fmt: skip
    return ~((data.y[:, CODES.index("out_of_scope")] == 1) & by_rule)


def moderation_files() -> dict[str, Path]:
    """Every source of the moderation head, by name (the names ``--hold-out`` takes)."""
    files = {
        "cases": DATA / "moderation_cases.jsonl",
        "policing": DATA / "policing_questions.jsonl",
        "train": DATA / "train" / "moderation.jsonl",
        "train2": DATA / "train" / "moderation2.jsonl",
        "train3": DATA / "train" / "moderation3.jsonl",
        "train4": DATA / "train" / "moderation4.jsonl",
        "train5": DATA / "train" / "moderation5.jsonl",
        "train6": DATA / "train" / "moderation6.jsonl",
        "train7": DATA / "train" / "moderation7.jsonl",
        "train8": DATA / "train" / "moderation8.jsonl",
        "train9": DATA / "train" / "moderation9.jsonl",
        "train10": DATA / "train" / "moderation10.jsonl",
        "kind": DATA / "train" / "kind.jsonl",
    }
    for path in blind_sets("group") + blind_sets("moderation"):
        files[path.stem] = path
    return files


def moderation_data(hold_out: frozenset[str] = frozenset()) -> ModerationSet:
    """Every labelled moderation row except those of the sources named in ``hold_out``.

    Sources: ``cases`` (moderation_cases.jsonl, ``expect``), ``policing`` (policing questions,
    ``flags``; paraphrases of one question share a group), ``train`` to ``train5``
    (written training rows, ``label``), ``kind`` (live chatter, clean but for test posts,
    which are left out), ``moderation1`` onwards (former blind sets, ``label``) and
    ``group1`` onwards (former blind grouping sets: every row a genuine question for the
    meeting, so clean; the questions of one ask share a fold).
    """
    data = ModerationSet()
    files = moderation_files()
    for source, path in files.items():
        if source in hold_out:
            continue
        data.paths.append(path)
        for r in read_jsonl(path):
            if source == "cases":
                data.add(source, r["text"], set(r["expect"]))
            elif source == "policing":
                group = f"policing:{r['dup_group']}" if r.get("dup_group") else None
                data.add(source, r["text"], set(r["flags"]), r.get("location"), group)
            elif source == "kind":
                if "test" not in r["text"].lower():
                    data.add(source, r["text"], set())
            elif source.startswith("group"):
                data.add(source, r["text"], set(), r.get("location"), f"{source}:{r['ask']}")
            else:  # chatter (a label since moderation35) is clean: the kind stage has it
                data.add(source, r["text"], {r["label"]} - {"chatter"})
    return data


def fit_kind(check: bool) -> tuple[LinearHead, dict]:
    texts, _channels, locations, labels, paths = kind_data()
    vectors = reading_vectors(texts, locations)
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
    head = LinearHead.softmax_of(model.fit(x, y))
    return head, {"trained_on_sha256": files_sha256(paths), "cross_validation": report}


def fit_moderation(
    hold_out: frozenset[str], target: dict[str, float]
) -> tuple[ModerationHead, dict[str, object]]:
    """Cross-validate (grouped), pick thresholds for ``target`` precision, fit on every row.

    With ``hold_out`` (e.g. ``moderation1``) those rows are left out of everything and then
    scored through the worker pipeline with the head fitted without them.
    """
    data = moderation_data(hold_out)
    vectors = reading_vectors(data.texts, data.locations)
    keep = without_chatter(data, vectors)
    print(f"moderation: {int((~keep).sum())} out-of-scope rows left out as live chatter")
    data, vectors = data.subset(keep), vectors[keep]
    keep = without_other_areas(data)
    print(f"moderation: {int((~keep).sum())} out-of-scope rows left to the other-force rule")
    data, vectors = data.subset(keep), vectors[keep]
    norms = [as_read(normalise(t)) for t in data.texts]
    features = Features(norms, vectors)
    y = data.y
    oof = cross_validate(features, y, data.groups)
    thresholds = pick_thresholds(oof, y, CODES, target)
    cv = moderation_report(oof, y, norms, data.sources, CODES, thresholds)
    print(f"moderation, {FOLDS}-fold grouped cross-validation:", json.dumps(cv, indent=1))
    head = fit(features, y, CODES, thresholds)
    files = moderation_files()
    for source in sorted(hold_out):
        rows = [{"label": "ok", **r} for r in read_jsonl(files[source])]
        result = score_moderation(rows, analyse_file(rows, moderation_head=head))
        print(f"{source} held out of training, worker pipeline:", json.dumps(result, indent=1))
    summary = {c: cv[c]["rules_and_head"] for c in CODES}  # type: ignore[index]
    meta = {
        "precision_target": target,
        "trained_on": [str(p.relative_to(ROOT)) for p in data.paths],
        "trained_on_sha256": files_sha256(data.paths),
        "cross_validation": {"rows": len(norms), "folds": FOLDS, "rules_and_head": summary},
    }
    return head, meta


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="cross-validate, write nothing")
    parser.add_argument(
        "--only", choices=("kind", "moderation", "urgent", "theme"), help="fit one head"
    )
    parser.add_argument(
        "--hold-out",
        action="append",
        default=[],
        choices=tuple(moderation_files()),
        help="leave a source (a former blind set, a written training file) out of training "
        "and score it through the worker pipeline (implies --check; rows without a label count "
        "as ok)",
    )
    parser.add_argument(
        "--target", type=float, help="one out-of-fold precision target for every flag"
    )
    args = parser.parse_args()
    hold_out = frozenset(args.hold_out)
    heads: list[tuple[str, LinearHead | ModerationHead, dict[str, object]]] = []
    if args.only in (None, "kind"):
        heads.append(("kind", *fit_kind(args.check)))
    if args.only in (None, "moderation"):
        target = dict.fromkeys(CODES, args.target) if args.target else TARGET_PRECISION
        heads.append(("moderation", *fit_moderation(hold_out, target)))
    if args.only in (None, "urgent"):
        heads.append(("urgent", *fit_urgent()))
    if args.only in (None, "theme"):
        heads.append(("theme", *fit_theme()))
    if args.check or hold_out:
        return 0
    for name, head, meta in heads:
        text = head.to_json(**meta)
        (HEADS_DIR / f"{name}.json").write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    digests = {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(HEADS_DIR.glob("*.json"))
    }
    lines = [f"{digest}  {name}" for name, digest in digests.items()]
    (HEADS_DIR / "sha256sums.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
