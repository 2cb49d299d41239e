"""A small learned map over the sentence model's vectors, fitted to staff decisions.

The map is ``A = diag(s) + U Vᵀ`` (``s`` of size 384, ``U`` and ``V`` of 384 × ``rank``),
applied to a unit vector ``x`` as ``Ax / |Ax|``, so grouping keeps comparing unit vectors by
cosine with its own thresholds (:mod:`workers.pipeline.grouping` is not changed). It starts as
the identity and is pulled back towards it, so with little evidence it changes little.

Training (:func:`train_layer`) is plain numpy, full-batch Adam on a logistic loss of each
labelled pair's cosine around the join threshold: "same ask" pairs are pushed above it, "not
the same ask" pairs below. No torch, no scikit-learn: the maintenance worker retrains it.

The artefact (:meth:`LearnedLayer.to_bytes`) is a one-line JSON header and the float32 weights;
its sha256 is stored beside it and checked by :meth:`LearnedLayer.from_bytes`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from workers.pipeline.embedding import l2_normalise
from workers.pipeline.grouping import DEFAULT_JOIN_THRESHOLD

FORMAT = "openfloor-layer-1"
DEFAULT_RANK = 4


class LayerIntegrityError(RuntimeError):
    """The stored layer does not match its recorded sha256 (or is not a layer at all)."""


@dataclass(frozen=True)
class PairSet:
    """Labelled pairs of unit vectors: ``a[i]`` and ``b[i]`` ask the same thing iff ``y[i]``."""

    a: np.ndarray  # (n, dim) float32
    b: np.ndarray  # (n, dim) float32
    y: np.ndarray  # (n,) bool

    def __len__(self) -> int:
        """Number of pairs."""
        return int(self.y.shape[0])

    @property
    def positives(self) -> int:
        """Pairs labelled "same ask"."""
        return int(self.y.sum())

    @property
    def negatives(self) -> int:
        """Pairs labelled "not the same ask"."""
        return len(self) - self.positives

    @staticmethod
    def concat(sets: list[PairSet], dim: int = 384) -> PairSet:
        """All pairs of ``sets`` in one set."""
        sets = [s for s in sets if len(s)]
        if not sets:
            empty = np.zeros((0, dim), np.float32)
            return PairSet(empty, empty, np.zeros(0, bool))
        return PairSet(
            np.concatenate([s.a for s in sets]),
            np.concatenate([s.b for s in sets]),
            np.concatenate([s.y for s in sets]),
        )


@dataclass(frozen=True)
class LearnedLayer:
    """``x ↦ normalise(x·s + (x V) Uᵀ)``: see the module docstring."""

    s: np.ndarray  # (dim,)
    u: np.ndarray  # (dim, rank)
    v: np.ndarray  # (dim, rank)
    _inverse: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # rows map as y = x Aᵀ, so x = y (Aᵀ)⁻¹: kept to recover a stored vector's model vector
        inverse = np.linalg.inv(self.matrix().T.astype(np.float64)).astype(np.float32)
        object.__setattr__(self, "_inverse", inverse)

    @classmethod
    def identity(cls, dim: int = 384, rank: int = DEFAULT_RANK) -> LearnedLayer:
        """The map that changes nothing."""
        zeros = np.zeros((dim, rank), np.float32)
        return cls(np.ones(dim, np.float32), zeros, zeros.copy())

    @property
    def dim(self) -> int:
        """Vector size in and out."""
        return int(self.s.shape[0])

    @property
    def rank(self) -> int:
        """Rank of the low-rank part."""
        return int(self.u.shape[1])

    def matrix(self) -> np.ndarray:
        """``A`` itself (dim × dim)."""
        return np.diag(self.s) + self.u @ self.v.T

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """Map rows of model vectors into the learned space (unit rows, float32)."""
        x = np.asarray(vectors, np.float32)
        return l2_normalise(x * self.s + (x @ self.v) @ self.u.T)

    def unapply(self, mapped: np.ndarray) -> np.ndarray:
        """The model vectors (unit rows) whose :meth:`apply` is ``mapped``."""
        return l2_normalise(np.asarray(mapped, np.float32) @ self._inverse)

    def to_bytes(self) -> bytes:
        """The artefact: a JSON header line, then ``s``, ``U``, ``V`` as little-endian float32."""
        header = json.dumps({"format": FORMAT, "dim": self.dim, "rank": self.rank})
        body = b"".join(np.ascontiguousarray(m, "<f4").tobytes() for m in (self.s, self.u, self.v))
        return header.encode() + b"\n" + body

    @property
    def sha256(self) -> str:
        """Digest of :meth:`to_bytes`."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    @classmethod
    def from_bytes(cls, data: bytes, sha256: str) -> LearnedLayer:
        """Read an artefact after checking it against the recorded ``sha256``."""
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise LayerIntegrityError(f"layer sha256 {actual} is not the recorded {sha256}")
        head, _, body = data.partition(b"\n")
        meta = json.loads(head)
        if meta.get("format") != FORMAT:
            raise LayerIntegrityError(f"unknown layer format {meta.get('format')!r}")
        dim, rank = int(meta["dim"]), int(meta["rank"])
        flat = np.frombuffer(body, "<f4").astype(np.float32)
        if flat.shape[0] != dim + 2 * dim * rank:
            raise LayerIntegrityError("layer weights do not match their header")
        u_end = dim + dim * rank
        return cls(
            flat[:dim].copy(),
            flat[dim:u_end].reshape(dim, rank).copy(),
            flat[u_end:].reshape(dim, rank).copy(),
        )


