"""Out of scope: another police force's own business or area.

The PCC holds one force to account. A question about another force ("why are West Midlands
Police so useless in Birmingham", "Dyfed-Powys are closing Knighton station", "the Met are
a disgrace") or about crime in another force's area ("burglaries in Tewkesbury are through
the roof", "drug dealing at Wolverhampton bus station") is for that force or its own
commissioner, so staff should see it before it goes on. The forces are
``wordlists/police_forces.txt`` and their towns ``wordlists/force_areas.txt``; the ``home:``
line of each is this office's own.

Naming another force or its town is not enough. A question stays in scope when it names
one of this force's towns too ("gangs from Birmingham dealing in Redditch"), names the other
town only as where something comes from or goes ("dealers bring it from Brum"), or is about
crossing the border or comparing ("burglars coming over the border", "Staffordshire has more
PCSOs than us, why?"); Welsh cues too (*cydweithio*, *ffin*, *ar y cyd*). Another *force*
named beside this one ("West Mercia and Warwickshire Police"), or with working together,
"here", "local" or "why can't you" ("Kent Police solved 40 % of burglaries, why can't
you?") is about this force too; another *town* named beside "West Mercia" is not ("Dudley
bus station is full of drugs, why isn't West Mercia doing anything?").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from workers.pipeline.wordlists import read_wordlist, word_set

__all__ = ["TOWN", "ForceAreas", "load_areas", "other_force_reason", "parse_areas"]

#: What a town's name reads as to the learned head (:mod:`.features`).
TOWN = "town"

_AFTER = r"(?:police|constabulary|force)"
# Crossing into, working with or comparing with another force's area: about this one too.
_CROSSING = (
    r"alliance|neighbour\w*|borders?|cross border|across|than|compared?|comparison|versus|vs|"
    r"same|like|as \w+ as|both|together|joint\w*|county lines|travel\w*|split\w*|merg\w*|"
    r"over (?:in|to|the border)|"
    r"(?:coming|come|comes|came|driving|drive|heading) (?:over|from|into|across|up|down)|"
    # the same in Welsh: together, border, on the joint, share, merge
    r"cydweithio|ffin|ar y cyd|rhannu|uno"
)
_PLACE_SHARED = re.compile(rf"\b(?:{_CROSSING}|here|our (?:area|county|town|village))\b")
_FORCE_SHARED = re.compile(
    rf"\b(?:{_CROSSING}|work\w* with|collaborat\w*|co ?operat\w*|partner\w*|learn\w*|"
    r"mutual aid|share[sd]?|sharing|other forces|follow\w*|"
    r"our (?:force|police|area|county|counties|officers)|here|local|"
    r"why (?:cant|dont|doesnt|isnt|arent|wont|couldnt) (?:you|we|our))\b"
)
# Just before the other force's name: working beside it ("alongside Dyfed-Powys"), where a
# "with" anywhere would be any sentence's ("overrun with beggars and Gloucestershire police").
_BESIDE = re.compile(r"\b(?:with|alongside|gyda|efo)(?: the| heddlu)? $")
# Words without which no force can be named (checked before any regex runs).
_TRIGGERS = frozenset(
    ["police", "constabulary", "force", "heddlu", "psni", "gmp", "met", "mets", "dyfed"]
)
_LONGEST_PLACE = 5  # words
# After a town's name: a street or an estate named after it ("the Coventry Highway").
_STREET = word_set(
    "road rd street st highway lane way avenue ave park close drive crescent terrace"
)
# Before a town's name: where someone or something comes from or goes to, not where it is.
_MOVING = frozenset(["from", "to"])


@dataclass(frozen=True)
class ForceAreas:
    """Names of the forces and towns of their areas, this office's apart."""

    home_force: re.Pattern[str]
    other_force: re.Pattern[str]  # groups name / welsh / alone
    force_names: dict[str, str]  # alias -> the force's first name, for the reason
    home_places: frozenset[str]
    other_places: dict[str, str]  # town -> its force's first name

    def places(self, words: list[str]) -> tuple[list[str], bool]:
        """The other forces' towns in ``words`` where something is (the longest name at each
        word; a town after "from" or "to" is where it comes from or goes), and whether one of
        this force's towns is there too, outside those ("ellesmere" in "ellesmere port" is
        not)."""
        found: list[str] = []
        home = False
        i = 0
        while i < len(words):
            n = 1
            for size in range(min(_LONGEST_PLACE, len(words) - i), 0, -1):
                name = " ".join(words[i : i + size])
                if name not in self.other_places and name not in self.home_places:
                    continue
                n = size
                if i + size < len(words) and words[i + size] in _STREET:
                    break
                if name in self.home_places:
                    home = True
                elif not (i and words[i - 1] in _MOVING):
                    found.append(name)
                break
            i += n
        return found, home

    def is_town(self, word: str) -> bool:
        """Is ``word`` by itself the name of a town of any area?"""
        return word in self.home_places or word in self.other_places

    def masked(self, words: list[str]) -> list[str]:
        """``words`` with each town's name (the longest at each word) replaced by ``town``."""
        out: list[str] = []
        i = 0
        while i < len(words):
            for size in range(min(_LONGEST_PLACE, len(words) - i), 0, -1):
                name = " ".join(words[i : i + size])
                if name in self.other_places or name in self.home_places:
                    out.append(TOWN)
                    i += size
                    break
            else:
                out.append(words[i])
                i += 1
        return out


