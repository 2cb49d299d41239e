"""Incremental nearest-neighbour index over L2-normalised vectors (one per meeting).

Backed by usearch's HNSW graph, so adding or searching one vector costs O(log n) distance
computations as a meeting grows to 100,000 questions, instead of the O(n) of a brute-force scan.
Below ``exact_below`` vectors a search is an exact scan (cheap at that size, and free of any
approximation while a meeting is young). Inserts and searches run single-threaded in insertion
order, which makes the graph, and therefore results, reproducible for the same sequence of adds.

Keys are strings (question ids); usearch's integer labels are their insertion positions.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Sequence

import numpy as np
from usearch.index import Index

_MAGIC = b"OFVI1"
_HEADER = struct.Struct("<5sI")


class VectorIndex:
    """Cosine nearest-neighbour search over keyed, L2-normalised float32 vectors."""

    def __init__(
        self,
        dim: int,
        *,
        connectivity: int = 16,
        expansion_add: int = 64,
        expansion_search: int = 64,
        exact_below: int = 2048,
    ) -> None:
        """Create an empty index for ``dim``-dimensional vectors.

        ``connectivity`` is HNSW's M (edges per node); ``expansion_add``/``expansion_search``
        are efConstruction/ef. ``exact_below`` is the size under which searches scan exactly.
        Defaults measured on 19,000 real question embeddings (384-d): recall@10 0.989 against
        an exact scan, ~0.27 ms per add and ~0.43 ms per search on this 2-core machine
        (efConstruction 128 gave recall 0.995 for twice the add time).
        """
        self.dim = dim
        self.connectivity = connectivity
        self.expansion_add = expansion_add
        self.expansion_search = expansion_search
        self.exact_below = exact_below
        self._index = self._new_backend()
        self._keys: list[str] = []
        self._labels: dict[str, int] = {}
        self.last_search_cost = 0
        """Distances computed by the most recent :meth:`search` (for cost checks in tests)."""

    def _new_backend(self) -> Index:
        return Index(
            ndim=self.dim,
            metric="cos",
            dtype="f32",
            connectivity=self.connectivity,
            expansion_add=self.expansion_add,
            expansion_search=self.expansion_search,
        )

    def __len__(self) -> int:
        """Number of vectors in the index."""
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` has been added."""
        return key in self._labels

    def keys(self) -> list[str]:
        """Keys in insertion order."""
        return list(self._keys)

    def _as_row(self, vec: Sequence[float] | np.ndarray) -> np.ndarray:
        row = np.asarray(vec, dtype=np.float32).reshape(-1)
        if row.shape[0] != self.dim:
            raise ValueError(f"expected a {self.dim}-dimensional vector, got {row.shape[0]}")
        return row

    def add(self, key: str, vec: Sequence[float] | np.ndarray) -> None:
        """Add one vector under ``key`` (keys are unique; re-adding a key is an error)."""
        if key in self._labels:
            raise KeyError(f"{key!r} is already in the index")
        row = self._as_row(vec)
        label = len(self._keys)
        self._index.add(label, row, threads=1)
        self._keys.append(key)
        self._labels[key] = label

    def add_many(self, keys: Iterable[str], vecs: np.ndarray) -> None:
        """Add several vectors in order (same result as calling :meth:`add` for each)."""
        for key, vec in zip(keys, np.asarray(vecs, dtype=np.float32), strict=True):
            self.add(key, vec)

    def get(self, key: str) -> np.ndarray:
        """The stored vector for ``key``."""
        return np.asarray(self._index.get(self._labels[key]), dtype=np.float32).reshape(-1)

    def search(self, vec: Sequence[float] | np.ndarray, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` nearest keys with their cosine similarity, most similar first.

        Ties are broken by insertion order so that results are stable.
        """
        if not self._keys or k <= 0:
            self.last_search_cost = 0
            return []
        row = self._as_row(vec)
        exact = len(self._keys) < self.exact_below
        count = min(k, len(self._keys))
        matches = self._index.search(row, count, threads=1, exact=exact)
        self.last_search_cost = len(self._keys) if exact else int(matches.computed_distances)
        hits = [
            (int(label), 1.0 - float(dist))
            for label, dist in zip(matches.keys, matches.distances, strict=True)
        ]
        hits.sort(key=lambda h: (-round(h[1], 6), h[0]))
        return [(self._keys[label], score) for label, score in hits]

    def to_bytes(self) -> bytes:
        """Serialise the whole index (parameters, keys and graph) to bytes."""
        header = json.dumps(
            {
                "dim": self.dim,
                "connectivity": self.connectivity,
                "expansion_add": self.expansion_add,
                "expansion_search": self.expansion_search,
                "exact_below": self.exact_below,
                "keys": self._keys,
            },
            separators=(",", ":"),
        ).encode("utf-8")
        graph = b""
        if self._keys:
            saved = self._index.save()
            if saved is None:  # pragma: no cover - usearch returns a buffer without a path
                raise RuntimeError("usearch did not return the serialised graph")
            graph = bytes(saved)
        return _HEADER.pack(_MAGIC, len(header)) + header + graph

    @classmethod
    def from_bytes(cls, data: bytes) -> VectorIndex:
        """Rebuild an index saved with :meth:`to_bytes`."""
        magic, length = _HEADER.unpack_from(data, 0)
        if magic != _MAGIC:
            raise ValueError("not a serialised VectorIndex")
        start = _HEADER.size
        meta = json.loads(data[start : start + length].decode("utf-8"))
        index = cls(
            meta["dim"],
            connectivity=meta["connectivity"],
            expansion_add=meta["expansion_add"],
            expansion_search=meta["expansion_search"],
            exact_below=meta["exact_below"],
        )
        graph = data[start + length :]
        if graph:
            restored = Index.restore(bytearray(graph))
            if restored is None:
                raise ValueError("corrupt VectorIndex graph")
            # the graph file keeps connectivity but not the expansion factors
            restored.expansion_add = index.expansion_add  # type: ignore[misc]  # settable at run time
            restored.expansion_search = index.expansion_search  # type: ignore[misc]
            index._index = restored
        index._keys = list(meta["keys"])
        index._labels = {key: i for i, key in enumerate(index._keys)}
        return index