@dataclass(frozen=True)
class TrainReport:
    """What training did: the pair loss before (identity) and after, and on held-out pairs."""

    pairs: int
    positives: int
    loss_before: float
    loss_after: float
    steps: int

    def as_dict(self) -> dict[str, float | int]:
        """JSON-able figures (stored with the artefact)."""
        return {
            "pairs": self.pairs,
            "positives": self.positives,
            "loss_before": round(self.loss_before, 5),
            "loss_after": round(self.loss_after, 5),
            "steps": self.steps,
        }


@dataclass(frozen=True)
class TrainOptions:
    """Knobs of :func:`train_layer` (chosen leaving one of blind group1-3 out in turn)."""

    rank: int = DEFAULT_RANK
    steps: int = 300
    learning_rate: float = 0.01
    #: pull towards the identity (per weight, squared); 0.01 fitted the past and lost on a
    #: new set, 0.1 stayed the identity (leave-one-set-out pair loss, docs/benchmarks.md)
    l2: float = 0.03
    #: the cosine the loss centres on: the pipeline's join threshold
    threshold: float = DEFAULT_JOIN_THRESHOLD
    #: logistic slope per unit of cosine
    scale: float = 10.0
    seed: int = 0


def _weights(y: np.ndarray) -> np.ndarray:
    """Each class carries half of the loss, whatever the balance of pairs."""
    w = np.zeros(y.shape[0], np.float64)
    for label in (True, False):
        n = int((y == label).sum())
        if n:
            w[y == label] = 0.5 / n
    return w / w.sum() if w.sum() else w


def pair_loss(layer: LearnedLayer, pairs: PairSet, options: TrainOptions | None = None) -> float:
    """Class-balanced logistic loss of the pairs' cosines around the threshold (lower: better)."""
    opt = options or TrainOptions()
    if not len(pairs):
        return 0.0
    cos = np.sum(layer.apply(pairs.a) * layer.apply(pairs.b), axis=1).astype(np.float64)
    z = np.where(pairs.y, 1.0, -1.0)
    margin = z * opt.scale * (cos - opt.threshold)
    return float(np.sum(_weights(pairs.y) * np.logaddexp(0.0, -margin)))


def train_layer(
    pairs: PairSet, options: TrainOptions | None = None
) -> tuple[LearnedLayer, TrainReport]:
    """Fit a layer to labelled pairs (deterministic for the same pairs and options)."""
    opt = options or TrainOptions()
    dim = pairs.a.shape[1]
    rng = np.random.default_rng(opt.seed)
    s = np.ones(dim)
    u = np.zeros((dim, opt.rank))
    v = rng.standard_normal((dim, opt.rank)) / np.sqrt(dim)
    xa, xb = pairs.a.astype(np.float64), pairs.b.astype(np.float64)
    z = np.where(pairs.y, 1.0, -1.0)
    w = _weights(pairs.y)
    params = [s, u, v]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    before = pair_loss(LearnedLayer.identity(dim, opt.rank), pairs, opt)
    for step in range(1, opt.steps + 1 if len(pairs) else 1):
        ya, yb = xa * s + (xa @ v) @ u.T, xb * s + (xb @ v) @ u.T
        na = np.maximum(np.linalg.norm(ya, axis=1, keepdims=True), 1e-9)
        nb = np.maximum(np.linalg.norm(yb, axis=1, keepdims=True), 1e-9)
        ha, hb = ya / na, yb / nb
        cos = np.sum(ha * hb, axis=1, keepdims=True)
        margin = z[:, None] * opt.scale * (cos - opt.threshold)
        # d loss / d cos of each pair: -z · scale · sigmoid(-margin), weighted
        dcos = -(w * z * opt.scale)[:, None] / (1.0 + np.exp(margin))
        ga = dcos * (hb - cos * ha) / na
        gb = dcos * (ha - cos * hb) / nb
        grads = [
            np.sum(ga * xa + gb * xb, axis=0) + 2 * opt.l2 * (s - 1.0),
            ga.T @ (xa @ v) + gb.T @ (xb @ v) + 2 * opt.l2 * u,
            xa.T @ (ga @ u) + xb.T @ (gb @ u) + 2 * opt.l2 * v,
        ]
        for p, g, (m1, m2) in zip(params, grads, moments, strict=True):
            m1 *= 0.9
            m1 += 0.1 * g
            m2 *= 0.999
            m2 += 0.001 * g * g
            p -= (
                opt.learning_rate
                * (m1 / (1 - 0.9**step))
                / (np.sqrt(m2 / (1 - 0.999**step)) + 1e-8)
            )
    layer = LearnedLayer(s.astype(np.float32), u.astype(np.float32), v.astype(np.float32))
    report = TrainReport(len(pairs), pairs.positives, before, pair_loss(layer, pairs, opt),
                         opt.steps if len(pairs) else 0)  # fmt: skip
    return layer, report
