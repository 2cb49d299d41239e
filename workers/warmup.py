"""Load what the pipeline needs before the first job arrives."""

from __future__ import annotations


def warm_up() -> None:
    """Import and initialise the pipeline's models (no-op until they exist)."""
