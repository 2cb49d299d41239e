"""Tests for workers.pipeline.personal_data (all numbers and names are fictional)."""

from __future__ import annotations

import logging
from itertools import pairwise

import pytest

from workers.pipeline.moderation import PERSONAL_DATA, moderate
from workers.pipeline.normalise import normalise
from workers.pipeline.personal_data import (
    LABELS,
    Finding,
    find_personal_data,
    flag_personal_data,
    redact,
)


def spans(text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in find_personal_data(text)]


# --- phones -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "07700 900123",
        "07700900123",
        "07700-900-321",
        "07700 900 123",
        "+44 7700 900456",
        "+447700900456",
        "+44 (0)1632 960789",
        "(01632) 960 789",
        "01632 960111",
        "0113 496 0123",
        "020 7946 0018",
        "0800 123 4567",
        "+353 1 234 5678",
    ],
)
def test_phone_numbers(number: str) -> None:
    text = f"Please ring me on {number} about the burglary."
    assert spans(text) == [("phone", number)]
    assert redact(text) == "Please ring me on [phone number] about the burglary."


@pytest.mark.parametrize(
    "text",
    [
        "I rang 101 and waited 40 minutes, then 999.",
        "NHS 111 told me to call the police.",
        "My crime number is 22/45871/23 and nothing happened.",
        "It happened on 14/03/2024 at 10.45pm.",
        "She lost £20,000 and 0.1 BTC.",
        "In 2019 there were 10500 calls a week.",
        "Incident log 0456 of 12 March.",
    ],
)
def test_not_phone_numbers(text: str) -> None:
    assert [k for k, _ in spans(text) if k == "phone"] == []


# --- emails -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["jane.doe@example.com", "bob.hughes1972@example.co.uk", "a+b@example.org"]
)
def test_emails(email: str) -> None:
    text = f"Email me at {email} with the outcome."
    assert spans(text) == [("email", email)]
    assert redact(text) == "Email me at [email address] with the outcome."


def test_mentions_are_not_emails() -> None:
    assert spans("@WMerciaPolice what about #ASB") == []


# --- vehicles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reg",
    ["AB12 CDE", "WX19ABC", "yx65 mno", "KN68 TPO", "P123 XYZ", "A1 BCD", "ABC 123D", "ABC123D"],
)
def test_vehicle_registrations(reg: str) -> None:
    text = f"The silver Golf, reg {reg}, is dealing outside the school."
    assert spans(text) == [("vehicle", reg)]
    assert "[vehicle registration]" in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "Speeding on the A49 near Ludlow and the M54 junction 4.",
        "Is the B4368 through Clun getting cameras? What about the A458?",
        "THE SPEEDING ON THE A49 AND THE M54 IS TERRIBLE.",
        "covid19 changed everything in 2020.",
        "At 3pm and 10pm the 4x4s arrive.",
        "The MP3 player and the A5 road.",
    ],
)
def test_not_vehicle_registrations(text: str) -> None:
    assert spans(text) == []


# --- addresses and postcodes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("I live at 14 Mill Lane, Craven Arms.", "14 Mill Lane"),
        ("The cannabis farm is at 27 Victoria Road, everyone knows.", "27 Victoria Road"),
        ("Drugs sold from Flat 3, 12 High Street, Bridgnorth.", "Flat 3, 12 High Street"),
        ("The couple at 5 Orchard Close run a brothel.", "5 Orchard Close"),
        ("She lives at 8a St John's Road.", "8a St John's Road"),
        ("I'm at 42 station road in Wem.", "42 station road"),
        ("Mrs Jenkins at number 9 is targeted.", "number 9"),
        ("my neighbour at no. 12 deals drugs", "no. 12"),
    ],
)
def test_addresses(text: str, address: str) -> None:
    assert ("address", address) in spans(text)
    assert address not in redact(text)
    assert "[address]" in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "Cars speed along Castle Street every night.",
        "Three houses close to the park were burgled.",
        "5 cars drive past the school at 60.",
        "The number 9 bus is always late.",
        "Parking on Station Road is dangerous.",
    ],
)
def test_not_addresses(text: str) -> None:
    assert [k for k, _ in spans(text) if k == "address"] == []


@pytest.mark.parametrize("postcode", ["SY6 6AB", "TF11 8AB", "wr14 2aa", "SY81AA", "B1 1AA"])
def test_postcodes(postcode: str) -> None:
    text = f"Our postcode is {postcode} and we never see police."
    assert spans(text) == [("postcode", postcode)]
    assert "[postcode]" in redact(text)


def test_postcode_districts_are_kept() -> None:
    assert spans("Burglaries in SY5 and TF11 are up.") == []


