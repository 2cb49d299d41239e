"""Possibly an emergency happening now: a live comment that needs "call 999", not the agenda.

During the broadcast someone may post about a crime in progress, a person in danger, a fire,
a crash or someone collapsed, instead of calling 999. Such an item is out of scope for the
meeting and must not wait in the queue like the others: it is flagged out of scope with
``urgent`` set, and the staff board lists it first, marked as a possible emergency, so that
someone answers the sender with the 999 advice at once.

Two signals mark it. The keyword rules (:func:`urgent_reason`, run with the other rules) need
both an *incident* (a weapon, violence being done, fire, a crash, someone hurt or missing, a
break-in, a dangerous driver on the road) and *now* (it is happening or has just happened,
here: "right now", "outside my house", "still there", "is anyone coming", "send someone"),
and nothing that tells it as past, habit or a what-if question. A subject alone ("what is
being done about knife crime", "my car was broken into last month") is an ordinary question.
A learned head (``heads/urgent.json``, :func:`mark_urgent`, run once the sentence vectors
are there) reads the vector with the three rule cues, for the many ways people tell an
emergency that no list foresees; its threshold is in the file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from workers.pipeline.flags import OUT_OF_SCOPE, Flag
from workers.pipeline.linear_head import HEADS_DIR, LinearHead, read_checked
from workers.pipeline.normalise import Normalised

__all__ = ["UrgentHead", "load_urgent_head", "mark_urgent", "urgent_features", "urgent_reason"]

_INCIDENTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern))
    for label, pattern in (
        (
            "a weapon",
            r"\b(?:(?:a|with a|has a|got a|holding a|waving a|carrying a) "
            r"(?:knife|machete|blade|gun|shotgun|axe|baseball bat|bat|crowbar|hammer)"
            r"|knives out|armed (?:man|men|people|lads|gang)|been (?:stabbed|shot)"
            r"|stabbing|shots fired|gunshots?)\b",
        ),
        (
            "violence",
            r"\b(?:being (?:hit|beaten|attacked|assaulted|stabbed|kicked|punched|"
            r"strangled|dragged|threatened|chased|followed|robbed|mugged)"
            r"|(?:beating|attacking|kicking|punching|hitting) (?:a|him|her|someone|"
            r"somebody|them|the|an|this|that|my)"
            r"|(?:massive|big|huge|mass) (?:fight|brawl)|fighting in the|"
            r"(?:been|is|keeps?|kept|started) following (?:me|us|her|him|my)|"
            r"just been (?:mugged|robbed|attacked|assaulted|stabbed|punched|glassed)|"
            r"(?:being|been) followed|followed (?:me|us|her|him) (?:all|round|around|from|home)|"
            r"(?:been )?behind (?:me|us) (?:since|for)|"
            r"screaming for help|kidnapped|grabbed a|dragged (?:a|her|him) into)\b",
        ),
        (
            "fire",
            r"\b(?:on fire|fire in|fire at|fire behind|fire on|house fire|car fire"
            r"|smoke everywhere|smoke pouring|flames|ablaze|setting fire|set fire)\b",
        ),
        (
            "a crash",
            r"\b(?:crash(?:ed)? (?:on|at|in|outside|near|just)|(?:bad|serious|major|"
            r"nasty|big) (?:crash|accident|collision)|car (?:has )?overturned|"
            r"been (?:knocked|run) (?:down|over)|hit by a (?:car|van|lorry))\b",
        ),
        (
            "someone hurt",
            r"\b(?:collapsed|unconscious|not breathing|isnt breathing|"
            r"is bleeding|bleeding (?:badly|heavily|everywhere)|overdos\w+|"
            r"(?:taken|took|swallowed) (?:a load of|loads of|all (?:my|her|his|the|of)|a bottle of|"
            r"a handful of) (?:\w+ )?(?:tablets|pills)|(?:ive|i have) got the (?:pills|tablets)|"
            r"having a (?:fit|seizure|heart attack)|lying in the (?:road|street))\b",
        ),
        (
            "someone missing",
            r"\b(?:cant find my|can not find my|cannot find my|"
            r"(?:son|daughter|child|kid|boy|girl|mum|dad|nan) (?:is|has gone) "
            r"missing|missing (?:child|girl|boy|toddler) (?:in|at|near|from))\b",
        ),
        (
            "a break-in",
            r"\b(?:(?:breaking|broke|broken) in(?:to)? (?:right now|now|next door|"
            r"as we speak)|someone (?:is )?(?:in|inside) my (?:house|home|garden|shed|"
            r"garage|car)|trying (?:to get in|the doors?|(?:car )?door handles)|"
            r"trying (?:my|our) (?:back |front |side |patio )?(?:doors?|door handles?|windows?)|"
            r"kicking (?:my|the|our) door|intruders?)\b",
        ),
        (
            "a dangerous driver",
            r"\b(?:(?:drunk|drink) driv\w+ (?:on|heading|going|swerving|just)"
            r"|swerving (?:all over|across|on)|wrong way (?:on|down) the)\b",
        ),
        (
            "vandalism in progress",
            r"\b(?:smashing|smashed) (?:up )?(?:the|a|my|our|car|cars|"
            r"windows|shop)\b.*\b(?:still there|right now|now)\b",
        ),
    )
)

_NOW = re.compile(
    r"\b(?:right now|happening now|as we speak|at the moment|just now|this minute|"
    r"still (?:there|here|going on|at it|outside|inside|in the)|outside (?:my|our|the) (?:house|"
    r"home|door|window|flat|shop|school)|next door|in my (?:garden|house|street|road|shed)|"
    r"on my (?:road|street|drive)|at my door|is anyone coming|anyone coming|someone come|"
    r"send (?:someone|somebody|help|the police|police|an officer|officers)|please help|"
    r"help me|help us|need (?:the )?police|need help|hurry|what do i do|who do i call|"
    r"(?:im|i am|were|we are) (?:scared|terrified|hiding)|can (?:hear|see) (?:them|him|her|"
    r"it|a|the|someone|somebody|shouting|screaming)|just (?:seen|saw|witnessed|heard)|"
    r"(?:is|are) (?:happening|going on) (?:now|outside|here)|avoid the area|"
    r"heading (?:towards|for|down|up|north|south|east|west|into)|"
    # still going on, told by how long it has lasted, or by where the sender is as they write
    r"for the (?:last|past) (?:\d+|few|couple of|five|ten|fifteen|twenty|half an?) ?"
    r"(?:mins?|minutes|hours?)|(?:im|i am) (?:on my own|alone|home alone|by myself)|"
    r"(?:im|i am) (?:writing|typing) this (?:from|in)|since (?:i|we) (?:got off|left|got out)|"
    r"(?:\d+|a few|few|five|ten|fifteen|twenty|half an hour|an hour) ?(?:mins?|minutes)? ago)\b"
)

# Told as past, habitual or hypothetical: a question about an emergency, not one.
_NOT_NOW = re.compile(
    r"\b(?:(?:rang|called|phoned|dialled|rung|had to call|had to ring) "
    r"(?:999|101|the police|police)|"
    r"(?:last|every|each) (?:night|week|weekend|month|year|day|time|summer|winter|evening)|"
    r"yesterday|(?:999|101) or (?:999|101)|is (?:it|that|this) (?:999|101)|"
    # long ago; minutes ago is still now (a "now" cue above)
    r"(?:days?|weeks?|months?|years?|hours|while|time) ago|"
    r"what (?:should|do) (?:i|we|people) do if|if (?:i|we|you|someone) (?:see|sees|saw)|"
    r"carr(?:y|ies|ying) (?:a )?knives|carr(?:y|ies|ying) a knife)\b"
)


@lru_cache(maxsize=4096)
def _read(match_text: str) -> tuple[str | None, str | None, bool]:
    """The rule cues of one text: its "now" words, its first incident's label, and whether
    it is told as past, habit or a what-if. Cached: the rules and the learned head's cues
    read the same batch one after the other."""
    now = _NOW.search(match_text)
    incident = next((label for label, p in _INCIDENTS if p.search(match_text)), None)
    return (now.group(0) if now else None), incident, _NOT_NOW.search(match_text) is not None


def urgent_reason(match_text: str) -> str | None:
    """Why ``match_text`` may be an emergency happening now, or None."""
    now, incident, not_now = _read(match_text)
    if now is None or incident is None or not_now:
        return None
    return f"possibly an emergency happening now ({incident}, {now!r}): tell the sender to call 999"


def _cues(match_text: str) -> list[float]:
    now, incident, not_now = _read(match_text)
    return [float(now is not None), float(incident is not None), float(not_now)]


def urgent_features(norms: Sequence[Normalised], vectors: np.ndarray) -> np.ndarray:
    """The head's input: each sentence vector, then the now / incident / not-now rule cues."""
    cues = np.asarray([_cues(n.match_text) for n in norms], dtype=np.float32).reshape(-1, 3)
    return np.hstack([np.asarray(vectors, dtype=np.float32).reshape(len(norms), -1), cues])


