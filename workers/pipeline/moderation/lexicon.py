"""The abuse word lexicon: profanity, slurs and name-calling, and seeing through disguises.

Profanity comes from better-profanity's maintained word list (read from the file it ships),
minus ``wordlists/profanity_allow.txt`` and plus ``wordlists/profanity_extra.txt``; slurs
and name-calling come from ``wordlists/slurs.txt`` and ``wordlists/insults.txt``. A token is
matched whole-word, through leetspeak, separators, elongation, self-censoring (``f***ing``)
and Cyrillic/Greek look-alike letters. Whether a match is abuse is decided in
:mod:`workers.pipeline.moderation.abuse`.
"""

from __future__ import annotations

import re
import unicodedata
from importlib import resources

from workers.pipeline.wordlists import read_wordlist

__all__ = [
    "INSULT",
    "LEET",
    "PHRASES",
    "PHRASE_FIRST_WORDS",
    "PHRASE_RE",
    "PROFANITY",
    "RUN3",
    "SLUR",
    "Hit",
    "classify",
    "lookup",
    "mask",
    "moderation_view",
]


def _lower_list(name: str) -> list[str]:
    return [e.casefold() for e in read_wordlist(name)]


# Categories of a lexicon hit.
PROFANITY = "profanity"
SLUR = "slur"
INSULT = "insult"

Hit = tuple[str, str]  # (category, canonical word)


def _shipped_wordlist() -> list[str]:
    """better-profanity's maintained word list, read from the file the package ships."""
    text = resources.files("better_profanity").joinpath("profanity_wordlist.txt")
    lines = text.read_text(encoding="utf-8").splitlines()
    return [w.strip().casefold() for w in lines if w.strip()]


_ALLOW = frozenset(_lower_list("profanity_allow.txt"))
_SEPARATORS = re.compile(r"[-_.']")

# Stems that take English suffixes productively ("fuckwits", "shitshow", "twatting").
_PRODUCTIVE_STEMS = ("fuck", "fuk", "fck", "shit", "shite", "wank", "twat", "cunt", "bitch",
                     "bollock", "bastard")  # fmt: skip
_PRODUCTIVE_SUFFIXES = ("ing", "in", "ed", "er", "ers", "y", "head", "heads", "face", "faces",
                        "bag", "bags", "hole", "holes", "wit", "wits", "show", "stain", "s",
                        "es")  # fmt: skip


def _build_lexicon() -> tuple[dict[str, Hit], dict[str, str]]:
    """Every matchable single-token form -> hit, and multi-word phrases -> category.

    Forms include separator-free spellings (``f-u-c-k`` -> ``fuck``), plurals of every entry
    and suffixed forms of the productive stems, so matching a token is one dict lookup.
    """
    base: dict[str, str] = {}
    phrases: dict[str, str] = {}
    slurs = _lower_list("slurs.txt")
    insults = _lower_list("insults.txt")
    entries = [(e, PROFANITY) for e in _shipped_wordlist() if e not in {*slurs, *insults}]
    entries += [(e, PROFANITY) for e in _lower_list("profanity_extra.txt")]
    entries += [(e, INSULT) for e in insults] + [(e, SLUR) for e in slurs]
    for entry, category in entries:
        if entry in _ALLOW:
            continue
        if " " in entry:
            phrases[entry] = category
        else:
            base[entry] = category

    forms: dict[str, Hit] = {}

    def add(form: str, hit: Hit) -> None:
        if form and form not in _ALLOW and form not in forms:
            forms[form] = hit

    for word, category in base.items():
        add(word, (category, word))
    for word, category in base.items():
        add(_SEPARATORS.sub("", word), (category, word))
    for suffix in ("s", "es"):  # "scrotes" is the plural of "scrote", not "scrot" + "es"
        for word, category in base.items():
            # "-es" only after a hiss ("gyppoes" no, "spaces" is not "spac" + "es")
            if word.isalpha() and (suffix == "s" or word.endswith(("s", "x", "z", "ch", "sh"))):
                add(word + suffix, (category, word))
    for stem in _PRODUCTIVE_STEMS:
        for suffix in _PRODUCTIVE_SUFFIXES:
            add(stem + suffix, (PROFANITY, stem))
    return forms, phrases


