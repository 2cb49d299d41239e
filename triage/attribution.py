"""The attribution line read out before an agenda question, written as the meeting notes write it.

"Kath from Shifnal, James from Kidderminster and Sue from Redditch", "Roy (location unknown)",
"Steve and Linda (locations unknown)", "a Facebook viewer", "asked at the Ludlow Food Festival".
Only people who opted in are named; the rest are counted ("and 3 others"). The same person asking
several times is one person. Pure: no database, no Flask.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FACEBOOK = "facebook"
TWITTER = "twitter"
EVENT = "event"


@dataclass(frozen=True)
class Asker:
    """What the line may know about whoever sent one question.

    ``identity`` is a stable key for the person (handle, email…) when one is known; it is used
    only to count a person once and never appears in the line.
    """

    name: str | None = None
    location: str | None = None
    consent: bool = False
    channel: str = "web"
    event_name: str | None = None
    identity: str | None = None
    in_advance: bool = False


@dataclass
class _Person:
    name: str | None
    location: str | None
    consent: bool
    channel: str
    event_name: str | None
    in_advance: bool


def _clean(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value or None


def _first_name(asker: Asker) -> str | None:
    """The name as read out: platforms give full names, the notes use first names."""
    name = _clean(asker.name)
    if name and asker.channel in (FACEBOOK, TWITTER):
        return name.split()[0]
    return name


def _key(asker: Asker, n: int) -> str:
    if _clean(asker.identity):
        return "id:" + (asker.identity or "").strip().lower()
    name, place = _clean(asker.name), _clean(asker.location)
    if name:
        return f"nl:{name.lower()}|{(place or '').lower()}"
    return f"anon:{n}"


def people(askers: Iterable[Asker]) -> list[_Person]:
    """One entry per person, in order of first question; named if any question opted in."""
    found: dict[str, _Person] = {}
    for n, a in enumerate(askers):
        key = _key(a, n)
        person = found.get(key)
        if person is None or (a.consent and not person.consent):
            # a consented question's own name and town are the ones that may be published
            previous_advance = person.in_advance if person else True
            found[key] = _Person(
                name=_first_name(a), location=_clean(a.location), consent=a.consent,
                channel=a.channel, event_name=_clean(a.event_name),
                in_advance=a.in_advance and previous_advance,
            )  # fmt: skip
        else:
            person.in_advance = person.in_advance and a.in_advance
    return list(found.values())


def join(parts: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _the(event: str) -> str:
    return event if event.lower().startswith("the ") else "the " + event


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else f"{n} {many}"


def _anonymous(unnamed: list[_Person]) -> str:
    """How to describe people who did not opt in, when nobody in the group is named."""
    events = {p.event_name for p in unnamed if p.channel == EVENT and p.event_name}
    if len(events) == 1 and all(p.channel == EVENT and p.event_name for p in unnamed):
        where = _the(next(iter(events)))
        if len(unnamed) == 1:
            return f"asked at {where}"
        return f"asked by {len(unnamed)} people at {where}"
    kinds: dict[str, int] = {}
    for p in unnamed:
        kinds[_source(p)] = kinds.get(_source(p), 0) + 1
    return join([_describe(source, n) for source, n in kinds.items()])


def _source(p: _Person) -> str:
    if p.channel in (FACEBOOK, TWITTER):
        return p.channel
    if p.channel == EVENT and p.event_name:
        return "event:" + p.event_name
    return "public"


def _describe(source: str, n: int) -> str:
    if source == FACEBOOK:
        return _plural(n, "a Facebook viewer", "Facebook viewers")
    if source == TWITTER:
        return _plural(n, "a viewer on X", "viewers on X")
    if source.startswith("event:"):
        where = _the(source.removeprefix("event:"))
        return f"someone at {where}" if n == 1 else f"{n} people at {where}"
    return _plural(n, "a member of the public", "members of the public")


def _named(p: _Person, mark_advance: bool) -> str:
    suffix = " (submitted in advance)" if mark_advance and p.in_advance else ""
    if p.name and p.location:
        return f"{p.name} from {p.location}{suffix}"
    if p.name and p.event_name:
        return f"{p.name} at {_the(p.event_name)}{suffix}"
    if p.location:
        return f"someone from {p.location}{suffix}"
    return f"{p.name}{suffix}"


def attribution_line(askers: Iterable[Asker], *, mark_advance: bool = False) -> str:
    """The line naming who asked, e.g. 'Peter from Hagley and David (location unknown)'.

    ``mark_advance`` adds "(submitted in advance)" to named people whose questions all came in
    before the meeting (used for questions taken in the social media section).
    """
    everyone = people(askers)
    named = [p for p in everyone if p.consent and (p.name or p.location)]
    unnamed = [p for p in everyone if not (p.consent and (p.name or p.location))]
    if not named:
        return _anonymous(unnamed) if unnamed else ""
    placed = [p for p in named if p.location or p.event_name]
    unplaced = [p for p in named if not (p.location or p.event_name)]
    parts = [_named(p, mark_advance) for p in placed]
    if unplaced:
        names = join([_named(p, mark_advance=False) for p in unplaced])
        unknown = " (location unknown)" if len(unplaced) == 1 else " (locations unknown)"
        parts.append(names + unknown)
    if unnamed:
        parts.append(_plural(len(unnamed), "1 other", "others"))
    return join(parts)
