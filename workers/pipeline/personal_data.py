"""Find and redact personal data inside question text.

Staff keep the original; anything shown on screen, published or exported uses
:func:`redact`. Detected kinds:

``phone``
    UK numbers (``07700 900123``, ``+44 7700 900123``, ``+44 (0)1632 960789``,
    ``(01632) 960 789``, ``0113-496-0123``) and other ``+`` international numbers. Matched by
    regular expression and digit count, not with ``phonenumbers``: UK formats are regular,
    a mistyped or unallocated number is still personal data (the library rejects numbers
    from unallocated ranges), it costs ~0.2 ms a question against ~5 µs, and it would be a
    new dependency. Short codes (101, 999, 111) and crime references are never phones.
``email``
    Anything shaped like ``name@domain.tld``.
``vehicle``
    Current registrations (``AB12 CDE``, any case, space optional), prefix (``P123 XYZ``) and
    suffix (``ABC 123D``) formats in capitals. Road numbers such as ``A49`` are not matched.
``address``
    A house number with a street (``14 Mill Lane``, ``Flat 3, 12 High Street``) and
    "at number 4". A street name on its own is not personal data and is kept.
``postcode``
    Full UK postcodes (``SY6 6AB``, ``wr14 2aa``). District-only codes (``SY5``) are kept.
``person``
    A third party's name: after a title (Mr, Mrs, Dr, PC, PCSO, Sgt, DC, Inspector, Cllr...),
    after a relational cue (``my neighbour John Smith``, ``her ex, Darren``, ``my son
    Tyler``), after "a lad called ...", or a common first name followed by a surname
    (``Jason Reed``). Public office titles ("the Chief Constable", "the PCC") are not names;
    office holders listed in ``wordlists/public_office_holders.txt`` are not redacted; place
    names (Shifnal, Church Stretton) are not names. The title itself stays: ``PC [name]``.

Nothing in this module logs or returns the matched text except through the spans.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from workers.pipeline.moderation import PERSONAL_DATA, Flag
from workers.pipeline.wordlists import read_wordlist, word_set

__all__ = ["LABELS", "Finding", "find_personal_data", "flag_personal_data", "redact"]


@dataclass(frozen=True)
class Finding:
    """A span of personal data in the text it was found in (``text[start:end]``)."""

    kind: str
    """``phone``, ``email``, ``vehicle``, ``address``, ``postcode`` or ``person``."""
    start: int
    end: int


LABELS: dict[str, str] = {
    "phone": "[phone number]",
    "email": "[email address]",
    "vehicle": "[vehicle registration]",
    "address": "[address]",
    "postcode": "[postcode]",
    "person": "[name]",
}
"""What each kind is replaced with by :func:`redact`."""

_HUMAN = {
    "phone": "phone number",
    "email": "email address",
    "vehicle": "vehicle registration",
    "address": "address",
    "postcode": "postcode",
    "person": "name of a third party",
}

# --- phones, emails ----------------------------------------------------------------------------

# Cheap finder (starts with a character class, which the regex engine scans for quickly),
# then the strict pattern anchored where the finder matched.
_PHONE_HINT = re.compile(r"[+(0][0-9 ().\-]{8,24}[0-9]")
_SEP = r"[ .\-]?"
_PHONE = re.compile(
    r"(?:\+44" + _SEP + r"(?:\(0\)" + _SEP + r")?|\(?0)\d(?:" + _SEP + r"\)?" + _SEP + r"\d){8,9}"
    r"(?!\d)"
    r"|\+[1-9]\d{0,2}" + _SEP + r"(?:\(?\d+\)?" + _SEP + r"){2,5}\d+(?!\d)"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def _phone_ok(span: str) -> bool:
    """Right number of digits for a UK (10-11 with the 0) or international number."""
    digits = sum(c.isdigit() for c in span)
    if span.startswith("+44"):
        national = digits - 2 - (1 if "(0)" in span else 0)
        return national in (9, 10)
    if span.startswith("+"):
        return 8 <= digits <= 15
    return digits in (10, 11)


def _phones(text: str) -> list[Finding]:
    found = []
    pos = 0
    while (hint := _PHONE_HINT.search(text, pos)) is not None:
        start = hint.start()
        m = None
        if start == 0 or not (text[start - 1].isalnum() or text[start - 1] in "+/"):
            m = _PHONE.match(text, start)
        if m is not None and _phone_ok(m.group(0)):
            found.append(Finding("phone", start, m.end()))
            pos = m.end()
        else:
            pos = start + 1
    return found


# --- vehicles and postcodes ---------------------------------------------------------------------

_LETTER_DIGIT = re.compile(r"[A-Za-z][0-9]")
_DIGIT_LETTER = re.compile(r"[0-9][A-Za-z]")
_VEHICLE_CURRENT = re.compile(
    r"(?<![A-Za-z0-9])[A-HJ-PR-Y][A-HJ-PR-Y]\d{2} ?[A-HJ-PR-Z]{3}(?![A-Za-z0-9])", re.IGNORECASE
)
_VEHICLE_PREFIX = re.compile(
    r"(?<![A-Za-z0-9])[A-HJ-NP-Y]\d{1,3} ?[A-HJ-PR-Y][A-Z]{2}(?![A-Za-z0-9])"
)
_VEHICLE_SUFFIX = re.compile(
    r"(?<![A-Za-z0-9])[A-HJ-PR-Y][A-Z]{2} ?\d{1,3}[A-HJ-NP-Y](?![A-Za-z0-9])"
)
# Three-letter groups that are words or common acronyms, not registration letters:
# keeps "A49 AND THE M54" or "THE 12A" in shouted text from matching.
_COMMON_TRIGRAMS = word_set(
    """
    AND THE FOR ARE BUT NOT YOU ALL ANY CAN HAD HER WAS ONE OUR OUT DAY GET HAS HIM HIS
    HOW MAN NEW NOW OLD SEE TWO WAY WHO BOY DID ITS LET PUT SAY SHE TOO USE NHS PCC ASB
    BUS CAR VAN OFF RUN TOP END LOT BIG BAD YES AGO ASK WHY OWN SET FEW FAR TRY GOT MET
    PER VIA ETC MPH KPH PCS ACC DCC CPS RTC HGV GBP BBC ITV
    """
)
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-PR-UWYZ](?:\d[A-HJKPSTUW]?|[A-HK-Y]\d[ABEHMNPRV-Y]?|\d\d|[A-HK-Y]\d\d)"
    r" ?\d[ABD-HJLNP-UW-Z]{2}|GIR ?0AA)(?![A-Za-z0-9])",
    re.IGNORECASE,
)


def _vehicles_and_postcodes(text: str) -> list[Finding]:
    found = []
    for m in _VEHICLE_CURRENT.finditer(text):
        reg = m.group(0)
        # Any case is accepted ("yx65 mno") but not mixed ("TF11 are" is a postcode district
        # followed by a word), and never a common word as the last three letters.
        if (reg.isupper() or reg.islower()) and reg[-3:].upper() not in _COMMON_TRIGRAMS:
            found.append(Finding("vehicle", m.start(), m.end()))
    found += [
        Finding("vehicle", m.start(), m.end())
        for m in _VEHICLE_PREFIX.finditer(text)
        if m.group(0)[-3:] not in _COMMON_TRIGRAMS
    ]
    found += [
        Finding("vehicle", m.start(), m.end())
        for m in _VEHICLE_SUFFIX.finditer(text)
        if m.group(0)[:3] not in _COMMON_TRIGRAMS
    ]
    found += [Finding("postcode", m.start(), m.end()) for m in _POSTCODE.finditer(text)]
    return found


# --- addresses ----------------------------------------------------------------------------------

_STREET_SUFFIX = (
    r"Road|Rd|Street|St|Lane|Ln|Close|Avenue|Ave|Drive|Dr|Way|Crescent|Cres|Court|Ct|Place|Pl|"
    r"Grove|Gardens|Gdns|Terrace|Walk|Mews|Square|Sq|Hill|Rise|View|Row|Green|Park|Parade|"
    r"Boulevard|Wharf|Fields?|Meadows?|Chase|Croft|Gate|Bank|Vale|Heights|Orchard|Paddock|Yard"
)
_ADDRESS = re.compile(
    r"\d{1,4}[A-Za-z]?,? +(?:"
    r"(?:(?:[A-Z][a-z']+(?:-[A-Za-z]+)*|St\.?) +){1,3}(?:" + _STREET_SUFFIX + r")"
    r"|(?:[a-z]{3,} +){1,2}(?:road|lane|avenue|crescent|terrace|mews|gardens)"
    r")(?![A-Za-z])"
)
_FLAT_BEFORE = re.compile(r"(?:Flat|Apartment|Apt|Unit) +\d{1,4}[A-Za-z]?,? +$", re.IGNORECASE)
_HOUSE_NUMBER = re.compile(r"[Nn](?:umber|o\.?) ?\d{1,4}[a-z]?(?![A-Za-z0-9])")
_NUMBER_CUES = frozenset({"at", "to", "of", "in", "from"})


def _addresses(text: str) -> list[Finding]:
    found = []
    for m in _ADDRESS.finditer(text):
        start = m.start()
        if start and text[start - 1].isalnum():
            continue
        flat = _FLAT_BEFORE.search(text, max(0, start - 20), start)
        found.append(Finding("address", flat.start() if flat else start, m.end()))
    for m in _HOUSE_NUMBER.finditer(text):
        start = m.start()
        before = text[max(0, start - 6) : start]
        if before.endswith(" ") and before.split()[-1:] and before.split()[-1] in _NUMBER_CUES:
            found.append(Finding("address", start, m.end()))
    return found


# --- people -------------------------------------------------------------------------------------

_CAP_WORD = re.compile(r"[A-Z][a-zA-Z'-]*[a-z]")
_TITLES = word_set(
    """
    Mr Mrs Ms Miss Mx Dr Prof Rev PC PCSO Sgt Sergeant DC DS DI DCI DSI Supt
    Superintendent Insp Inspector Cllr Councillor Constable
    """
)
_PUBLIC_ROLE_WORDS = word_set(
    """
    Chief Deputy Assistant Commissioner PCC MP Minister Secretary Sir Dame Lord Lady
    """
)
_RELATIONS = word_set(
    """
    neighbour neighbours next-door son sons daughter daughters ex ex-husband ex-wife
    ex-partner ex-boyfriend ex-girlfriend husband wife partner boyfriend girlfriend brother
    sister mum mom mother dad father stepson stepdaughter stepdad stepmum cousin uncle
    aunt auntie nephew niece grandson granddaughter grandad grandma nan friend mate
    colleague boss landlord landlady tenant lodger carer child grandchild
    """
)
_PERSON_NOUNS = word_set(
    """
    lad man woman bloke guy boy girl person someone somebody kid chap lady gentleman
    fella fellow youth teenager driver dealer officer
    """
)
_FIRST_NAMES = frozenset(read_wordlist("first_names.txt"))
_PUBLIC_NAMES = frozenset(read_wordlist("public_office_holders.txt"))
_PUBLIC_SURNAMES = frozenset(n.split()[-1] for n in _PUBLIC_NAMES)
# Capitalised words that follow a title or first name but are not names.
_NOT_NAMES = word_set(
    """
    Road Rd Street St Lane Ln Close Avenue Ave Drive Dr Way Crescent Cres Court Ct Place
    Pl Grove Gardens Gdns Terrace Walk Mews Square Sq Hill Rise View Row Green Park
    Parade Boulevard Wharf Field Fields Meadow Meadows Chase Croft Gate Bank Vale
    Heights Orchard Paddock Yard Island Heath Bridge Castle Abbey Wood Forest Valley
    Wells Arms Cross End Common Marsh Moor House Hall Farm Police Council Station Centre
    Center Academy School College Hospital Surgery Trust Ltd Limited Services Group
    Church Chapel Inn Hotel Club Stadium Show World Comics Martens Team Office Constable
    Commissioner Chief Deputy Monday Tuesday Wednesday Thursday Friday Saturday Sunday
    January February March April May June July August September October November
    December The And But Or If So Then When What Why How Who Is Was Has Had Did Does
    Will Can Could Would Should It He She They We You My Our His Her Their This That
    These Those Here There Please Thanks Thank Also Just Still Again Fraud Crime Watch
    Operation
    """
)


def _previous_words(text: str, start: int, n: int) -> list[str]:
    """Up to ``n`` words before ``start``, trailing punctuation stripped, nearest last."""
    return [w.rstrip(",.:;") for w in text[max(0, start - 40) : start].split()[-n:]]


def _name_words(text: str, first: re.Match[str], limit: int) -> tuple[int, int]:
    """Extend a name from ``first`` over up to ``limit`` more capitalised words."""
    end = first.end()
    for _ in range(limit):
        nxt = _CAP_WORD.match(text, end + 1)
        if text[end : end + 1] != " " or nxt is None or nxt.group(0) in _NOT_NAMES:
            break
        end = nxt.end()
    return first.start(), end


def _people(text: str) -> list[Finding]:
    found: list[Finding] = []
    skip_to = 0
    for m in _CAP_WORD.finditer(text):
        start, word = m.start(), m.group(0)
        if start < skip_to or (start and text[start - 1].isalnum()):
            continue
        if word in _NOT_NAMES or word in _TITLES:
            continue
        prev = _previous_words(text, start, 3)
        last = prev[-1] if prev else ""
        span: tuple[int, int] | None = None
        public = False
        if last in _TITLES or last.rstrip(".") in _TITLES:
            span = _name_words(text, m, 2)
            before_title = prev[-2] if len(prev) > 1 else ""
            public = before_title in _PUBLIC_ROLE_WORDS or (
                last.rstrip(".") in {"Mr", "Mrs", "Ms", "Miss", "Dr"}
                and text[span[0] : span[1]] in _PUBLIC_SURNAMES
            )
        elif last.lower().removesuffix("'s") in _RELATIONS or (
            len(prev) >= 2
            and last.lower() in {"called", "named"}
            and prev[-2].lower() in _PERSON_NOUNS
        ):
            span = _name_words(text, m, 1)
        elif word in _FIRST_NAMES:
            nxt = _CAP_WORD.match(text, m.end() + 1)
            if (
                text[m.end() : m.end() + 1] == " "
                and nxt is not None
                and nxt.group(0) not in _NOT_NAMES
                and last not in _PUBLIC_ROLE_WORDS
            ):
                span = (start, nxt.end())
        if span is None:
            continue
        skip_to = span[1]
        if public or text[span[0] : span[1]] in _PUBLIC_NAMES:
            continue
        found.append(Finding("person", *span))
    return found


def find_personal_data(text: str) -> list[Finding]:
    """Spans of personal data in ``text``, sorted and non-overlapping.

    Where detections overlap the earliest, then longest, wins (an e-mail address is not
    also a name). Offsets index into ``text`` as given; pass the same string to
    :func:`redact`.
    """
    found: list[Finding] = []
    if "@" in text:
        found += [Finding("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    if _PHONE_HINT.search(text):
        found += _phones(text)
    if _LETTER_DIGIT.search(text) or _DIGIT_LETTER.search(text):
        found += _vehicles_and_postcodes(text)
    if any(c.isdigit() for c in text):
        found += _addresses(text)
    found += _people(text)
    if len(found) < 2:
        return found
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    merged: list[Finding] = []
    for f in found:
        if not merged or f.start >= merged[-1].end:
            merged.append(f)
    return merged


def redact(text: str, findings: Sequence[Finding] | None = None) -> str:
    """``text`` with each personal-data span replaced by its label (see :data:`LABELS`).

    ``findings`` defaults to :func:`find_personal_data` on ``text``; overlapping findings
    are tolerated (the first one wins).
    """
    if findings is None:
        findings = find_personal_data(text)
    out: list[str] = []
    pos = 0
    for f in sorted(findings, key=lambda f: (f.start, -(f.end - f.start))):
        if f.start < pos:
            continue
        out.append(text[pos : f.start])
        out.append(LABELS.get(f.kind, "[redacted]"))
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def flag_personal_data(findings: Sequence[Finding]) -> Flag | None:
    """A ``personal_data`` flag naming the kinds found (never the data), or ``None``."""
    if not findings:
        return None
    kinds = ", ".join(dict.fromkeys(_HUMAN.get(f.kind, f.kind) for f in findings))
    return Flag(PERSONAL_DATA, f"contains personal data: {kinds}")
