"""The pipeline engine embeds each distinct text once and reuses vectors of placed texts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workers.pipeline.embedding import default_embedder
from workers.pipeline.engine import Item, Pipeline


class CountingEmbedder:
    """The real model, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        self._inner = default_embedder()
        self.name = self._inner.name
        self.dim = self._inner.dim
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed with the real model and remember what was asked."""
        self.seen.extend(texts)
        return self._inner.embed(texts)


def _item(n: int, text: str, location: str | None = None) -> Item:
    return Item(id=str(n), text=text, location=location, channel="facebook", author=f"fb:{n}")


def test_repeats_are_embedded_once_and_reuse_the_placed_vector() -> None:
    embedder = CountingEmbedder()
    pipeline = Pipeline(embedder=embedder)
    embedder.seen.clear()  # the theme classifier embedded its taxonomy examples
    retweet = "Why are there never any officers in Ludlow town centre at night? #PCCLive"
    first = pipeline.analyse([
        _item(1, retweet, "Ludlow"),
        _item(2, retweet, "Ludlow"),
        _item(3, "What is being done about sheep theft on hill farms?"),
    ])  # fmt: skip
    assert len(embedder.seen) == 2  # the repeat inside one batch is embedded once
    assert np.array_equal(first[0].vector, first[1].vector)

    later = pipeline.analyse([_item(4, retweet, "Ludlow"), _item(5, "Drugs in Oswestry?")])
    assert len(embedder.seen) == 3  # a later batch reuses the placed question's vector
    assert np.array_equal(later[0].vector, first[0].vector)
    assert later[0].match.matched_item_id == "1"
