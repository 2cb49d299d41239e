"""Text normalisation: the first stage every incoming question passes through.

``normalise`` produces three views of one question:

* ``original`` -- exactly as received, kept for staff and audit.
* ``clean`` -- what staff read: Unicode NFKC, zero-width/control/bidi characters removed,
  typographic quotes and dashes turned into plain ASCII, runs of spaces collapsed to one
  space and runs of blank lines collapsed to a single paragraph break.
* ``match_text`` -- what matching (dedupe, grouping, keyword rules) uses: lower-case, accents
  folded, URLs, e-mail addresses, @mentions, event hashtags, emoji and punctuation removed,
  everything on one line.

Hashtag policy: a hashtag is dropped from ``match_text`` when it names the *event* or the
channel (``#AskTheCommissioner``, ``#PCCLive``...), because it says nothing about the
question and would make unrelated tweets look alike. Every other hashtag carries meaning
(``#ASB``, ``#countylines``, ``#RuralCrime``) and is kept as words: the ``#`` goes and a
CamelCase tag is split (``#CountyLines`` -> ``county lines``) so it matches prose. The event
list lives in ``wordlists/event_hashtags.txt`` (one tag per line, ``#`` comments) and can be
overridden per call.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from workers.pipeline.wordlists import read_wordlist

__all__ = [
    "DEFAULT_EVENT_HASHTAGS",
    "EMAIL_PATTERN",
    "LINK_HINT",
    "URL_PATTERN",
    "Normalised",
    "load_event_hashtags",
    "normalise",
]


@dataclass(frozen=True)
class Normalised:
    """One question in the forms later stages need."""

    original: str
    """As received."""
    clean: str
    """NFKC, whitespace-collapsed, control characters removed: what staff read."""
    match_text: str
    """Lower-case, hashtags/@mentions/URLs/emoji/punctuation stripped: what matching uses."""
    hash: str
    """Stable hex digest (SHA-256) of ``match_text``: the exact-duplicate key."""


def load_event_hashtags(path: Path | None = None) -> frozenset[str]:
    """Read an event-hashtag list (default ``wordlists/event_hashtags.txt``).

    One tag per line, with or without ``#``; ``# `` (hash, space) starts a comment. Tags are
    compared case-insensitively.
    """
    entries = read_wordlist(path if path is not None else "event_hashtags.txt")
    return frozenset(e.lstrip("#").casefold() for e in entries)


DEFAULT_EVENT_HASHTAGS: frozenset[str] = load_event_hashtags()

# --- character clean-up -------------------------------------------------------------------

# Typographic punctuation NFKC leaves alone.
_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2022": "-",
    }
)

# Emoji / pictographs: used to keep a zero-width joiner inside an emoji sequence.
_EMOJI = (
    "\U0001f000-\U0001faff\U0001fc00-\U0001ffff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\ufe0f\u200d"
)
# C0/C1 controls except tab/newline/CR, zero-width and bidi formatting, soft hyphen, BOM,
# and a zero-width joiner that is not part of an emoji sequence.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5"
    "\u180e\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\ufff9-\ufffb]"
    f"|\u200d(?![{_EMOJI}])"
)

# --- match-text pieces ----------------------------------------------------------------------

URL_PATTERN = re.compile(
    r"(?:https?://|www\.)[^\s<>\"]+"
    r"|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|net|org|info|biz|io|ly|me|co|uk|ru|xyz|"
    r"shop|online|site|app|link|click|top|tv|gg|store|live)(?:/[^\s<>\"]*)?"
    r"(?=$|[\s,;:!?)\]]|\.(?:\s|$))",
    re.IGNORECASE,
)
"""Links: with a scheme, starting ``www.``, or a bare domain with a common TLD."""
EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
"""E-mail addresses (loose: good enough to keep them out of link and mention matching)."""
LINK_HINT = re.compile(
    r"://|www\.|\.(?:com|net|org|info|biz|io|ly|me|co|uk|ru|xyz|shop|online|site|app|link|"
    r"click|top|tv|gg|store|live)(?![a-z])",
    re.IGNORECASE,
)
"""Cheap pre-check: text without a match cannot contain a :data:`URL_PATTERN` link."""
_MENTION = re.compile(r"(?<![\w@])@\w+")
_HASHTAG = re.compile(r"(?<![\w#&])#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)")
_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")
_WORD = re.compile(r"[^\W_]+")


def _clean(text: str) -> str:
    if text.isascii():
        # Fast path: NFKC and the typography table change nothing in ASCII except "`".
        if not text.isprintable():
            text = _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
        if "`" in text:
            text = text.replace("`", "'")
    else:
        text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY)
        text = _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if "\n" not in text:
        return " ".join(text.split())
    # Collapse spaces within lines; keep single line breaks; any blank run is one paragraph.
    out: list[str] = []
    blank = False
    for line in text.split("\n"):
        words = line.split()
        if not words:
            blank = True
            continue
        if out:
            out.append("\n\n" if blank else "\n")
        out.append(" ".join(words))
        blank = False
    return "".join(out)


def _fold_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=8)
def _hashtag_replacer(event_hashtags: frozenset[str]) -> Callable[[re.Match[str]], str]:
    """Build the hashtag substitution for one event-tag set (cached: sets rarely change)."""

    def replace(m: re.Match[str]) -> str:
        tag = m.group(1)
        if tag.casefold() in event_hashtags:
            return " "
        return " " + _CAMEL.sub(" ", tag) + " "

    return replace


def _load_slang() -> tuple[re.Pattern[str] | None, dict[str, str]]:
    pairs: dict[str, str] = {}
    for entry in read_wordlist("policing_slang.txt"):
        slang, _, plain = entry.partition("=")
        if slang.strip() and plain.strip():
            pairs[" ".join(slang.split()).casefold()] = " ".join(plain.split()).casefold()
    if not pairs:
        return None, {}
    alternatives = sorted(pairs, key=len, reverse=True)  # longest phrase wins
    pattern = (
        r"\b(?:" + "|".join(re.escape(a).replace(r"\ ", r"\s+") for a in alternatives) + r")\b"
    )
    return re.compile(pattern), pairs


_SLANG, _SLANG_PLAIN = _load_slang()


def _plain_words(text: str) -> str:
    """Replace police slang with plain words (match text only)."""
    if _SLANG is None:
        return text
    return _SLANG.sub(lambda m: _SLANG_PLAIN[" ".join(m.group(0).split())], text)


def _match_text(clean: str, event_hashtags: frozenset[str]) -> str:
    text = clean
    if "@" in text:
        text = EMAIL_PATTERN.sub(" ", text)
    if LINK_HINT.search(text):
        text = URL_PATTERN.sub(" ", text)
    if "@" in text:
        text = _MENTION.sub(" ", text)
    if "#" in text:
        text = _HASHTAG.sub(_hashtag_replacer(event_hashtags), text)
    text = _fold_accents(text).casefold()
    if "'" in text:
        text = _APOSTROPHE.sub("", text)
    return _plain_words(" ".join(_WORD.findall(text)))


def normalise(text: str, *, event_hashtags: Iterable[str] | None = None) -> Normalised:
    """Normalise one incoming question.

    ``event_hashtags`` overrides the event tags dropped from ``match_text`` (compared
    case-insensitively, without ``#``); by default ``wordlists/event_hashtags.txt`` is used.
    """
    tags = (
        DEFAULT_EVENT_HASHTAGS
        if event_hashtags is None
        else frozenset(t.lstrip("#").casefold() for t in event_hashtags)
    )
    clean = _clean(text)
    match_text = _match_text(clean, tags)
    digest = hashlib.sha256(match_text.encode("utf-8")).hexdigest()
    return Normalised(original=text, clean=clean, match_text=match_text, hash=digest)