# --- people -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("My neighbour John Smith at number 4 keeps threatening me.", "John Smith"),
        ("PC Davies promised to call me back.", "Davies"),
        ("Mr Patel who runs the shop has been robbed.", "Patel"),
        ("Sgt Morris at Ludlow said it was civil.", "Morris"),
        ("DC Ahmed was brilliant.", "Ahmed"),
        ("Can PCSO Rachel Evans come back?", "Rachel Evans"),
        ("Inspector Lloyd never updated us.", "Lloyd"),
        ("Dr Khan at the surgery was threatened.", "Khan"),
        ("Tell Cllr Roberts he never answers.", "Roberts"),
        ("My ex-husband Darren Hughes keeps turning up.", "Darren Hughes"),
        ("her ex, Darren, won't stop", "Darren"),
        ("My ex-partner Shaun keeps driving past.", "Shaun"),
        ("My son Tyler was assaulted.", "Tyler"),
        ("My neighbour, Gary Price, has CCTV.", "Gary Price"),
        ("My daughter's boyfriend Liam Carter sends threats.", "Liam Carter"),
        ("A lad called Kieran Walsh sells vapes.", "Kieran Walsh"),
        ("I reported Jason Reed for drink driving.", "Jason Reed"),
        ("Mr and Mrs Bradley who own the garage.", "Bradley"),
        ("Ask Mr O'Brien about it.", "O'Brien"),
        ("My neighbour Mrs McDonald saw it.", "McDonald"),
    ],
)
def test_named_third_parties(text: str, name: str) -> None:
    assert ("person", name) in spans(text)
    assert name not in redact(text)
    assert "[name]" in redact(text)


def test_title_is_kept_name_redacted() -> None:
    assert redact("PC Davies promised to call.") == "PC [name] promised to call."


@pytest.mark.parametrize(
    "text",
    [
        "Will the Chief Constable explain the PCC's plan?",
        "The Police and Crime Commissioner and the Deputy Chief Constable attended.",
        "Kath from Shifnal here: ASB near the Co-op is worse.",
        "Sue in Redditch asks about vandalism.",
        "Speeding in Church Stretton, Much Wenlock and Market Drayton.",
        "Bishop's Castle and Craven Arms need more patrols.",
        "Operation Snap footage and Action Fraud reports.",
        "What did Mr Campion say about it?",
        "John Campion, the PCC, answered.",
        "Chief Constable Pippa Mills spoke at the meeting.",
        "Victoria Road and Holly Lane are dark at night.",
        "My neighbour's shed was broken into.",
        "The inspector at Malvern was helpful.",
        "I bought it at PC World.",
        "My son in Shrewsbury was burgled.",
        "A village called Clun had three burglaries.",
        "FUCK OFF CAMPION",
    ],
)
def test_not_third_party_names(text: str) -> None:
    assert [k for k, _ in spans(text) if k == "person"] == []


# --- results, redaction, flag -----------------------------------------------------------------


def test_findings_sorted_non_overlapping_and_exact() -> None:
    text = (
        "Ring PC Hannah Morgan on 07700 900987 or email sam.taylor@example.org; "
        "the car is KN68 TPO at 17 Park Avenue, SY1 1AB."
    )
    found = find_personal_data(text)
    assert [f.kind for f in found] == [
        "person",
        "phone",
        "email",
        "vehicle",
        "address",
        "postcode",
    ]
    assert all(a.end <= b.start for a, b in pairwise(found))
    assert redact(text) == (
        "Ring PC [name] on [phone number] or email [email address]; "
        "the car is [vehicle registration] at [address], [postcode]."
    )


def test_redact_with_given_findings_and_overlaps() -> None:
    text = "call 07700 900123 now"
    findings = [Finding("phone", 5, 17), Finding("person", 10, 15)]
    assert redact(text, findings) == "call [phone number] now"
    assert redact(text, []) == text
    assert redact("") == ""


def test_labels_cover_every_kind() -> None:
    assert set(LABELS) == {"phone", "email", "vehicle", "address", "postcode", "person"}


def test_flag_names_kinds_but_never_the_data() -> None:
    text = "My neighbour John Smith on 07700 900123 parks on AB12 CDE."
    flag = flag_personal_data(find_personal_data(text))
    assert flag is not None
    assert flag.code == PERSONAL_DATA
    assert "phone number" in flag.reason and "name" in flag.reason
    for secret in ("John", "Smith", "07700", "900123", "AB12"):
        assert secret not in flag.reason
    assert flag_personal_data([]) is None


def test_clean_question_has_no_findings() -> None:
    assert find_personal_data("Why does 101 take 40 minutes to answer in Ludlow?") == []


def test_nothing_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    text = "My neighbour John Smith on 07700 900123 is a fucking menace at 4 Mill Lane SY1 1AB"
    n = normalise(text)
    moderate(n)
    redact(n.clean, find_personal_data(n.clean))
    assert caplog.records == []
