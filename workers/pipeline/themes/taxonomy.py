"""The staff-editable theme taxonomy: :class:`Theme` records and loading them.

The taxonomy is data: a list of themes (slug, label, description, example phrasings, optional
keyword cues), seeded from ``taxonomy.yaml`` next to this module and editable by staff. Themes
found by discovery are not taxonomy themes; their slugs start with :data:`DISCOVERED_PREFIX`,
which taxonomy slugs may not use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "AUTO_LABEL",
    "DISCOVERED_PREFIX",
    "TAXONOMY_PATH",
    "Theme",
    "auto_label",
    "load_seed_taxonomy",
    "load_taxonomy",
    "themes_from_records",
]

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.yaml")
#: Slugs of discovered themes start with this; taxonomy slugs may not.
DISCOVERED_PREFIX = "new:"
# Labels written for discovered themes start with this; any other label is a staff name.
AUTO_LABEL = "New theme"


def auto_label(slug: str, words: str) -> str:
    """What staff see for a discovered theme until they name it (never a slug like "new:3")."""
    if words:
        return f"{AUTO_LABEL}: {words}"[:110]
    number = slug.rsplit(":", 1)[-1]
    return f"{AUTO_LABEL} {number} (not named yet)" if number.isdigit() else AUTO_LABEL


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
    """The seed taxonomy shipped with the code (``workers/pipeline/themes/taxonomy.yaml``)."""
    return load_taxonomy(TAXONOMY_PATH)
