"""A rehearsal broadcast: live comments as they come during a Facebook Live meeting.

Questions from the live phase of our labelled set (bench/data/policing_questions.jsonl), some
asked again by other viewers, mixed with greetings and chatter, each from its own commenter.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data" / "policing_questions.jsonl"
CHATTER = [
    "Evening all, watching from {place}",
    "Hello from {place}!",
    "Can't hear the sound",
    "👏👏",
    "Good to see this being done live",
    "Thanks for doing these sessions",
]
PLACES = ["Ludlow", "Wem", "Bromyard", "Tenbury", "Pershore", "Oswestry", "Kington", "Evesham"]
FIRST = ["Kath", "James", "Sue", "Roy", "Linda", "Steve", "Priya", "Alan", "Gwen", "Tom"]
LAST = ["Jones", "Hart", "Bell", "Evans", "Price", "Morgan", "Shah", "Lloyd"]


@dataclass(frozen=True)
class Comment:
    """One comment as a platform would give it."""

    external_id: str
    channel: str
    text: str
    author_name: str


def comments(n: int = 300, seed: int = 5, tag: str = "rh") -> list[Comment]:
    """``n`` comments: about 1 in 8 chatter, 1 in 6 a question someone already asked."""
    rng = random.Random(seed)
    live = [
        row["text"]
        for row in map(json.loads, DATA.read_text(encoding="utf-8").splitlines())
        if row.get("phase") == "live"
    ]
    rng.shuffle(live)
    out: list[Comment] = []
    asked: list[str] = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.12:
            text = rng.choice(CHATTER).format(place=rng.choice(PLACES))
        elif roll < 0.28 and asked:
            text = rng.choice(asked)
        else:
            text = live[len(asked) % len(live)]
            asked.append(text)
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        channel = "facebook" if rng.random() < 0.75 else "twitter"
        out.append(Comment(f"{tag}-{i:04d}", channel, text, name))
    return out


# Records, in the browser, when each question id first shows on the chair's screen (cards carry
# the ids of the live questions they stand for in data-qids).
WATCH = """() => {
  window.__seen = window.__seen || {};
  const record = () => {
    const now = Date.now();
    document.querySelectorAll('[data-qids]').forEach(el => {
      el.getAttribute('data-qids').split(' ').forEach(id => {
        if (id && !(id in window.__seen)) { window.__seen[id] = now; }
      });
    });
  };
  new MutationObserver(record).observe(document.body, {childList: true, subtree: true});
  record();
}"""


def p95(values: list[float]) -> float:
    """95th percentile (nearest rank below)."""
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]
