"""Public reference numbers: short, unambiguous, easy to read out on the phone."""

from __future__ import annotations

import secrets

# Crockford base32 without I, L, O, U: nothing a caller can mishear or misread.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    """A reference such as ``Q-7KD3-9QX2`` (40 bits of randomness)."""
    bits = int.from_bytes(secrets.token_bytes(5))  # one system call; 8 digits of 5 bits
    chars = "".join(_ALPHABET[(bits >> shift) & 31] for shift in range(35, -1, -5))
    return f"Q-{chars[:4]}-{chars[4:]}"
