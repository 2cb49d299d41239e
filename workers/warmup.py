"""Load what the pipeline needs before the first job arrives."""

from __future__ import annotations

import gc

from workers.pipeline.embedding import default_embedder


def warm_up() -> None:
    """Load the embedding model once, then freeze start-up objects out of the GC's way.

    ``gc.freeze`` moves everything allocated so far (model, tokenizer, word lists) into a
    permanent generation, which cuts the worst-case pause of later collections.
    """
    default_embedder().embed(["warm up"])
    gc.freeze()
