"""The attribution line, table-tested against every form found in the real meeting notes.

Each row quotes the seed notes (/work/shared/seeds) word for word, gives the askers as openfloor
would hold them, and the line openfloor writes. Where the notes vary the wording ("Bex in
Shrewsbury", "Les at the Shropshire County Show") openfloor writes the notes' most common form.
"""

from __future__ import annotations

import pytest

from triage.attribution import Asker, attribution_line, join


def named(name: str | None, place: str | None = None, **kw: object) -> Asker:
    return Asker(name=name, location=place, consent=True, **kw)  # type: ignore[arg-type]


def unnamed(name: str | None = None, place: str | None = None, **kw: object) -> Asker:
    return Asker(name=name, location=place, consent=False, **kw)  # type: ignore[arg-type]


# (seed form quoted from the notes, askers, line openfloor writes)
SEED_FORMS: list[tuple[str, list[Asker], str]] = [
    (
        "1.1 Richard (location unknown)",
        [named("Richard")],
        "Richard (location unknown)",
    ),
    (
        "1.2 Kath from Shifnal, James from Kidderminster and Sue from Redditch",
        [named("Kath", "Shifnal"), named("James", "Kidderminster"), named("Sue", "Redditch")],
        "Kath from Shifnal, James from Kidderminster and Sue from Redditch",
    ),
    (
        "1.3 Keith from Bromsgrove, Bex in Shrewsbury and Nat in Wem",
        [named("Keith", "Bromsgrove"), named("Bex", "Shrewsbury"), named("Nat", "Wem")],
        "Keith from Bromsgrove, Bex from Shrewsbury and Nat from Wem",
    ),
    (
        "1.4 Roy (location unknown)",
        [named("Roy")],
        "Roy (location unknown)",
    ),
    (
        "1.5 Michael from Telford:",
        [named("Michael", "Telford")],
        "Michael from Telford",
    ),
    (
        "1.6 Steve and Linda (locations unknown):",
        [named("Steve"), named("Linda")],
        "Steve and Linda (locations unknown)",
    ),
    (
        "a question from Janet from Bridgnorth and Gail from Kidderminster on resources",
        [named("Janet", "Bridgnorth"), named("Gail", "Kidderminster")],
        "Janet from Bridgnorth and Gail from Kidderminster",
    ),
    (
        "a question raised by Richard in Hereford",
        [named("Richard", "Hereford")],
        "Richard from Hereford",
    ),
    (
        "1.7 Karen (location unknown)",
        [named("Karen")],
        "Karen (location unknown)",
    ),
    (
        "Peter from Hagley and David (location unknown):",
        [named("David"), named("Peter", "Hagley")],
        "Peter from Hagley and David (location unknown)",
    ),
    (
        "3.1 Jane from Wyre Forest : How are these officers expected to deal with",
        [named("Jane", "Wyre Forest", channel="facebook")],
        "Jane from Wyre Forest",
    ),
    (
        "3.2 Phil (location unknown) asked:",
        [named("Phil", channel="facebook")],
        "Phil (location unknown)",
    ),
    (
        "3.3 John from Evesham (submitted in advance):",
        [named("John", "Evesham", in_advance=True)],
        "John from Evesham (submitted in advance)",
    ),
    (
        "John from North Worcestershire has asked how can the police do more",
        [named("John", "North Worcestershire")],
        "John from North Worcestershire",
    ),
    (
        "Liz from Frankley had asked if the police can do more to address constant fly tipping",
        [named("Liz", "Frankley")],
        "Liz from Frankley",
    ),
    (
        "Kresida from the university had said it would be great to see the police more engaged",
        [named("Kresida", "the university")],
        "Kresida from the university",
    ),
    (
        "The PCC referred to Les at the Shropshire County Show who was concerned",
        [named("Les", event_name="Shropshire County Show", channel="event")],
        "Les at the Shropshire County Show",
    ),
    (
        "a question raised at the Hereford Food Festival",
        [unnamed("Gwen", "Kington", channel="event", event_name="Hereford Food Festival")],
        "asked at the Hereford Food Festival",
    ),
    (
        "One person had asked what is being done to address burglaries",
        [unnamed("Helen", "Church Stretton", channel="email")],
        "a member of the public",
    ),
]

