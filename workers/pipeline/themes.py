"""Theme assignment for public questions, with discovery of themes the taxonomy lacks.

Staff group the questions for a meeting by theme ("ASB and no visible police presence",
"county lines in market towns"...). This module suggests that theme.

* The taxonomy is data: a list of :class:`Theme` records (slug, label, description, example
  phrasings, optional keyword cues), seeded from ``taxonomy.yaml`` and editable by staff.
* A question is scored against every theme by embedding similarity to the theme prototype
  (the mean of its example and description embeddings), to its nearest examples, plus a small
  bonus for keyword cues. The best theme wins when its score reaches ``threshold``.
* A question that fits no theme goes to *discovery*: online leader clustering over such
  questions forms new-theme candidates (slugs ``new:1``, ``new:2``...), each with an automatic
  label made of its most distinctive words, which staff can rename. An unsure question that
  resembles nothing seen so far keeps its best-guess theme (when above ``floor``) but is
  remembered; if a second unsure question like it arrives, the two found a discovered theme.
* Staff feedback: :meth:`ThemeClassifier.learn` adds a question's embedding as an extra
  example of the theme staff chose, and pins that question to the theme so the classifier
  never changes it.
* :meth:`ThemeClassifier.to_state` / :meth:`ThemeClassifier.from_state` give a JSON-safe
  snapshot (labels, learned examples, discovered themes, pins) to keep between runs.

Embeddings come from any object with ``embed(texts) -> float32 (n, dim)`` with unit rows and a
``dim`` attribute (see :mod:`workers.pipeline.embedding`). Scoring a batch costs a few matrix
products; discovery is a short Python loop over the questions that fit no theme.
"""

from __future__ import annotations

import base64
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml

from workers.pipeline.normalise import normalise

__all__ = [
    "DISCOVERED_PREFIX",
    "TAXONOMY_PATH",
    "Theme",
    "ThemeAssignment",
    "ThemeClassifier",
    "ThemeInfo",
    "distinctive_label",
    "load_seed_taxonomy",
    "load_taxonomy",
    "themes_from_records",
]

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.yaml")
#: Slugs of discovered themes start with this; taxonomy slugs may not.
DISCOVERED_PREFIX = "new:"
STATE_VERSION = 1


class _Embedder(Protocol):
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


# --- taxonomy --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Theme:
    """One theme of the staff-editable taxonomy."""

    slug: str
    label: str
    description: str = ""
    examples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    """Lexical cues matched on whole words of the normalised text; ``burgl*`` is a prefix."""

    def __post_init__(self) -> None:
        if not self.slug or self.slug != self.slug.strip():
            raise ValueError(f"bad theme slug {self.slug!r}")
        if self.slug.startswith(DISCOVERED_PREFIX):
            raise ValueError(f"slug {self.slug!r} uses the reserved prefix {DISCOVERED_PREFIX!r}")
        if not self.label.strip():
            raise ValueError(f"theme {self.slug!r} has no label")


def themes_from_records(records: Iterable[Mapping[str, Any]]) -> list[Theme]:
    """Build themes from plain mappings (YAML, JSON or database rows); slugs must be unique."""
    themes = [
        Theme(
            slug=str(r["slug"]),
            label=str(r["label"]),
            description=str(r.get("description") or ""),
            examples=tuple(str(e) for e in r.get("examples") or ()),
            keywords=tuple(str(k) for k in r.get("keywords") or ()),
        )
        for r in records
    ]
    slugs = [t.slug for t in themes]
    if len(slugs) != len(set(slugs)):
        raise ValueError("duplicate theme slugs in taxonomy")
    return themes


