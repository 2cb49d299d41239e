"""Out of scope: another police force's own business.

The PCC holds one force to account. A question about another force ("why are West Midlands
Police so useless in Birmingham", "Dyfed-Powys are closing Knighton station", "the Met are
a disgrace") is for that force or its own commissioner, so staff should see it before it
goes on. The forces are ``wordlists/police_forces.txt`` (its ``home:`` line is this
office's own force).

Naming another force is not enough: a question stays in scope when it names the home force
too, speaks to this office ("you", "here", "local", "our force"), or is about working with,
comparing with or crossing into another force's area ("do you work with Gloucestershire
Police on county lines?", "Staffordshire has more PCSOs than us, why?"); Welsh cues too
(*cydweithio*, *ffin*, *ar y cyd*).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from workers.pipeline.wordlists import read_wordlist

__all__ = ["ForceNames", "load_forces", "other_force_reason"]

_AFTER = r"(?:police|constabulary|force)"
# Working with, comparing with or crossing into another force: about this force too.
_SHARED = re.compile(
    r"\b(?:with|alongside|together|joint\w*|collaborat\w*|co ?operat\w*|partner\w*|"
    r"alliance|neighbour\w*|borders?|cross border|than|compared?|comparison|versus|vs|"
    r"same|like|learn\w*|mutual aid|both|share[sd]?|sharing|other forces|across|follow\w*|"
    r"split\w*|merg\w*|"
    r"our (?:force|police|area|county|counties|officers)|you|your|here|local|"
    # the same in Welsh: together, with, border, share, merge
    r"cydweithio|gyda|efo|ffin|ar y cyd|rhannu|uno|"
    r"why (?:cant|dont|doesnt|isnt|arent|wont|couldnt) (?:you|we|our))\b"
)
# Words without which no force can be named (checked before any regex runs).
_TRIGGERS = frozenset(
    ["police", "constabulary", "force", "heddlu", "psni", "gmp", "met", "mets", "dyfed"]
)


@dataclass(frozen=True)
class ForceNames:
    """The home force's pattern and the other forces' pattern (group ``name``)."""

    home: re.Pattern[str]
    other: re.Pattern[str]
    names: dict[str, str]  # alias -> the force's first name, for the reason


def _alternation(aliases: list[str]) -> str:
    return "|".join(re.escape(a) for a in sorted(aliases, key=len, reverse=True))


def parse_forces(lines: list[str]) -> ForceNames:
    """A :class:`ForceNames` from the lines of ``police_forces.txt``."""
    home: list[str] = []
    named: list[str] = []
    alone: list[str] = []
    names: dict[str, str] = {}
    for line in lines:
        is_home = line.startswith("home: ")
        aliases = [a.strip() for a in line.removeprefix("home: ").split("|") if a.strip()]
        first = aliases[0].rstrip("*")
        for alias in aliases:
            plain = alias.rstrip("*")
            if is_home:
                home.append(plain)
                continue
            names[plain] = first
            (alone if alias.endswith("*") else named).append(plain)
    other = (
        rf"\b(?:(?P<name>{_alternation(named)}) {_AFTER}|heddlu (?P<welsh>{_alternation(named)})"
        rf"|(?P<alone>{_alternation(alone)}))\b(?! office)"
    )
    return ForceNames(
        home=re.compile(rf"\b(?:{_alternation(home)})\b"), other=re.compile(other), names=names
    )


@cache
def load_forces() -> ForceNames:
    """The forces of ``wordlists/police_forces.txt`` (read once)."""
    return parse_forces(read_wordlist("police_forces.txt"))


def other_force_reason(match_text: str, words: frozenset[str]) -> str | None:
    """Why ``match_text`` is another force's business, or ``None``."""
    if _TRIGGERS.isdisjoint(words):
        return None
    forces = load_forces()
    found = forces.other.search(match_text)
    if found is None or forces.home.search(match_text) or _SHARED.search(match_text):
        return None
    alias = found.group("name") or found.group("welsh") or found.group("alone")
    return f"about another police force ({forces.names[alias]}), not this office's"