# the forms the issue names, and the rules around opt-in and repeats
ISSUE_FORMS: list[tuple[str, list[Asker], str]] = [
    ("a Facebook viewer", [unnamed("Dan", channel="facebook", identity="fb:123")],
     "a Facebook viewer"),
    ("asked at the Ludlow Food Festival",
     [unnamed("Alan", "Ludlow", channel="event", event_name="Ludlow Food Festival")],
     "asked at the Ludlow Food Festival"),
    ("several cards from one event",
     [unnamed(channel="event", event_name="Ludlow Food Festival") for _ in range(3)],
     "asked by 3 people at the Ludlow Food Festival"),
    ("and 3 others: only those who opted in are named",
     [named("Kath", "Shifnal"), unnamed("Alan", "Ludlow"), unnamed("Tom", "Pershore"),
      unnamed(channel="facebook")],
     "Kath from Shifnal and 3 others"),
    ("and 1 other", [named("Roy"), unnamed("Margaret", "Leominster")],
     "Roy (location unknown) and 1 other"),
    ("the same person three times is listed once",
     [named("Alex", "Ludlow"), named("Alex", "Ludlow"), named("Alex", "Ludlow")],
     "Alex from Ludlow"),
    ("the same handle three times is one viewer",
     [unnamed("Al", channel="facebook", identity="fb:9") for _ in range(3)],
     "a Facebook viewer"),
    ("the same person not opted in counts once among the others",
     [named("Sue", "Redditch"), unnamed("Alan", "Ludlow"), unnamed("Alan", "Ludlow")],
     "Sue from Redditch and 1 other"),
    ("opting in on one of several questions names the person",
     [unnamed("Alex", "Ludlow", identity="a@example.org"),
      named("Alex", "Ludlow", identity="a@example.org")],
     "Alex from Ludlow"),
    ("a town with no name", [named(None, "Wem")], "someone from Wem"),
    ("a platform's full name is read out as the first name",
     [named("Jane Smith", "Wyre Forest", channel="facebook", identity="fb:77")],
     "Jane from Wyre Forest"),
    ("viewers on two platforms",
     [unnamed(channel="facebook"), unnamed(channel="facebook"), unnamed(channel="twitter")],
     "2 Facebook viewers and a viewer on X"),
    ("members of the public", [unnamed(), unnamed(channel="email")], "2 members of the public"),
    ("nobody", [], ""),
    ("untidy spacing is tidied", [named("  Kath ", " Shifnal  ")], "Kath from Shifnal"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("quoted", "askers", "line"), SEED_FORMS, ids=[row[0][:40] for row in SEED_FORMS]
)
def test_seed_forms(quoted: str, askers: list[Asker], line: str) -> None:
    mark_advance = "submitted in advance" in quoted
    assert attribution_line(askers, mark_advance=mark_advance) == line


@pytest.mark.parametrize(
    ("case", "askers", "line"), ISSUE_FORMS, ids=[row[0][:40] for row in ISSUE_FORMS]
)
def test_issue_forms_and_rules(case: str, askers: list[Asker], line: str) -> None:
    assert attribution_line(askers) == line


def test_no_name_of_anyone_who_did_not_opt_in() -> None:
    askers = [unnamed("Margaret", "Leominster"), unnamed("Alan", "Ludlow", channel="event",
              event_name="Ludlow Food Festival"), named("Kath", "Shifnal")]  # fmt: skip
    line = attribution_line(askers)
    assert "Margaret" not in line and "Leominster" not in line and "Alan" not in line
    assert line == "Kath from Shifnal and 2 others"


def test_advance_mark_only_when_every_question_came_in_advance() -> None:
    twice = [named("John", "Evesham", in_advance=True), named("John", "Evesham")]
    assert attribution_line(twice, mark_advance=True) == "John from Evesham"


def test_join() -> None:
    assert [join([]), join(["a"]), join(["a", "b"]), join(["a", "b", "c"])] == [
        "", "a", "a and b", "a, b and c"
    ]  # fmt: skip