@dataclass(frozen=True)
class UrgentHead:
    """Logistic regression over :func:`urgent_features` and the probability that marks."""

    head: LinearHead
    threshold: float

    def probabilities(self, norms: Sequence[Normalised], vectors: np.ndarray) -> np.ndarray:
        """P(urgent) for each item."""
        return self.head.scores(urgent_features(norms, vectors))[:, 0]


@cache
def load_urgent_head(directory: Path = HEADS_DIR) -> UrgentHead:
    """``<directory>/urgent.json``, its sha256 checked against ``sha256sums.txt`` there."""
    data = read_checked("urgent", directory)
    head = LinearHead(
        classes=tuple(data["classes"]),
        coef=np.asarray(data["coef"], dtype=np.float32),
        intercept=np.asarray(data["intercept"], dtype=np.float32),
        link=data["link"],
    )
    return UrgentHead(head, float(data["threshold"]))


def mark_urgent(
    norms: Sequence[Normalised],
    vectors: np.ndarray,
    flags: Sequence[list[Flag]],
    head: UrgentHead | None = None,
) -> None:
    """Mark ``flags[i]`` urgent where the learned head fires and the rules did not: its
    out-of-scope flag becomes urgent, or one is added."""
    keep = [i for i, n in enumerate(norms) if n.match_text.strip()]
    keep = [i for i in keep if not any(f.urgent for f in flags[i])]
    if not keep:
        return
    head = head or load_urgent_head()
    probs = head.probabilities([norms[i] for i in keep], np.asarray(vectors)[keep])
    for i, p in zip(keep, probs, strict=True):
        if p < head.threshold:
            continue
        reason = (
            f"possibly an emergency happening now (learned model, {p:.2f}): "
            "tell the sender to call 999"
        )
        scope = next((f for f in flags[i] if f.code == OUT_OF_SCOPE), None)
        if scope is None:
            flags[i].append(Flag(OUT_OF_SCOPE, reason, urgent=True))
        else:
            at = flags[i].index(scope)
            flags[i][at] = replace(scope, reason=f"{reason}; {scope.reason}", urgent=True)
