"""Fit and cross-validate the learned moderation head (used by ``scripts/train_heads.py``).

Features are exactly what the worker computes (:class:`ModerationHead.scores`): the
sentence vector of the place-masked ``match_text`` and the character and word n-gram
blocks of :mod:`workers.pipeline.moderation.features`. One logistic regression per flag.

Cross-validation is grouped (rows with the same words, or paraphrases of one policing
question, always fall in the same fold), so no line is scored by a model that trained on
it; the n-gram vocabulary is rebuilt inside each fold too. Thresholds are the lowest at
which the head's out-of-fold precision reaches ``target`` for that flag.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from workers.pipeline.language import model_cannot_read
from workers.pipeline.moderation import moderate
from workers.pipeline.moderation.features import gram_blocks
from workers.pipeline.moderation.head import GramWeights, ModerationHead
from workers.pipeline.normalise import Normalised

__all__ = ["Features", "cross_validate", "fit", "pick_thresholds"]

#: weight of the sentence vector, character and word n-gram blocks
SCALES = (1.0, 1.5, 1.5)
#: inverse regularisation strength of each flag's logistic regression
C = 10.0
#: an n-gram enters the vocabulary when at least this many training rows have it
MIN_ROWS = 2
FOLDS = 5


class Features:
    """The rows' vectors and n-gram blocks, turned into matrices over a chosen vocabulary."""

    def __init__(self, norms: Sequence[Normalised], vectors: np.ndarray) -> None:
        self.norms = list(norms)
        self.vectors = np.asarray(vectors, dtype=np.float64)
        self.blocks = [gram_blocks(n) for n in self.norms]

    def vocabulary(self, rows: Sequence[int]) -> tuple[dict[str, int], dict[str, int]]:
        """Char and word grams present in at least ``MIN_ROWS`` of ``rows``."""
        out = []
        for b in (0, 1):
            counts: Counter[str] = Counter()
            for i in rows:
                counts.update(self.blocks[i][b][0])
            kept = sorted(g for g, k in counts.items() if k >= MIN_ROWS)
            out.append({g: j for j, g in enumerate(kept)})
        return out[0], out[1]

    def matrix(
        self, rows: Sequence[int], vocab: tuple[dict[str, int], dict[str, int]]
    ) -> sparse.csr_matrix:
        """``rows`` as [vector | char block | word block], each block scaled by ``SCALES``."""
        parts = [sparse.csr_matrix(self.vectors[list(rows)] * SCALES[0])]
        for b, index in enumerate(vocab):
            data, cols, ptr = [], [], [0]
            for i in rows:
                grams, value = self.blocks[i][b]
                hit = [index[g] for g in grams if g in index]
                cols += hit
                data += [value * SCALES[b + 1]] * len(hit)
                ptr.append(len(cols))
            parts.append(
                sparse.csr_matrix((data, cols, ptr), shape=(len(rows), max(1, len(index))))
            )
        return sparse.hstack(parts, format="csr")


def _models(x: sparse.csr_matrix, y: np.ndarray) -> list[LogisticRegression]:
    models = []
    for j in range(y.shape[1]):
        model = LogisticRegression(C=C, solver="liblinear", max_iter=2000, random_state=0)
        model.fit(x, y[:, j])
        models.append(model)
    return models


def cross_validate(features: Features, y: np.ndarray, groups: Sequence[str]) -> np.ndarray:
    """Out-of-fold probabilities (rows × flags), folds grouped and stratified by label."""
    first = [int(np.argmax(row)) + 1 if row.any() else 0 for row in y]
    folds = StratifiedGroupKFold(FOLDS, shuffle=True, random_state=0)
    oof = np.zeros(y.shape, dtype=np.float64)
    for train, test in folds.split(np.zeros(len(first)), first, list(groups)):
        vocab = features.vocabulary(train)
        models = _models(features.matrix(train, vocab), y[train])
        x_test = features.matrix(test, vocab)
        for j, model in enumerate(models):
            oof[test, j] = model.predict_proba(x_test)[:, 1]
    return oof


def pick_thresholds(
    oof: np.ndarray, y: np.ndarray, codes: Sequence[str], target: Mapping[str, float]
) -> dict[str, float]:
    """Per flag, the lowest threshold whose out-of-fold precision reaches its ``target``."""
    out = {}
    for j, code in enumerate(codes):
        out[code] = 0.99
        for t in np.arange(0.20, 0.99, 0.01):
            fired = oof[:, j] >= t
            if fired.sum() and (fired & (y[:, j] == 1)).sum() / fired.sum() >= target[code]:
                out[code] = float(round(t, 2))
                break
    return out


def fit(
    features: Features, y: np.ndarray, codes: Sequence[str], thresholds: dict[str, float]
) -> ModerationHead:
    """The head fitted on every row, with the given thresholds."""
    rows = list(range(len(features.norms)))
    vocab = features.vocabulary(rows)
    models = _models(features.matrix(rows, vocab), y)
    coef = np.vstack([m.coef_[0] for m in models])  # (flags, features)
    dim = features.vectors.shape[1]
    char_end = dim + max(1, len(vocab[0]))

    def block(index: dict[str, int], start: int) -> GramWeights:
        names = sorted(index, key=index.__getitem__)
        matrix = coef[:, start : start + len(names)].T.copy()
        keep = np.abs(matrix).max(axis=1) >= 1e-4  # liblinear leaves some exactly zero
        return GramWeights(
            {g: k for k, g in enumerate(n for n, kept in zip(names, keep, strict=True) if kept)},
            matrix[keep],
        )

    return ModerationHead(
        classes=tuple(codes),
        intercept=np.asarray([m.intercept_[0] for m in models]),
        vector_coef=coef[:, :dim],
        char_weights=block(vocab[0], dim),
        word_weights=block(vocab[1], char_end),
        scales=SCALES,
        thresholds=thresholds,
    )


def _pr(truth: np.ndarray, got: np.ndarray) -> dict[str, float]:
    tp = int((truth & got).sum())
    return {
        "precision": round(tp / max(1, int(got.sum())), 3),
        "recall": round(tp / max(1, int(truth.sum())), 3),
        "tp": tp,
        "fp": int((got & ~truth).sum()),
        "fn": int((truth & ~got).sum()),
    }


def report(
    oof: np.ndarray,
    y: np.ndarray,
    norms: Sequence[Normalised],
    sources: Sequence[str],
    codes: Sequence[str],
    thresholds: dict[str, float],
) -> dict[str, object]:
    """Out-of-fold figures: the head alone, the rules alone, and both (as the worker runs)."""
    rules = np.asarray([[c in {f.code for f in moderate(n)} for c in codes] for n in norms])
    readable = np.asarray([bool(n.match_text.strip()) and not model_cannot_read(n.match_text)
                           for n in norms])  # fmt: skip
    truth = y.astype(bool)
    out: dict[str, object] = {"rows": len(norms), "by_source": dict(Counter(sources))}
    for j, code in enumerate(codes):
        head = (oof[:, j] >= thresholds[code]) & readable
        both = head | rules[:, j]
        per_source = {
            s: _pr(truth[m, j], both[m])
            for s in sorted(set(sources))
            if (m := np.asarray([x == s for x in sources])).any()
        }
        out[code] = {
            "positives": int(truth[:, j].sum()),
            "threshold": thresholds[code],
            "head": _pr(truth[:, j], head),
            "rules": _pr(truth[:, j], rules[:, j]),
            "rules_and_head": _pr(truth[:, j], both),
            "rules_and_head_by_source": per_source,
        }
    return out
