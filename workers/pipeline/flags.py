"""Moderation flags: the :class:`Flag` a stage raises and the four flag codes it can carry."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ABUSE", "OUT_OF_SCOPE", "PERSONAL_DATA", "SPAM", "Flag"]

ABUSE = "abuse"
SPAM = "spam"
OUT_OF_SCOPE = "out_of_scope"
PERSONAL_DATA = "personal_data"


@dataclass(frozen=True)
class Flag:
    """Why a question needs a human look before it goes anywhere public."""

    code: str
    """One of ``abuse``, ``spam``, ``out_of_scope``, ``personal_data``."""
    reason: str
    """Human-readable for staff; never repeats personal data or an unmasked profanity."""
    urgent: bool = False
    """Possibly an emergency happening now: staff see it first and answer "call 999"."""