def load_taxonomy(path: Path) -> list[Theme]:
    """Read a taxonomy file (YAML or JSON) with a top-level ``themes`` list."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return themes_from_records(data["themes"])


def load_seed_taxonomy() -> list[Theme]:
    """The seed taxonomy shipped with the code (``workers/pipeline/taxonomy.yaml``)."""
    return load_taxonomy(TAXONOMY_PATH)


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeAssignment:
    """The theme given to one question."""

    slug: str
    label: str
    score: float
    """Similarity score of the chosen theme (0..~1.1; higher is more confident)."""
    discovered: bool
    """True when the theme is a discovered ``new:`` candidate rather than a taxonomy theme."""
    pinned: bool = False
    """True when staff chose this theme; the classifier never changes it."""


@dataclass(frozen=True)
class ThemeInfo:
    """A theme as staff see it in the theme list."""

    slug: str
    label: str
    discovered: bool
    label_edited: bool
    examples: int
    """Number of example embeddings the theme is matched against (taxonomy + staff + members)."""


# --- text helpers ----------------------------------------------------------------------------

_STOPWORDS = frozenset(
    re.findall(
        r"\S+",
        """a about above after again against all also am an and any are as at be because been before
    being below between both but by can cant could did didnt do does doesnt doing dont down
    during each even ever every few for from further get gets got had has have having he her
    here hers him his how i if in into is isnt it its just know like lot lots me more most much
    my no nor not now of off on once only or other our ours out over own please re really right
    same she should so some such than that thats the their them then there theres these they
    this those through to too under until up us very was wasnt we were what whats when where
    which while who whom why will with would wont you your yours yes been im ive id youre theyre
    u ur ask asking asked like want wants done going go goes come comes make made say said tell
    told think thing things still again yet one two three way well back time times day days
    week weeks year years month months last next new every anyone someone anything something
    nothing nobody everyone people police pcc commissioner chief constable force west mercia
    westmercia dear sir madam mr mrs regards kind sincerely faithfully thank thanks many best
    wishes hello good morning afternoon evening question questions would could can being area
    areas local actually""",
    )
)
_WORD = re.compile(r"[a-z][a-z0-9]+")


def _match_text(text: str) -> str:
    return normalise(text).match_text


def _keyword_regex(keywords: Sequence[str]) -> str | None:
    """Regex source matching any keyword at the start of a word of normalised text.

    ``burgl`` matches "burglary" and "burgled"; ``camp$`` matches only the word "camp".
    """
    parts = set()
    for raw in keywords:
        whole = raw.rstrip().endswith("$")
        body = _match_text(raw.rstrip().rstrip("$"))
        if body:
            parts.add(re.escape(body) + (r"\b" if whole else ""))
    if not parts:
        return None
    return "|".join(sorted(parts, key=len, reverse=True))


def _terms(match_text: str) -> list[str]:
    return [w for w in _WORD.findall(match_text) if w not in _STOPWORDS and len(w) > 2]


def _encode(vectors: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(vectors, dtype="<f4").tobytes()).decode("ascii")


def _decode(blob: str, dim: int) -> np.ndarray:
    flat = np.frombuffer(base64.b64decode(blob), dtype="<f4")
    return flat.reshape(-1, dim).astype(np.float32)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n > 0 else v.astype(np.float32)


# --- internal theme model --------------------------------------------------------------------


@dataclass
class _Model:
    """A theme as the classifier holds it (taxonomy or discovered)."""

    slug: str
    label: str
    discovered: bool
    base: np.ndarray  # (k, dim): taxonomy examples + description; empty for discovered themes
    theme: Theme | None = None
    keyword_regex: str | None = None
    label_edited: bool = False
    learned: list[np.ndarray] = field(default_factory=list)  # staff-confirmed examples
    learned_texts: list[str] = field(default_factory=list)
    members: dict[str, np.ndarray] = field(default_factory=dict)  # discovered: key -> vector
    member_texts: dict[str, str] = field(default_factory=dict)

    def vectors(self) -> np.ndarray:
        """Every example vector of the theme, (k, dim)."""
        rows = [*self.learned, *self.members.values()]
        if not rows:
            return self.base
        return np.concatenate([self.base, np.stack(rows)], axis=0)

    def texts(self) -> list[str]:
        """Texts of members and staff examples (for automatic labels)."""
        return [*self.member_texts.values(), *self.learned_texts]


@dataclass
class _Orphan:
    """A low-confidence question given its best-guess theme, kept to seed discovery."""

    qid: str | None
    vector: np.ndarray
    text: str


# --- classifier ------------------------------------------------------------------------------


class ThemeClassifier:
    """Assigns questions to taxonomy themes and discovers new ones.

    Args:
        themes: the taxonomy (e.g. :func:`load_seed_taxonomy`).
        embedder: object with ``embed(texts)`` returning unit float32 rows, and ``dim``.
        threshold: minimum score for a question to take a taxonomy theme; below it the
            question goes to discovery.
        join_threshold: minimum cosine similarity to a discovered theme's centroid (or to a
            remembered unsure question) for a question to join it.
        proto_weight: weight of cosine similarity to the theme prototype.
        knn_weight: weight of the mean similarity to the theme's ``knn`` nearest examples.
        keyword_bonus: added to a taxonomy theme's score when one of its keywords occurs.
        knn: number of nearest examples averaged.
        floor: an unsure question (below ``threshold``) that resembles no discovered theme and
            no earlier unsure question keeps its best theme if it scores at least this, and
            is remembered to seed discovery; below ``floor`` it starts a discovered theme at
            once. ``floor >= threshold`` turns the fallback off.
        max_orphans: how many such remembered questions are kept (oldest dropped first).

    The defaults were chosen on one half of ``bench/data/policing_questions.jsonl``
    (``bench/eval_themes.py --tune``) and reported on the other half.
    """

    def __init__(
        self,
        themes: Sequence[Theme],
        embedder: _Embedder,
        *,
        threshold: float = 0.52,
        join_threshold: float = 0.45,
        proto_weight: float = 0.7,
        knn_weight: float = 0.3,
        keyword_bonus: float = 0.36,
        knn: int = 2,
        floor: float = 0.40,
        max_orphans: int = 200,
        staff_match: float = 0.6,
    ) -> None:
        """Embed the taxonomy (examples, label and description of every theme)."""
        self.embedder = embedder
        self.dim = int(embedder.dim)
        self.threshold = threshold
        self.join_threshold = join_threshold
        self.proto_weight = proto_weight
        self.knn_weight = knn_weight
        self.keyword_bonus = keyword_bonus
        self.knn = int(knn)
        self.floor = floor
        self.max_orphans = int(max_orphans)
        self.staff_match = staff_match
        self._orphans: list[_Orphan] = []
        self._models: dict[str, _Model] = {}
        self._pins: dict[str, str] = {}  # question id -> staff theme
        self._member_of: dict[str, str] = {}  # question id -> discovered theme
        self._next_new = 1
        self._next_anon = 0
        self._df: Counter[str] = Counter()  # background document frequencies, for labels
        self._docs = 0
        self._tax_dirty = True
        self._disc_dirty = True
        for theme in themes:
            self.add_theme(theme)
        self._rebuild_taxonomy()

    # -- taxonomy management --

    def add_theme(self, theme: Theme) -> None:
        """Add or replace a taxonomy theme (its examples are embedded now).

        Replacing keeps the staff examples learned so far and a staff-edited label.
        """
        texts = [*theme.examples, f"{theme.label}. {theme.description}".strip()]
        base = np.asarray(self.embedder.embed(texts), dtype=np.float32)
        model = _Model(
            slug=theme.slug,
            label=theme.label,
            discovered=False,
            base=base,
            theme=theme,
            keyword_regex=_keyword_regex(theme.keywords),
        )
        old = self._models.get(theme.slug)
        if old is not None:
            model.learned, model.learned_texts = old.learned, old.learned_texts
            if old.label_edited:
                model.label, model.label_edited = old.label, True
        self._models[theme.slug] = model
        self._observe(_match_text(t) for t in texts)
        self._tax_dirty = True

    def rename(self, slug: str, label: str) -> None:
        """Give a theme a staff label; automatic relabelling never overrides it."""
        if not label.strip():
            raise ValueError("label must not be empty")
        model = self._model(slug)
        model.label, model.label_edited = label.strip(), True

    def themes(self) -> list[ThemeInfo]:
        """All themes: taxonomy first, then discovered ones in order of discovery."""
        return [
            ThemeInfo(m.slug, m.label, m.discovered, m.label_edited, len(m.vectors()))
            for m in self._models.values()
        ]

    def label(self, slug: str) -> str:
        """Current label of a theme."""
        return self._model(slug).label

    def pinned(self, question_id: str) -> str | None:
        """The staff-chosen theme of a question, if any."""
        return self._pins.get(question_id)

    # -- feedback --

    def learn(
        self,
        slug: str,
        vector: np.ndarray,
        *,
        text: str | None = None,
        question_id: str | None = None,
    ) -> None:
        """Staff put a question in theme ``slug``: use it as an example and pin the question.

        ``vector`` is the question's embedding. With ``question_id`` the question is pinned:
        every later :meth:`assign` returns ``slug`` for it, and if discovery had placed it in
        another candidate theme it is taken out of that one. ``text`` helps automatic labels.
        """
        model = self._model(slug)
        vec = _unit(np.asarray(vector, dtype=np.float32).reshape(-1))
        if vec.shape[0] != self.dim:
            raise ValueError(f"vector has {vec.shape[0]} dimensions, expected {self.dim}")
        if question_id is not None:
            self._pins[question_id] = slug
            self._orphans = [o for o in self._orphans if o.qid != question_id]
            previous = self._member_of.pop(question_id, None)
            if previous is not None and previous != slug and previous in self._models:
                self._remove_member(previous, question_id)
        if model.discovered and question_id is not None:
            self._add_member(slug, vec, text or "", question_id)
        else:
            model.learned.append(vec)
            model.learned_texts.append(_match_text(text) if text else "")
            if model.discovered:
                self._update_centroid(slug)
                self._relabel(slug)
            else:
                self._tax_dirty = True

    # -- assignment --

    def classify(
        self, texts: Sequence[str], ids: Sequence[str] | None = None
    ) -> list[ThemeAssignment]:
        """Embed ``texts`` with the classifier's embedder and :meth:`assign` them."""
        return self.assign(self.embedder.embed(list(texts)), texts, ids)

    def assign(
        self,
        vectors: np.ndarray,
        texts: Sequence[str],
        ids: Sequence[str] | None = None,
        *,
        normalised: bool = False,
    ) -> list[ThemeAssignment]:
        """Assign a theme to each question, in order (discovery is online).

        Args:
            vectors: (n, dim) unit embeddings of the questions.
            texts: the question texts: keyword cues and labels use them.
            ids: optional question ids. A pinned id keeps its staff theme; an id that
                discovery already placed keeps its discovered theme, so re-running is stable.
            normalised: ``texts`` are already ``normalise(text).match_text`` (saves ~0.05 ms
                per question).

        Returns:
            One :class:`ThemeAssignment` per question, in input order.
        """
        vectors = np.asarray(vectors, dtype=np.float32)
        n = len(texts)
        if vectors.shape != (n, self.dim):
            raise ValueError(f"vectors shape {vectors.shape} does not match {n} texts")
        if ids is not None and len(ids) != n:
            raise ValueError("ids and texts differ in length")
        if n == 0:
            return []
        matched = list(texts) if normalised else [_match_text(t) for t in texts]
        self._observe(matched)
        scores = self._taxonomy_scores(vectors, matched)
        best = scores.argmax(axis=1)
        picks: list[tuple[str, float, bool]] = []
        touched: set[str] = set()
        orphan_pick: dict[int, int] = {}  # id() of an orphan made in this batch -> its pick
        for i in range(n):
            qid = ids[i] if ids is not None else None
            if qid is not None and self._pins.get(qid) in self._models:
                picks.append((self._pins[qid], 1.0, True))
                continue
            if qid is not None and qid in self._member_of:
                picks.append((self._member_of[qid], 1.0, False))
                continue
            tax_slug, tax_score = self._tax_slugs[best[i]], float(scores[i, best[i]])
            disc_slug, disc_score = self._nearest_discovered(vectors[i])
            if (
                disc_slug is not None
                and disc_score >= self.join_threshold
                and (tax_score < self.threshold or disc_score > tax_score)
            ):
                self._add_member(disc_slug, vectors[i], matched[i], qid)
                touched.add(disc_slug)
                picks.append((disc_slug, disc_score, False))
                continue
            if tax_score >= self.threshold:
                picks.append((tax_slug, tax_score, False))
                continue
            orphan = self._nearest_orphan(vectors[i])
            if orphan is None and tax_score >= self.floor:
                # Unsure, and nothing like it yet: keep the best guess, remember the question.
                self._remember_orphan(_Orphan(qid, vectors[i], matched[i]))
                orphan_pick[id(self._orphans[-1])] = len(picks)
                picks.append((tax_slug, tax_score, False))
                continue
            slug = self._new_candidate()
            if orphan is not None:
                # A second unsure question like an earlier one: together they found a theme.
                self._orphans.remove(orphan)
                self._add_member(slug, orphan.vector, orphan.text, orphan.qid)
                if id(orphan) in orphan_pick:
                    picks[orphan_pick.pop(id(orphan))] = (slug, 1.0, False)
            self._add_member(slug, vectors[i], matched[i], qid)
            touched.add(slug)
            picks.append((slug, 1.0, False))
        for slug in touched:
            self._relabel(slug)
        return [
            ThemeAssignment(
                slug, self._models[slug].label, score, self._models[slug].discovered, pin
            )
            for slug, score, pin in picks
        ]

    # -- persistence --

    def to_state(self) -> dict[str, Any]:
        """JSON-safe snapshot: taxonomy, staff labels and examples, discovered themes, pins."""
        themes = []
        for m in self._models.values():
            entry: dict[str, Any] = {
                "slug": m.slug,
                "label": m.label,
                "label_edited": m.label_edited,
                "discovered": m.discovered,
                "learned": _encode(np.array(m.learned, np.float32).reshape(-1, self.dim)),
                "learned_texts": list(m.learned_texts),
            }
            if m.theme is not None:
                entry["theme"] = {
                    "slug": m.theme.slug,
                    "label": m.theme.label,
                    "description": m.theme.description,
                    "examples": list(m.theme.examples),
                    "keywords": list(m.theme.keywords),
                }
            if m.discovered:
                vecs = np.array(list(m.members.values()), np.float32).reshape(-1, self.dim)
                entry["member_ids"] = list(m.members)
                entry["members"] = _encode(vecs)
                entry["member_texts"] = [m.member_texts[k] for k in m.members]
            themes.append(entry)
        return {
            "version": STATE_VERSION,
            "embedder": getattr(self.embedder, "name", None),
            "dim": self.dim,
            "params": {
                "threshold": self.threshold,
                "join_threshold": self.join_threshold,
                "proto_weight": self.proto_weight,
                "knn_weight": self.knn_weight,
                "keyword_bonus": self.keyword_bonus,
                "knn": self.knn,
                "floor": self.floor,
                "max_orphans": self.max_orphans,
                "staff_match": self.staff_match,
            },
            "themes": themes,
            "pins": dict(self._pins),
            "orphans": {
                "ids": [o.qid for o in self._orphans],
                "texts": [o.text for o in self._orphans],
                "vectors": _encode(
                    np.array([o.vector for o in self._orphans], np.float32).reshape(-1, self.dim)
                ),
            },
            "next_new": self._next_new,
            "next_anon": self._next_anon,
            "df": dict(self._df),
            "docs": self._docs,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], embedder: _Embedder) -> ThemeClassifier:
        """Rebuild a classifier saved by :meth:`to_state` (taxonomy examples are re-embedded).

        Raises:
            ValueError: the state is of another version or from another embedder.
        """
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported theme state version {state.get('version')!r}")
        dim = int(state["dim"])
        if dim != int(embedder.dim):
            raise ValueError(f"state has {dim}-d vectors but the embedder gives {embedder.dim}")
        saved_name = state.get("embedder")
        if saved_name and getattr(embedder, "name", saved_name) != saved_name:
            raise ValueError(f"state was made with embedder {saved_name!r}")
        taxonomy = themes_from_records(e["theme"] for e in state["themes"] if "theme" in e)
        self = cls(taxonomy, embedder, **state["params"])
        for entry in state["themes"]:
            slug = entry["slug"]
            if entry["discovered"]:
                model = _Model(slug, entry["label"], True, np.zeros((0, dim), np.float32))
                self._models[slug] = model
                vectors = _decode(entry["members"], dim)
                for key, vec, text in zip(
                    entry["member_ids"], vectors, entry["member_texts"], strict=True
                ):
                    model.members[key] = vec
                    model.member_texts[key] = text
                    if not key.startswith("_"):
                        self._member_of[key] = slug
            model = self._models[slug]
            model.label, model.label_edited = entry["label"], bool(entry["label_edited"])
            model.learned = list(_decode(entry["learned"], dim))
            model.learned_texts = list(entry["learned_texts"])
        self._pins = dict(state["pins"])
        orphans = state["orphans"]
        self._orphans = [
            _Orphan(qid, vec, text)
            for qid, vec, text in zip(
                orphans["ids"], _decode(orphans["vectors"], dim), orphans["texts"], strict=True
            )
        ]
        self._next_new = int(state["next_new"])
        self._next_anon = int(state["next_anon"])
        self._df, self._docs = Counter(state["df"]), int(state["docs"])
        self._tax_dirty = self._disc_dirty = True
        return self

    # -- internals --

    def _model(self, slug: str) -> _Model:
        try:
            return self._models[slug]
        except KeyError:
            raise KeyError(f"unknown theme {slug!r}") from None

    def _rebuild_taxonomy(self) -> None:
        """Recompute taxonomy prototypes and the stacked example matrix after a change."""
        tax = [m for m in self._models.values() if not m.discovered]
        vecs = [m.vectors() for m in tax]
        self._tax_slugs = [m.slug for m in tax]
        groups = [f"(?P<t{j}>{m.keyword_regex})" for j, m in enumerate(tax) if m.keyword_regex]
        self._tax_lexicon = re.compile(r"\b(?:" + "|".join(groups) + ")") if groups else None
        empty = np.zeros((0, self.dim), np.float32)
        self._tax_protos = np.stack([_unit(v.mean(axis=0)) for v in vecs]) if vecs else empty
        self._tax_examples = np.concatenate(vecs) if vecs else empty
        learned = [(j, v) for j, m in enumerate(tax) for v in m.learned]
        self._learned_owner = np.array([j for j, _ in learned], dtype=np.int64)
        self._learned_vecs = np.stack([v for _, v in learned]) if learned else empty
        bounds = np.cumsum([0, *(len(v) for v in vecs)])
        self._tax_bounds = list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))
        self._tax_dirty = False

    def _rebuild_discovered(self) -> None:
        """Recompute every discovered centroid (after removals or loading state)."""
        self._disc_slugs: list[str] = []
        self._disc_rows: dict[str, int] = {}
        self._disc_protos = np.zeros((0, self.dim), np.float32)
        self._disc_dirty = False
        for m in self._models.values():
            if m.discovered:
                self._update_centroid(m.slug)

    def _update_centroid(self, slug: str) -> None:
        """Refresh one discovered theme's centroid row (appending a row for a new theme)."""
        if self._disc_dirty:
            self._rebuild_discovered()
            return
        centroid = _unit(self._models[slug].vectors().mean(axis=0))
        row = self._disc_rows.get(slug)
        if row is None:
            if len(self._disc_slugs) == len(self._disc_protos):  # grow by doubling
                grown = np.zeros((max(8, 2 * len(self._disc_protos)), self.dim), np.float32)
                grown[: len(self._disc_protos)] = self._disc_protos
                self._disc_protos = grown
            row = self._disc_rows[slug] = len(self._disc_slugs)
            self._disc_slugs.append(slug)
        self._disc_protos[row] = centroid

    def _knn_mean(self, sims: np.ndarray) -> np.ndarray:
        """Mean of the top-``knn`` values of each row of ``sims`` (n, k)."""
        k = min(self.knn, sims.shape[1])
        if k <= 0:
            return np.zeros(sims.shape[0], np.float32)
        if k == sims.shape[1]:
            return sims.mean(axis=1)
        return np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:].mean(axis=1)

    def _taxonomy_scores(self, vectors: np.ndarray, matched: Sequence[str]) -> np.ndarray:
        """(n, themes) scores: prototype + nearest-example similarity + keyword bonus."""
        if self._tax_dirty:
            self._rebuild_taxonomy()
        n, t = len(vectors), len(self._tax_slugs)
        if t == 0:
            return np.full((n, 1), -np.inf, np.float32)
        proto = vectors @ self._tax_protos.T
        sims = vectors @ self._tax_examples.T
        knn = np.empty((n, t), np.float32)
        for j, (lo, hi) in enumerate(self._tax_bounds):
            knn[:, j] = self._knn_mean(sims[:, lo:hi])
        lex = np.zeros((n, t), np.float32)
        if self._tax_lexicon is not None:
            for i, text in enumerate(matched):
                for hit in self._tax_lexicon.finditer(text):
                    lex[i, int(hit.lastgroup[1:])] = 1.0  # type: ignore[index]
        score = self.proto_weight * proto + self.knn_weight * knn + self.keyword_bonus * lex
        if len(self._learned_vecs):
            # A staff example is strong evidence: a question at least as close to one as
            # the theme's score says gets that similarity as the theme's score.
            staff = vectors @ self._learned_vecs.T
            for j in np.unique(self._learned_owner):
                near = staff[:, self._learned_owner == j].max(axis=1)
                near = np.where(near >= self.staff_match, near, -np.inf)
                score[:, j] = np.maximum(score[:, j], near)
        return score

    def _nearest_discovered(self, vector: np.ndarray) -> tuple[str | None, float]:
        """The discovered theme whose centroid is most similar to ``vector``, and the cosine."""
        if self._disc_dirty:
            self._rebuild_discovered()
        if not self._disc_slugs:
            return None, -1.0
        sims = self._disc_protos[: len(self._disc_slugs)] @ vector
        j = int(sims.argmax())
        return self._disc_slugs[j], float(sims[j])

    def _remember_orphan(self, orphan: _Orphan) -> None:
        self._orphans.append(orphan)
        if len(self._orphans) > self.max_orphans:
            del self._orphans[0]

    def _nearest_orphan(self, vector: np.ndarray) -> _Orphan | None:
        """The remembered unsure question most similar to ``vector``, if similar enough."""
        if not self._orphans:
            return None
        sims = np.stack([o.vector for o in self._orphans]) @ vector
        j = int(sims.argmax())
        return self._orphans[j] if sims[j] >= self.join_threshold else None

    def _new_candidate(self) -> str:
        slug = f"{DISCOVERED_PREFIX}{self._next_new}"
        self._next_new += 1
        self._models[slug] = _Model(slug, "", True, np.zeros((0, self.dim), np.float32))
        return slug

    def _add_member(self, slug: str, vector: np.ndarray, text: str, qid: str | None) -> None:
        model = self._models[slug]
        if qid is None:
            qid_key = f"_{self._next_anon}"
            self._next_anon += 1
        else:
            qid_key = qid
            self._member_of[qid] = slug
        model.members[qid_key] = _unit(vector)
        model.member_texts[qid_key] = text
        self._update_centroid(slug)

    def _remove_member(self, slug: str, qid: str) -> None:
        model = self._models[slug]
        model.members.pop(qid, None)
        model.member_texts.pop(qid, None)
        if not model.members and not model.learned:
            del self._models[slug]
        else:
            self._relabel(slug)
        self._disc_dirty = True

    def _observe(self, matched: Iterable[str]) -> None:
        for text in matched:
            self._df.update(set(_terms(text)))
            self._docs += 1

    def _relabel(self, slug: str) -> None:
        """Label a discovered theme by its most distinctive words, unless staff renamed it."""
        model = self._models[slug]
        if not model.label_edited:
            model.label = distinctive_label(model.texts(), self._df, self._docs) or slug


