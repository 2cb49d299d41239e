"""Theme V-measure on the labelled sets, leave one set out (settings chosen on the others).

    python -m bench.eval.theme_sets            # markdown table: held-out V per set, old vs new

Each set (bench/data/blind/group1-3.jsonl, bench/data/policing_questions.jsonl) is run once
through :class:`~workers.pipeline.engine.Pipeline` for its vectors, match texts and duplicate
groups (grouping does not depend on themes). Theme assignment is then replayed per setting
exactly as the pipeline does it: batches of 256 questions, spam and abuse left out, and
(``vote``) one theme per predicted duplicate group.

Settings chosen per held-out blind set on the two other blind sets:

* which of the added taxonomy themes to keep: one is kept when a theme like it is a gold
  theme of *both* tuning sets (:data:`ADDED`); a dropped theme's examples and cues go back to
  the theme they were split from (``parent``), as before the split;
* the classifier's ``threshold`` and ``keyword_bonus`` and whether groups vote, by mean V on
  the two tuning sets.

"old" is the earlier setting (threshold 0.52, keyword bonus 0.36, no vote) on the taxonomy with
every added theme folded back, which is close to but not the same text as the earlier taxonomy
(``bench.eval.blind`` at the earlier commit gives the exact old figures). The policing set is
development data (the seed taxonomy was written from it) and is scored with the shipped
setting only; so are the blind sets in the second table, which are development figures.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.datasets import read_jsonl
from bench.eval.themes import CachedEmbedder
from bench.metrics import v_measure
from domain.models.enums import QuestionKind
from workers.batch import read_items
from workers.pipeline.embedding import default_embedder
from workers.pipeline.engine import Pipeline
from workers.pipeline.moderation import ABUSE, SPAM
from workers.pipeline.themes import Theme, ThemeClassifier, load_seed_taxonomy, shipped_theme_head
from workers.pipeline.themes.groups import group_theme
from workers.pipeline.themes.taxonomy import auto_label

ROOT = Path(__file__).resolve().parents[2]
BLIND = ("group1", "group2", "group3")
SETS = {
    **{name: (ROOT / "bench" / "data" / "blind" / f"{name}.jsonl", "ask") for name in BLIND},
    "policing": (ROOT / "bench" / "data" / "policing_questions.jsonl", "dup_group"),
}

#: Taxonomy themes added after first contact with group1-3: the theme they were split from
#: (``None``: new) and which sets have a gold theme like them (read by hand off each set's
#: theme list, not off its questions).
ADDED: dict[str, tuple[str | None, frozenset[str]]] = {
    "wildlife": ("rural", frozenset({"group1", "group2", "group3"})),
    "domestic_abuse": ("violence", frozenset({"group1", "group2", "group3"})),
    "hate_crime": (None, frozenset({"group1", "group3", "policing"})),
    "fly_tipping": ("rural", frozenset({"group2", "group3"})),
    "young_people": (None, frozenset({"group1", "group3"})),
    "trust": (None, frozenset({"group1", "group3"})),
}
THRESHOLDS = (0.45, 0.48, 0.52, 0.56, 0.60)
KEYWORD_BONUSES = (0.24, 0.36, 0.48)


@dataclass(frozen=True)
class Captured:
    """One set run through the pipeline: what theme assignment needs, and the gold labels."""

    ids: list[str]
    vectors: np.ndarray
    matched: list[str]
    themed: list[bool]
    groups: list[str]
    gold: list[str]
    #: each question's place among its group's members, in the order the pipeline placed them
    #: (a tie in a group's vote goes to the member placed first, not the first in the file)
    placed: list[int]


@dataclass(frozen=True)
class Setting:
    """One way of assigning themes."""

    keep: frozenset[str]
    threshold: float = 0.45
    vote: bool = True
    keyword_bonus: float = 0.24
    head: bool = True


def capture(path: Path, ask_field: str, pipeline: Pipeline) -> Captured:
    """Run ``path`` through ``pipeline`` as ``openfloor cluster`` does, keeping the parts."""
    rows = read_jsonl(path)
    fields = ("id", "text", "channel", "name", "location")
    source = io.StringIO("".join(json.dumps({k: r.get(k) for k in fields}) + "\n" for r in rows))
    items = list(read_items(source))
    out = [a for s in range(0, len(items), 256) for a in pipeline.analyse(items[s : s + 256])]
    del ask_field  # groups come from the pipeline, not the labels
    place = {m: n for members in pipeline.dedupe.groups().values() for n, m in enumerate(members)}
    return Captured(
        ids=[a.id for a in out],
        vectors=np.stack([a.vector for a in out]),
        matched=[a.normalised.match_text for a in out],
        themed=[not any(f.code in (SPAM, ABUSE) for f in a.flags) for a in out],
        groups=[
            a.match.group_key if a.kind is QuestionKind.QUESTION and not a.blocked else a.id
            for a in out
        ],
        gold=[str(r.get("theme")) for r in rows],
        placed=[place.get(a.id, 0) for a in out],
    )


def taxonomy(keep: frozenset[str]) -> list[Theme]:
    """The seed taxonomy with only the added themes in ``keep``; the others folded back."""
    themes = {t.slug: t for t in load_seed_taxonomy()}
    for slug, (parent, _) in ADDED.items():
        if slug in keep:
            continue
        child = themes.pop(slug)
        if parent is not None:
            p = themes[parent]
            themes[parent] = replace(
                p, examples=p.examples + child.examples, keywords=p.keywords + child.keywords
            )
    return list(themes.values())


def predict(data: Captured, setting: Setting, embedder: Any) -> list[str]:
    """Theme labels (as ``openfloor cluster`` writes them) under ``setting``."""
    clf = ThemeClassifier(
        taxonomy(setting.keep),
        embedder,
        threshold=setting.threshold,
        keyword_bonus=setting.keyword_bonus,
        head=shipped_theme_head(embedder) if setting.head else None,
    )
    slugs: list[str | None] = [None] * len(data.ids)
    labels: list[str] = ["None"] * len(data.ids)  # as written at the time, like the pipeline
    for start in range(0, len(data.ids), 256):
        rows = [i for i in range(start, min(start + 256, len(data.ids))) if data.themed[i]]
        if not rows:
            continue
        got = clf.assign(
            data.vectors[rows], [data.matched[i] for i in rows], [data.ids[i] for i in rows],
            normalised=True,
        )  # fmt: skip
        for i, a in zip(rows, got, strict=True):
            slugs[i], labels[i] = a.slug, a.label or auto_label(a.slug, "")
        if setting.vote:
            end = min(start + 256, len(data.ids))
            members: dict[str, list[int]] = {}
            for i in range(end):  # blocked questions are alone in a group of their own id
                members.setdefault(data.groups[i], []).append(i)
            for group in members.values():
                group.sort(key=lambda j: data.placed[j])
            ballots = list(slugs)
            for i in rows:  # members of earlier batches decide when any has a theme
                group = members[data.groups[i]]
                earlier = [j for j in group if j < start]
                voters = earlier if any(ballots[j] is not None for j in earlier) else group
                voted = group_theme([ballots[j] for j in voters])
                if voted is not None and voted != slugs[i]:
                    slugs[i], labels[i] = voted, clf.label(voted) or auto_label(voted, "")
    return labels


def held_out(captured: dict[str, Captured], embedder: Any) -> list[dict[str, Any]]:
    """Per blind set: the setting chosen on the other two and the held-out V, old vs new."""
    report = []
    grid = list(itertools.product(THRESHOLDS, (False, True), KEYWORD_BONUSES))
    for test in BLIND:
        tune = [s for s in BLIND if s != test]
        keep = frozenset(k for k, (_, sets) in ADDED.items() if all(s in sets for s in tune))

        def mean_v(setting: Setting, names: Sequence[str]) -> float:
            return float(
                np.mean([v(captured[n], predict(captured[n], setting, embedder)) for n in names])
            )

        best = max(
            (Setting(keep, threshold, vote, bonus) for threshold, vote, bonus in grid),
            key=lambda s: mean_v(s, tune),
        )
        old = Setting(frozenset(), 0.52, False, 0.36, head=False)
        report.append(
            {
                "held_out": test,
                "keep": sorted(keep),
                "threshold": best.threshold,
                "vote": best.vote,
                "keyword_bonus": best.keyword_bonus,
                "tune_v": round(mean_v(best, tune), 3),
                "old_v": round(mean_v(old, [test]), 3),
                "new_v": round(mean_v(best, [test]), 3),
            }
        )
    return report


def v(data: Captured, predicted: Sequence[str]) -> float:
    """V-measure of ``predicted`` against the set's gold themes."""
    return float(v_measure(data.gold, list(predicted))[2])


