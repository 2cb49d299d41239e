"""Theme assignment for public questions, with discovery of themes the taxonomy lacks.

Staff group the questions for a meeting by theme ("ASB and no visible police presence",
"county lines in market towns"...). This package of modules suggests that theme; this module
is its public face and re-exports what the rest of the code uses.

* The taxonomy is data: a list of :class:`Theme` records (slug, label, description, example
  phrasings, optional keyword cues), seeded from ``taxonomy.yaml`` and editable by staff
  (:mod:`workers.pipeline.themes.taxonomy`).
* A question is scored against every theme by embedding similarity to the theme prototype
  (the mean of its example and description embeddings), to its nearest examples, plus a small
  bonus for keyword cues and, weighed, the probability a learned head gives it (a softmax
  fitted on thousands of questions people filed; :mod:`workers.pipeline.themes.scoring`). The
  theme ranked first wins when some theme's score (the head aside) reaches ``threshold``
  (:mod:`workers.pipeline.themes.classifier`).
* A question that fits no theme goes to *discovery* (:mod:`workers.pipeline.themes.discovery`):
  online leader clustering over such questions forms new-theme candidates (slugs ``new:1``,
  ``new:2``...), each with an automatic label made of its most distinctive words
  (:mod:`workers.pipeline.themes.words`), which staff can rename. An unsure question that
  resembles nothing seen so far keeps its best-guess theme (when above ``floor``) but is
  remembered; if a second unsure question like it arrives, the two found a discovered theme.
* Members of one duplicate group share a theme: after grouping, the pipeline gives each new
  member the group's vote (:func:`workers.pipeline.themes.groups.group_theme`; staff-chosen
  themes outvote the classifier's).
* Staff feedback: :meth:`ThemeClassifier.learn` adds a question's embedding as an extra
  example of the theme staff chose, and pins that question to the theme so the classifier
  never changes it.
* :meth:`ThemeClassifier.to_state` / :meth:`ThemeClassifier.from_state` give a JSON-safe
  snapshot (labels, learned examples, discovered themes, pins) to keep between runs
  (:mod:`workers.pipeline.themes.state`).

Embeddings come from any object with ``embed(texts) -> float32 (n, dim)`` with unit rows and a
``dim`` attribute (see :mod:`workers.pipeline.embedding`). Scoring a batch costs a few matrix
products; discovery is a short Python loop over the questions that fit no theme.
"""

from __future__ import annotations

from workers.pipeline.themes.classifier import ThemeAssignment, ThemeClassifier, ThemeInfo
from workers.pipeline.themes.head import shipped_theme_head
from workers.pipeline.themes.taxonomy import (
    DISCOVERED_PREFIX,
    TAXONOMY_PATH,
    Theme,
    load_seed_taxonomy,
    load_taxonomy,
    themes_from_records,
)
from workers.pipeline.themes.words import distinctive_label

__all__ = [
    "DISCOVERED_PREFIX",
    "TAXONOMY_PATH",
    "Theme",
    "ThemeAssignment",
    "ThemeClassifier",
    "ThemeInfo",
    "distinctive_label",
    "load_seed_taxonomy",
    "load_taxonomy",
    "shipped_theme_head",
    "themes_from_records",
]