def distinctive_label(
    texts: Sequence[str], df: Mapping[str, int], docs: int, *, words: int = 3
) -> str:
    """A short label from the words most typical of ``texts`` against a background.

    ``texts`` are normalised match texts (see :mod:`workers.pipeline.normalise`).

    Terms are scored by (number of texts containing them) x idf against ``df``/``docs``; a
    two-word phrase found in at least two texts can stand in for its words.
    """
    doc_terms = [_terms(t) for t in texts if t]
    if not doc_terms:
        return ""
    tf: Counter[str] = Counter()
    for terms in doc_terms:
        tf.update(set(terms))
        tf.update({f"{a} {b}" for a, b in itertools.pairwise(terms)})

    def idf(term: str) -> float:
        parts = term.split()
        return sum(math.log((docs + 1) / (df.get(p, 0) + 1)) + 1.0 for p in parts) / len(parts)

    scored = sorted(
        (
            (tf[t] * idf(t) * (1.15 if " " in t else 1.0), t)
            for t in tf
            if " " not in t or tf[t] >= 2
        ),
        reverse=True,
    )
    chosen: list[str] = []
    used: set[str] = set()
    for _, term in scored:
        if used & set(term.split()):
            continue
        chosen.append(term)
        used.update(term.split())
        if sum(len(c.split()) for c in chosen) >= words:
            break
    return ", ".join(chosen).capitalize()
