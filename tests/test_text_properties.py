"""Property tests of the text pipeline: intake cleaning and validation, normalise, redact.

For any text at all (hypothesis draws from the whole of Unicode, and from policing-like
sentences with personal data mixed in): nothing crashes, cleaning is idempotent, nothing
invisible or bidirectional survives, and redaction never lets personal data back in.
"""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.validation import (
    NAME_LIMIT,
    QUESTION_LIMIT,
    clean_line,
    clean_text,
    has_words,
    validate_submission,
)
from workers.pipeline.normalise import normalise
from workers.pipeline.personal_data import LABELS, find_personal_data, redact

BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
KEPT_FORMAT = {"\u200c", "\u200d"} | {chr(c) for c in range(0xE0020, 0xE0080)}

WORDS = [
    "Why", "is", "the", "police", "station", "in", "Shifnal", "shut", "my", "neighbour",
    "speeding", "on", "A49", "#ASB", "@WMerciaPolice", "bobbies", "?", ",", "\n", "\n\n",
    "\u202e", "\u200b", "\u200d", "\U0001f600", "Mill", "Lane", "High", "Street", "Mr", "PC",
    "number", "Flat", "county", "lines", "101", "don\u2019t", "\u201cquoted\u201d", "caf\u00e9",
]  # fmt: skip
PHONES = st.builds(
    "07700 {:06d}".format, st.integers(min_value=900000, max_value=900999)
) | st.builds("+44 1632 {:06d}".format, st.integers(min_value=960000, max_value=960999))
EMAILS = st.builds(
    "{}@{}.org".format,
    st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10),
    st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10),
)
POSTCODES = st.sampled_from(["SY6 6AB", "WR14 2AA", "HR1 2HX", "TF11 8PD", "DY10 1AA"])
REGISTRATIONS = st.sampled_from(["AB12 CDE", "KX65 ZRT", "YR19 LMN"])
PERSONAL = st.one_of(PHONES, EMAILS, POSTCODES, REGISTRATIONS)

# Whole Unicode (hypothesis leaves out surrogates, which no UTF-8 input can carry).
ANY_TEXT = st.text(max_size=400)
SENTENCES = st.lists(st.sampled_from(WORDS), max_size=40).map(" ".join)
TEXTS = ANY_TEXT | SENTENCES
# No per-example deadline: 2 shared cores make timings noisy, and speed is for bench/.
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def with_personal_data(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A policing sentence with some personal data dropped in, and that data."""
    words = draw(st.lists(st.sampled_from(WORDS[:20]), min_size=1, max_size=20))
    found = draw(st.lists(PERSONAL, min_size=1, max_size=3))
    for item in found:
        words.insert(draw(st.integers(min_value=0, max_value=len(words))), f"call {item} today")
    return " ".join(words), found


def visible(text: str) -> bool:
    """No controls (but newline and tab), no bidi controls, no format characters we drop."""
    for ch in text:
        if ch in BIDI_CONTROLS:
            return False
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs", "Co") and ch not in "\n\t":
            return False
        if category == "Cf" and ch not in KEPT_FORMAT:
            return False
    return True


# --- intake cleaning and validation ----------------------------------------------------------


@relaxed
@given(TEXTS)
def test_clean_text_is_idempotent_and_leaves_only_visible_text(text: str) -> None:
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert visible(cleaned)
    assert cleaned == cleaned.strip()
    assert "\n\n\n" not in cleaned and "\r" not in cleaned


@relaxed
@given(TEXTS | st.integers() | st.none())
def test_clean_line_is_one_idempotent_line(value: object) -> None:
    line = clean_line(value)
    assert clean_line(line) == line
    assert visible(line) and "\n" not in line and "\t" not in line and "  " not in line


@relaxed
@given(
    text=TEXTS | st.none(),
    name=TEXTS | st.none(),
    town=TEXTS | st.none(),
    email=TEXTS | EMAILS | st.none(),
    consent=st.booleans(),
)
def test_validation_never_crashes_and_what_passes_is_clean(
    text: str | None, name: str | None, town: str | None, email: str | None, consent: bool
) -> None:
    result = validate_submission(text=text, name=name, town=town, email=email, consent=consent)
    assert result.ok == (result.clean is not None)
    assert all(e.message and e.short for e in result.errors)
    if result.clean is None:
        return
    clean = result.clean
    assert has_words(clean.text) and len(clean.text) <= QUESTION_LIMIT and visible(clean.text)
    for field in (clean.author_name, clean.location, clean.contact_email):
        assert field is None or (field == clean_line(field) and field)
    assert clean.author_name is None or len(clean.author_name) <= NAME_LIMIT
    assert not clean.consent_publish or clean.author_name  # consent needs a name to publish
    again = validate_submission(
        text=clean.text,
        name=clean.author_name,
        town=clean.location,
        email=clean.contact_email,
        consent=clean.consent_publish,
    )
    assert again.clean == clean  # cleaning what was cleaned changes nothing


# --- normalise --------------------------------------------------------------------------------


@relaxed
@given(TEXTS)
def test_normalise_never_crashes_and_is_idempotent(text: str) -> None:
    n = normalise(text)
    assert n.original == text
    assert normalise(n.clean).clean == n.clean
    assert normalise(n.match_text).match_text == n.match_text
    assert not (set(n.clean) & BIDI_CONTROLS) and "\u200b" not in n.clean
    assert "\n" not in n.match_text and n.match_text == n.match_text.casefold()


@relaxed
@given(TEXTS)
def test_intake_then_pipeline_shows_only_visible_text(text: str) -> None:
    # The path a question takes: intake cleaning, then normalise and redact for the board.
    shown = redact(normalise(clean_text(text)).clean)
    assert visible(shown) and redact(shown) == shown


# --- redact -----------------------------------------------------------------------------------


def _only_labels(text: str) -> bool:
    """Every personal-data finding in ``text`` lies on one of our own labels."""
    for f in find_personal_data(text):
        span = text[f.start : f.end]
        if not any(span in label or label in span for label in LABELS.values()):
            return False
    return True


@relaxed
@given(TEXTS)
def test_redact_never_crashes_and_is_idempotent(text: str) -> None:
    shown = redact(normalise(text).clean)
    assert redact(shown) == shown
    assert _only_labels(shown)


@settings(relaxed, max_examples=300)
@given(with_personal_data())
def test_redaction_never_lets_personal_data_back(case: tuple[str, list[str]]) -> None:
    text, personal = case
    shown = redact(normalise(text).clean)
    for item in personal:
        assert item not in shown
        digits = "".join(ch for ch in item if ch.isdigit())
        if len(digits) >= 6:  # a phone number's digits do not survive in another form
            assert digits not in "".join(ch for ch in shown if ch.isdigit())
    assert _only_labels(shown)
    assert redact(shown) == shown