def main(argv: Sequence[str] | None = None) -> None:
    """Print the leave-one-set-out table (and the shipped setting on every set)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    embedder = CachedEmbedder(default_embedder())
    captured = {
        name: capture(path, field, Pipeline(embedder=embedder))
        for name, (path, field) in SETS.items()
    }
    report = held_out(captured, embedder)
    shipped = Setting(frozenset(ADDED))
    every = {name: round(v(d, predict(d, shipped, embedder)), 3) for name, d in captured.items()}
    earlier = Setting(frozenset(), 0.52, False, 0.36, head=False)
    old = {name: round(v(d, predict(d, earlier, embedder)), 3) for name, d in captured.items()}
    if args.json:
        print(json.dumps({"held_out": report, "shipped": every, "old": old}, indent=1))
        return
    print("| held out | kept added themes | threshold | vote | keyword bonus ", end="")
    print("| tune V | old V | new V |")
    print("|---|---|---|---|---|---|---|---|")
    for r in report:
        print(
            f"| {r['held_out']} | {', '.join(r['keep'])} | {r['threshold']} | {r['vote']} "
            f"| {r['keyword_bonus']} "
            f"| {r['tune_v']} | {r['old_v']} | {r['new_v']} |"
        )
    print(
        "\nshipped setting (every added theme, vote, threshold 0.56, keyword bonus 0.24) "
        "on every set (development):"
    )
    print("| set | old V | shipped V |\n|---|---|---|")
    for name in captured:
        print(f"| {name} | {old[name]} | {every[name]} |")


if __name__ == "__main__":
    main()
