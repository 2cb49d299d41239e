"""The scripted broadcast: questions, chatter, emoji, a deletion, a 429, a drop, a restart."""

from __future__ import annotations

import random
from dataclasses import dataclass

QUESTIONS = [
    "What are the police doing about {topic} in {place}?",
    "Why is there never a police presence when {topic} happens in {place}?",
    "How many officers will be on patrol in {place} to tackle {topic}?",
    "Can the Chief Constable tell us when {topic} in {place} will be dealt with?",
    "Who do we call about {topic} near {place}? 101 takes forever.",
    "متى ستتعامل الشرطة مع {topic} في {place}؟",
]
TOPICS = [
    "quad bike theft", "hare coursing", "speeding through the village", "drug dealing",
    "anti-social behaviour", "sheep rustling", "fly-tipping on farmland", "car racing at night",
]  # fmt: skip
PLACES = ["Ludlow", "Clun", "Pershore", "Wem", "Tenbury Wells", "Bromsgrove", "Shifnal", "Evesham"]
#: Unmistakable chatter: greetings, emoji only, replies to each other.
CHATTER = [
    "hello from {place} 👋", "👏👏👏", "😂😂", "Hi Mum!", "Evening all 👋", "🙌", "❤️❤️",
    "Watching from {place}", "can't hear you", "Great to see this live 👍", "@Dave lol",
]  # fmt: skip
NAMES = ["Kath", "James", "Sue", "Les", "Bex", "Nat", "Roy", "Jane", None, None]


@dataclass(frozen=True)
class Step:
    """One thing that happens at ``at`` seconds into the broadcast."""

    at: float
    action: str  # comment, post, delete, x429, graph500, drop, restart
    text: str = ""
    author: str | None = None
    question: bool = False
    on_post: bool = False  # a comment on the promotional post rather than the video


def broadcast(
    comments: int, posts: int, seconds: float, *, faults: bool = True, seed: int = 9
) -> list[Step]:
    """A repeatable script of ``comments`` Facebook comments and ``posts`` X posts (and faults)."""
    rnd = random.Random(seed)
    steps: list[Step] = []

    def text(question: bool) -> str:
        pool = QUESTIONS if question else CHATTER
        return rnd.choice(pool).format(topic=rnd.choice(TOPICS), place=rnd.choice(PLACES))

    for n in range(comments):
        question = rnd.random() < 0.4
        steps.append(Step(seconds * n / max(comments, 1), "comment", text(question),
                          rnd.choice(NAMES), question, on_post=n % 25 == 3))  # fmt: skip
    for n in range(posts):
        question = rnd.random() < 0.7
        body = text(question) + " #AskThePCC"
        steps.append(Step(seconds * (n + 0.5) / max(posts, 1), "post", body,
                          rnd.choice([x for x in NAMES if x]), question))  # fmt: skip
    if not faults:
        return sorted(steps, key=lambda s: s.at)
    steps += [
        Step(seconds * 0.2, "x429"),
        Step(seconds * 0.3, "delete"),  # the comment before it, once collected
        Step(seconds * 0.35, "graph500"),
        Step(seconds * 0.45, "drop"),
        Step(seconds * 0.65, "restart"),
    ]
    return sorted(steps, key=lambda s: s.at)