def _alternation(aliases: list[str]) -> str:
    return "|".join(re.escape(a) for a in sorted(aliases, key=len, reverse=True))


def _entries(line: str) -> tuple[str, list[str]]:
    head, sep, rest = line.partition(": ")
    label, body = (head, rest) if sep and "|" not in head else ("", line)
    return label, [a.strip() for a in body.split("|") if a.strip()]


def parse_areas(force_lines: list[str], area_lines: list[str]) -> ForceAreas:
    """A :class:`ForceAreas` from the lines of ``police_forces.txt`` and ``force_areas.txt``."""
    home: list[str] = []
    named: list[str] = []
    alone: list[str] = []
    force_names: dict[str, str] = {}
    for line in force_lines:
        label, aliases = _entries(line)
        first = aliases[0].rstrip("*")
        for alias in aliases:
            plain = alias.rstrip("*")
            if label == "home":
                home.append(plain)
                continue
            force_names[plain] = first
            (alone if alias.endswith("*") else named).append(plain)
    other = (
        rf"\b(?:(?P<name>{_alternation(named)}) {_AFTER}|heddlu (?P<welsh>{_alternation(named)})"
        rf"|(?P<alone>{_alternation(alone)}))\b(?! office)"
    )
    home_places: set[str] = set()
    other_places: dict[str, str] = {}
    for line in area_lines:
        label, towns = _entries(line)
        if label == "home":
            home_places.update(towns)
        else:
            other_places.update(dict.fromkeys(towns, label))
    return ForceAreas(
        home_force=re.compile(rf"\b(?:{_alternation(home)})\b"),
        other_force=re.compile(other),
        force_names=force_names,
        home_places=frozenset(home_places),
        other_places=other_places,
    )


@cache
def load_areas() -> ForceAreas:
    """The forces and towns of ``wordlists/police_forces.txt`` and ``force_areas.txt``."""
    return parse_areas(read_wordlist("police_forces.txt"), read_wordlist("force_areas.txt"))


def other_force_reason(match_text: str, words: frozenset[str]) -> str | None:
    """Why ``match_text`` is another force's business or area, or ``None``."""
    areas = load_areas()
    others, home_place = areas.places(match_text.split())
    if home_place or (not others and _TRIGGERS.isdisjoint(words)):
        return None
    found = None if _TRIGGERS.isdisjoint(words) else areas.other_force.search(match_text)
    if found is not None:
        if (
            areas.home_force.search(match_text)
            or _FORCE_SHARED.search(match_text)
            or _BESIDE.search(match_text, 0, found.start())
        ):
            return None
        alias = found.group("name") or found.group("welsh") or found.group("alone")
        return f"about another police force ({areas.force_names[alias]}), not this office's"
    if not others or _PLACE_SHARED.search(match_text):
        return None
    town = others[0]
    return f"about a town in another force's area ({town}: {areas.other_places[town]})"
