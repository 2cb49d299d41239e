"""The shipped theme head, for a classifier embedding with the model it was fitted on.

The head (``workers/pipeline/heads/theme.json``, fitted by ``scripts/theme_fit.py``) is a
softmax over the seed taxonomy's slugs on one sentence model's vectors: another model's vectors
mean nothing to it, so it is offered only to a classifier embedding with that model.
"""

from __future__ import annotations

from workers.pipeline.linear_head import LinearHead, load_head
from workers.pipeline.themes.model import Embedder

__all__ = ["shipped_theme_head"]


def shipped_theme_head(embedder: Embedder) -> LinearHead | None:
    """The shipped theme head if it was fitted on ``embedder``'s vectors, else None."""
    head = load_head("theme")
    if head.embedder != getattr(embedder, "name", None) or head.coef.shape[1] != embedder.dim:
        return None
    return head