_FORMS, PHRASES = _build_lexicon()
PHRASE_FIRST_WORDS = frozenset(p.split()[0] for p in PHRASES)
PHRASE_RE = re.compile(
    r"(?<![a-z])(?:"
    + "|".join(
        r"\s+".join(map(re.escape, p.split())) for p in sorted(PHRASES, key=len, reverse=True)
    )
    + r")(?![a-z])"
)

# Leetspeak (better-profanity's substitutions plus a few common ones).
LEET = str.maketrans({"4": "a", "@": "a", "3": "e", "1": "i", "!": "i", "0": "o", "5": "s",
                      "$": "s", "7": "t", "+": "t", "8": "b", "9": "g", "€": "e"})  # fmt: skip
_LEET_ALT = str.maketrans({"1": "l", "!": "l", "v": "u"})
# Cyrillic and Greek letters that pass for Latin ones.
_LOOKALIKES = str.maketrans(
    "аеорсухіѕјкмнтвфԁɡαοεικνρτυχ",
    "aeopcyxisjkmhtbfdgaoeikvptux",
)
RUN3 = re.compile(r"(.)\1\1")
_RUNS = re.compile(r"(.)\1{2,}")

# Masked words ("f***ing", "c*nt", "sc*m"): candidate words by length (short insults such
# as "git" would match too much).
_MASKABLE: dict[int, list[Hit]] = {}
for _form, (_cat, _word) in _FORMS.items():
    if _form.isalpha() and (_cat != INSULT or len(_form) >= 4):
        _MASKABLE.setdefault(len(_form), []).append((_cat, _form))


def lookup(word: str) -> Hit | None:
    """The hit for one candidate spelling, if any."""
    hit = _FORMS.get(word)
    if hit is None and "fuck" in word:
        return PROFANITY, "fuck"
    return hit


def _masked(token: str) -> Hit | None:
    """Self-censored word such as ``f***ing``: the letters agree and ``*`` stands for any."""
    if token.count("*") >= len(token) - 1 or not token[0].isalpha():
        return None
    decoded = token.translate(LEET)
    for category, word in _MASKABLE.get(len(decoded), ()):
        if all(c == "*" or c == w for c, w in zip(decoded, word, strict=True)):
            return category, token
    return None


def classify(token: str, elongated: bool) -> Hit | None:
    """Category and display form of one lower-case token, or ``None`` when it is clean.

    ``elongated``: the text has a run of three equal characters somewhere, so squeezed
    spellings (``fuuuck`` -> ``fuck``) are worth trying.
    """
    hit = lookup(token)
    if hit is not None or token in _ALLOW:
        return hit
    candidates: list[str] = []
    if token.isalpha():
        if "v" in token:
            candidates.append(token.replace("v", "u"))
    else:
        letters = sum(c.isalpha() for c in token)
        if not letters:
            return None
        if "*" in token:
            hit = _masked(token)
            if hit is not None:
                return hit
        joined = _SEPARATORS.sub("", token)
        candidates += [joined, *(p for p in _SEPARATORS.split(token) if p)]
        if letters >= 2:
            token = joined.translate(LEET)
            candidates += [token, joined.translate(_LEET_ALT).translate(LEET)]
    if elongated and RUN3.search(token):
        candidates += [_RUNS.sub(r"\1", token), _RUNS.sub(r"\1\1", token)]
    for cand in candidates:
        if cand not in _ALLOW:
            hit = lookup(cand)
            if hit is not None:
                return hit
    return None


# --------------------------------------------------------------------------------------------
# Text view and display
# --------------------------------------------------------------------------------------------


def moderation_view(clean: str) -> str:
    """Lower-case text with accents folded and look-alike letters mapped to Latin."""
    text = clean.casefold()
    if text.isascii():
        return text
    text = text.translate(_LOOKALIKES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def mask(word: str) -> str:
    """Show the first letter only: ``fuck`` -> ``f***``; already-masked text is kept."""
    if "*" in word:
        return word
    word = word if " " in word else _SEPARATORS.sub("", word)
    out, first = [], True
    for c in word:
        if c.isalnum():
            out.append(c if first else "*")
            first = False
        else:
            out.append(c)
    return "".join(out)
