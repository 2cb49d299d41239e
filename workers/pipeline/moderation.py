"""Moderation: flag abuse, spam and out-of-scope questions for staff to review.

Flags are advice for the moderation queue. Nothing here deletes, edits or hides a question;
a flagged question keeps its original text and staff decide.

Abuse
    * Profanity, from better-profanity's maintained word list (read from the file it ships,
      not through its API: ``contains_profanity`` costs ~40 ms a question). Words in that list
      that are ordinary in policing questions (rape, heroin, naked, pot, weed...) or mild
      (crap, damn, hell, pissed) are excluded in ``wordlists/profanity_allow.txt``; British
      words it lacks are added in ``wordlists/profanity_extra.txt``. Matching is whole-word
      (so Scunthorpe, Penistone, cocktail, assassination and Sussex are fine) and sees through
      the obfuscation better-profanity handles (leetspeak ``sh1t``/``$hit``/``tw@t``, ``fvck``,
      dotted or spaced letters ``f.u.c.k``/``c u n t``) plus elongation (``fuuuck``),
      self-censoring (``f***ing``), zero-width characters and Cyrillic/Greek look-alikes.
      Profanity is flagged even inside a legitimate question ("the f***ing speeders on the
      A49"): the flag asks staff to look, it does not reject.
    * Slurs (``wordlists/slurs.txt``): always flagged.
    * Name-calling (``wordlists/insults.txt``): flagged only when aimed at a person -- the
      reader ("you muppet"), the police/PCC/officers, or the subject of "X is a ...". Aimed at
      an offender category it is venting, not abuse of an identifiable person, and is NOT
      flagged: "drug dealers are scum", "those morons racing cars". Criticism ("useless",
      "a disgrace", "pathetic") is never abuse.
    * Threats and calls for violence against people ("the chief constable should be shot",
      "I know where the PCC lives", "hope he dies"), including against offenders ("dealers
      should be shot"): staff should see those. Reported threats ("he threatened to kill me")
      are not flagged.

Spam
    * Links, except to trusted domains (``wordlists/trusted_domains.txt``); shorteners and
      messaging links always. A link to a news site is flagged too: staff check it.
    * Long runs of one character or of a short unit ("!!!!!!!!!!", "lolololol..."), and the
      same word over and over. ALL-CAPS shouting is not spam.
    * Promotional text (sales, crypto/forex, loans, casinos, "DM me", "earn £500 a day"),
      scored so that a victim asking about a crypto scam is not flagged.
    * The same text from many accounts: :class:`RepeatTracker` (needs state, so it is
      separate from :func:`moderate`).

Out of scope
    Council (and NHS, benefits...) business with no policing angle: potholes, bins, street
    lights, planning, council tax (but not the police precept), parking permits and charges,
    dog fouling, verges, gritting, drains, buses, schools, housing, libraries. Fly-tipping is
    council business unless the question has a policing angle (threats, organised gangs,
    vehicles caught on camera, prosecution). A council topic next to a crime word is in
    scope: "the street lights go off at midnight and there have been three burglaries".
    Roads policing (speeding, dangerous or obstructive parking, road safety) is in scope.
"""

from __future__ import annotations

import itertools
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources

from workers.pipeline.normalise import EMAIL_PATTERN, LINK_HINT, URL_PATTERN, Normalised
from workers.pipeline.wordlists import read_wordlist, word_set

__all__ = [
    "ABUSE",
    "OUT_OF_SCOPE",
    "PERSONAL_DATA",
    "SPAM",
    "Flag",
    "RepeatTracker",
    "moderate",
]

ABUSE = "abuse"
SPAM = "spam"
OUT_OF_SCOPE = "out_of_scope"
PERSONAL_DATA = "personal_data"


@dataclass(frozen=True)
class Flag:
    """Why a question needs a human look before it goes anywhere public."""

    code: str
    """One of ``abuse``, ``spam``, ``out_of_scope``, ``personal_data``."""
    reason: str
    """Human-readable for staff; never repeats personal data or an unmasked profanity."""


def _lower_list(name: str) -> list[str]:
    return [e.casefold() for e in read_wordlist(name)]


# --------------------------------------------------------------------------------------------
# Lexicon
# --------------------------------------------------------------------------------------------

PROFANITY = "profanity"
SLUR = "slur"
INSULT = "insult"

_Hit = tuple[str, str]  # (category, canonical word)


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


def _build_lexicon() -> tuple[dict[str, _Hit], dict[str, str]]:
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

    forms: dict[str, _Hit] = {}

    def add(form: str, hit: _Hit) -> None:
        if form and form not in _ALLOW and form not in forms:
            forms[form] = hit

    for word, category in base.items():
        add(word, (category, word))
    for word, category in base.items():
        add(_SEPARATORS.sub("", word), (category, word))
    for suffix in ("s", "es"):  # "scrotes" is the plural of "scrote", not "scrot" + "es"
        for word, category in base.items():
            if word.isalpha():
                add(word + suffix, (category, word))
    for stem in _PRODUCTIVE_STEMS:
        for suffix in _PRODUCTIVE_SUFFIXES:
            add(stem + suffix, (PROFANITY, stem))
    return forms, phrases


_FORMS, _PHRASES = _build_lexicon()
_PHRASE_FIRST_WORDS = frozenset(p.split()[0] for p in _PHRASES)
_PHRASE_RE = re.compile(
    r"(?<![a-z])(?:"
    + "|".join(
        r"\s+".join(map(re.escape, p.split())) for p in sorted(_PHRASES, key=len, reverse=True)
    )
    + r")(?![a-z])"
)

# Leetspeak (better-profanity's substitutions plus a few common ones).
_LEET = str.maketrans({"4": "a", "@": "a", "3": "e", "1": "i", "!": "i", "0": "o", "5": "s",
                       "$": "s", "7": "t", "+": "t", "8": "b", "9": "g", "€": "e"})  # fmt: skip
_LEET_ALT = str.maketrans({"1": "l", "!": "l", "v": "u"})
# Cyrillic and Greek letters that pass for Latin ones.
_LOOKALIKES = str.maketrans(
    "аеорсухіѕјкмнтвфԁɡαοεικνρτυχ",
    "aeopcyxisjkmhtbfdgaoeikvptux",
)
_RUN3 = re.compile(r"(.)\1\1")
_RUNS = re.compile(r"(.)\1{2,}")

# Masked words ("f***ing", "c*nt", "sc*m"): candidate words by length (short insults such
# as "git" would match too much).
_MASKABLE: dict[int, list[_Hit]] = {}
for _form, (_cat, _word) in _FORMS.items():
    if _form.isalpha() and (_cat != INSULT or len(_form) >= 4):
        _MASKABLE.setdefault(len(_form), []).append((_cat, _form))


def _lookup(word: str) -> _Hit | None:
    """The hit for one candidate spelling, if any."""
    hit = _FORMS.get(word)
    if hit is None and "fuck" in word:
        return PROFANITY, "fuck"
    return hit


def _masked(token: str) -> _Hit | None:
    """Self-censored word such as ``f***ing``: the letters agree and ``*`` stands for any."""
    if token.count("*") >= len(token) - 1 or not token[0].isalpha():
        return None
    decoded = token.translate(_LEET)
    for category, word in _MASKABLE.get(len(decoded), ()):
        if all(c == "*" or c == w for c, w in zip(decoded, word, strict=True)):
            return category, token
    return None


def _classify(token: str, elongated: bool) -> _Hit | None:
    """Category and display form of one lower-case token, or ``None`` when it is clean.

    ``elongated``: the text has a run of three equal characters somewhere, so squeezed
    spellings (``fuuuck`` -> ``fuck``) are worth trying.
    """
    hit = _lookup(token)
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
            token = joined.translate(_LEET)
            candidates += [token, joined.translate(_LEET_ALT).translate(_LEET)]
    if elongated and _RUN3.search(token):
        candidates += [_RUNS.sub(r"\1", token), _RUNS.sub(r"\1\1", token)]
    for cand in candidates:
        if cand not in _ALLOW:
            hit = _lookup(cand)
            if hit is not None:
                return hit
    return None


# --------------------------------------------------------------------------------------------
# Text views and tokens
# --------------------------------------------------------------------------------------------

_SENTENCE = re.compile(r"[.?!;:]+(?=\s|$)|\n")
_SPLIT = str.maketrans({c: " " for c in ',"()[]{}<>/\\|=&~^'})
_EDGE = "'\".,!?;:-_~"
_SPACED_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789@$*")


def _moderation_view(clean: str) -> str:
    """Lower-case text with accents folded and look-alike letters mapped to Latin."""
    text = clean.casefold()
    if text.isascii():
        return text
    text = text.translate(_LOOKALIKES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _tokens(sentence: str) -> list[str]:
    out = []
    for raw in sentence.translate(_SPLIT).split():
        tok = raw.strip(_EDGE)
        if tok[:1] == "*" and tok[-1:] == "*":
            tok = tok.strip("*")
        if tok:
            out.append(tok)
    return out


def _spaced_words(tokens: list[str]) -> list[str]:
    """Words spelt out in single characters: ``c u n t s`` -> ``cunts``."""
    out, run = [], []
    for tok in [*tokens, ""]:
        if len(tok) == 1 and tok in _SPACED_CHARS:
            run.append(tok)
            continue
        if len(run) >= 3:
            out.append("".join(run))
        run = []
    return out


def _mask(word: str) -> str:
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


# --------------------------------------------------------------------------------------------
# Insult targeting
# --------------------------------------------------------------------------------------------

_TARGETS = word_set(
    """
    you your youre yourself yourselves ya u ur pcc pccs dpcc commissioner commissioners
    deputy police policeman policemen policewoman officer officers copper coppers cop
    cops constable chief inspector sergeant sarge superintendent force plod staff
    councillor cllr mp he she him her hes shes
    """
)
_OFFENDERS = word_set(
    """
    dealer dealers druggies junkies burglar burglars thief thieves criminals criminal
    offenders offender yobs yob youths kids teenagers teens lads gang gangs racers
    speeders drivers driver bikers riders vandals tippers fly-tippers shoplifters
    poachers coursers paedophiles paedos pedos nonces rapists abusers muggers robbers
    scammers fraudsters hooligans louts thugs joyriders trespassers racing speeding
    dealing
    """
)
_DETERMINERS = word_set("the these those some them")
_COPULAS = word_set("is are was were be being s")
_NOT_SUBJECTS = _OFFENDERS | word_set("there it that this what which")
# Name-calling aimed at a nationality, ethnicity, religion or other group is hateful, not
# venting about offenders: "Polish scum", "travellers are vermin".
_GROUPS = word_set(
    """
    polish romanian romanians albanian albanians lithuanian lithuanians bulgarian bulgarians
    eastern european europeans foreign foreigners foreigner immigrant immigrants migrant
    migrants refugee refugees asylum seekers muslim muslims jewish jews jew black blacks
    asian asians pakistani pakistanis indian indians chinese african africans somali
    somalis irish gypsy gypsies gipsies traveller travellers roma gay gays trans lesbian
    lesbians disabled
    """
)


def _insult_targets_person(tokens: list[str], i: int) -> bool:
    """Is the insult at ``tokens[i]`` aimed at a person rather than at offenders?

    A person is targeted when a target word (you, the PCC, officers...) follows within three
    words or is the nearest anchor before it, or when the insult is the predicate of
    "X is a ..." with X not an offender category, or when it is aimed at a group of people
    (nationality, religion...). A determiner right before the insult
    ("the idiots speeding", "those morons") makes it a description of third parties.
    """
    if not _TARGETS.isdisjoint(tokens[i + 1 : i + 4]):
        return True
    if not _GROUPS.isdisjoint(tokens[max(0, i - 2) : i]):
        return True
    for j in range(i - 1, max(-1, i - 7), -1):
        tok = tokens[j]
        if tok in _TARGETS or tok in _GROUPS:
            return True
        if tok in _OFFENDERS:
            return False
        if tok in _COPULAS:
            return j > 0 and tokens[j - 1] not in _NOT_SUBJECTS
        if tok in _DETERMINERS and i - j <= 2:
            return False
    return False


# --------------------------------------------------------------------------------------------
# Keyword rules: a regex that only runs when one of its trigger words is present
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    label: str
    triggers: frozenset[str]
    pattern: re.Pattern[str]
    weight: int = 1
    also: frozenset[str] = frozenset()  # a second trigger set that must also be present

    def search(self, text: str, words: frozenset[str]) -> bool:
        if self.triggers.isdisjoint(words) or (self.also and self.also.isdisjoint(words)):
            return False
        return self.pattern.search(text) is not None


def _rule(label: str, triggers: str, pattern: str, weight: int = 1, also: str = "") -> _Rule:
    return _Rule(label, frozenset(triggers.split()), re.compile(pattern), weight,
                 frozenset(also.split()))  # fmt: skip


# Threats run on match_text: lower-case, no punctuation, "i'll" -> "ill".
_HARM = (
    r"shot|hanged|hung|lynched|stabbed|knifed|killed|murdered|strung up|beaten(?: up)?|"
    r"kneecapped|put down|burned|burnt|set on fire|taken out|shooting|hanging|stringing up|"
    r"run over|battered|glassed"
)
_OBJECT = r"(?:you|him|her|them|the|that|those|your|his|every|any|all|pc|sgt|these)"
_THREATS = [
    _rule("calls for violence", "should ought deserve deserves need needs want wants",
          rf"\b(?:should|ought to|deserves? to|needs? to|wants?|want to|needs?|deserves?)"
          rf"\s+(?:all\s+)?(?:be\s+|get\s+)?(?:{_HARM})\b"),
    _rule("wishes death", "die", r"\b(?:should|deserves? to|ought to|needs? to)\s+die\b"),
    _rule("wishes harm", "hope",
          rf"\bhope\b(?:\s+\w+){{0,6}}?\s+(?:dies|die|rots?|gets?\s+(?:{_HARM}|cancer|what)"
          rf"|is\s+(?:{_HARM}))\b"),
    _rule("threatens violence", "ill i im well we were id",
          rf"\b(?:ill|i will|i am going to|im going to|im gonna|i gonna|i swear i will|well|"
          rf"we will|were going to|we are going to|id|i would)\s+(?:\w+\s+)?(?:kill|stab|shoot|"
          rf"hurt|batter|smash|burn|torch|knife|glass|deck|do|get|find|hang|string up|sort out)"
          rf"\s+{_OBJECT}\b",
          also="kill stab shoot hurt batter smash burn torch knife glass deck do get find hang "
               "string sort"),
    _rule("threatens a visit", "visit",
          r"\b(?:pay|paying|pays)\s+(?:you|him|her|them|the \w+)\s+a\s+(?:little\s+)?visit\b"),
    _rule("knows where they live", "where",
          r"\bi know where\s+(?:you|he|she|they|the \w+|your \w+|his \w+|her \w+)\s+"
          r"(?:lives?|sleeps?|works?)\b"),
    _rule("threatening language", "back backs numbered",
          r"\bwatch (?:your|his|her|their) backs?\b|\byour days are numbered\b"),
    _rule("incites violence", "through",
          r"\b(?:brick|bricks|petrol bomb|firebomb|molotov)\s+through\s+"
          r"(?:his|her|your|their|the \w+)\s+windows?\b"),
    _rule("incites violence", "burn burns burning torch torches torching",
          r"\b(?:burn|burns|burning)\s+(?:\w+\s+){1,3}to the ground\b"
          r"|\b(?:burn|burns|burning|torch|torches|torching)\s+(?:his|her|your|their|the \w+s?)\s+"
          r"(?:house|home|car|office|station)\b"),
    _rule("wishes harm", "see seeing watch",
          rf"\b(?:see|seeing|watch)\s+(?:him|her|them|you|the \w+(?: \w+)?)\s+"
          rf"(?:{_HARM}|die|dead)\b"),
    _rule("calls for violence", "wipe exterminate gas kill shoot hang stab",
          r"\bwipe (?:them|em|the \w+|all \w+) out\b|\bexterminate\b|\bgas (?:them|the \w+)\b"
          r"|\b(?:kill|shoot|hang|stab) (?:all|every|the lot)\b"),
    _rule("threatens violence", "knife bullet brick",
          r"\b(?:knife|bullet|brick|blade) (?:in|into|through) "
          r"(?:him|her|them|you|your|his|the)\b"),
    _rule("calls for violence", "take",
          r"\b(?:should|needs? to|ought to|gonna|going to|will|ill|wants? to)\s+take\s+"
          r"(?:him|her|them|you|the (?:pcc|commissioner|chief constable|chief|deputy|inspector|"
          r"sergeant|officer|copper|cop|plod))\s+out\b"),
    _rule("calls for violence", "string hang stringing",
          r"\b(?:string|hang)\s+(?:them|him|her|the \w+|em)\s+(?:all\s+)?up\b|"
          r"\bwants? stringing up\b"),
]  # fmt: skip


# --------------------------------------------------------------------------------------------
# Spam
# --------------------------------------------------------------------------------------------

_TRUSTED_DOMAINS = tuple(_lower_list("trusted_domains.txt"))
_SHORTENERS = word_set(
    """
    bit.ly tinyurl.com t.co goo.gl ow.ly is.gd buff.ly t.me wa.me linktr.ee cutt.ly
    rebrand.ly shorturl.at tiny.cc rb.gy
    """
)
_SCHEME = re.compile(r"^[a-z]+://")
_REPEAT_CHAR = re.compile(r"([^\s\d\-=_*.~#])\1{9,}")
_REPEAT_UNIT = re.compile(r"(\S{2,5})\1{3,}")

_PROMO = [
    _rule("click here", "click link", r"\bclick (?:here|the link)\b|\blink in (?:my )?bio\b", 2),
    _rule("buy now", "now today", r"\b(?:buy|order|call|act|claim|join|apply) (?:now|today)\b", 2),
    _rule("DM me", "dm message inbox whatsapp text pm",
          r"\b(?:dm|message|inbox|whatsapp|text|pm) (?:me|us|now|for)\b", 2),
    _rule("messaging app", "telegram whatsapp", r"\btelegram\b|\bwhatsapp\b"),
    _rule("promo code", "code codes spins",
          r"\b(?:promo|discount|voucher|coupon) codes?\b|\bfree spins\b", 2),
    _rule("guaranteed", "guaranteed legit",
          r"\bguaranteed (?:returns|profits?|income|results)\b|\b100 legit\b", 2),
    _rule("get rich", "double rich",
          r"\bdouble your (?:money|bitcoin|btc|investment|crypto)\b|\bget rich\b", 2),
    _rule("earn money", "earn make making",
          r"\b(?:earn|make|making) (?:up to )?(?:\d+|money|cash|passive)\b", 2),
    _rule("work from home", "passive home experience",
          r"\bpassive income\b|\bwork(?:ing)? from home\b|\bno experience (?:needed|required)\b",
          2),
    _rule("limited offer", "limited off only today",
          r"\blimited (?:time|places|spaces|offer|stock)\b|\b\d+ (?:percent )?off\b"
          r"|\bonly today\b|\btoday only\b", 2),
    _rule("self-promotion", "subscribe check follow",
          r"\b(?:like and )?subscribe\b|\bcheck out my\b|\bfollow (?:me|my|us)\b", 2),
    _rule("advertising", "visit free",
          r"\bvisit (?:our|my) (?:website|site|page|shop|store)\b"
          r"|\bfree (?:quote|estimates?|gift|iphone|trial|delivery)\b", 2),
    _rule("sales pitch", "help send book agency services company team marketing social",
          r"\bwe help (?:businesses|companies|organisations|organizations|councils|forces|"
          r"brands|you)\b|\bsend you (?:a|our) (?:proposal|quote|brochure|catalogue)\b"
          r"|\bbook a (?:call|demo|free)\b|\bour (?:agency|services|company|team) (?:can|will|"
          r"offers?)\b|\bdigital marketing\b|\bsocial media (?:reach|growth|marketing)\b", 2),
    _rule("recovery scam", "recover get retrieve hackers hacker recovery",
          r"\b(?:recover|get back|retrieve) (?:your )?(?:lost |stolen |scammed )?(?:crypto|"
          r"bitcoin|btc|funds|money|investment)\b|\b(?:our|ethical) hackers?\b"
          r"|\b(?:crypto|fund|funds|asset) recovery\b|\brecovery (?:experts?|specialists?|"
          r"services?|agents?)\b", 2),
    _rule("comparison and lead generation", "compare link quotes",
          r"\bcompare (?:quotes|prices|deals)\b|\blink below\b|\bquotes in minutes\b", 2),
    _rule("adult", "singles prescription",
          r"\bhot singles\b|\bsingles in your area\b|\bwithout (?:a )?prescription\b", 2),
    _rule("sales", "buy bad instant payday seo betting strike casino giveaway dropshipping "
          "forex job price cash door followers moon late selected congratulations",
          r"\bwe buy any\b|\bbad credit\b|\binstant approval\b|\bpayday loans?\b"
          r"|\bseo services?\b|\bbetting tips\b|\bstrike rate\b|\bcasino\b|\bgiveaway\b"
          r"|\bdropshipping\b|\bforex signals\b|\bno job too small\b|\bbest price\b"
          r"|\bfor cash\b|\bto your door\b|\b(?:instagram|tiktok|twitter) followers\b"
          r"|\bto the moon\b|\bbefore its too late\b|\byou have been selected\b"
          r"|\bcongratulations you\b", 2),
]  # fmt: skip
# Single words worth one point each (at most one point per group).
# Single words worth one point per group. Kept to clearly commercial words: "deal with",
# "trading standards", "for sale" and "what do you offer" are everyday in policing questions.
_PROMO_WORDS = [
    ("crypto/investment", word_set("bitcoin btc crypto cryptocurrency ethereum forex nft nfts")),
    ("sales words", word_set("cheap discount discounts loan loans profit vip viagra meds bargain")),
]
# Rules that ask the reader to get in touch: a "victim" word does not cancel these.
_CALL_TO_ACTION = frozenset(
    {
        "click here",
        "buy now",
        "DM me",
        "messaging app",
        "recovery scam",
        "comparison and lead generation",
    }
)
_PROMO_DAMPENERS = word_set(
    """
    scam scams scammed scammer scammers fraud fraudster fraudsters conned victim victims
    lost stolen stole reported arrest arrested arrests prosecute prosecuted prosecution
    """
)


def _long_repeat(token: str) -> bool:
    """A short unit repeated to at least 16 characters ("lolololol...", "asdfasdfasdf...")."""
    m = _REPEAT_UNIT.search(token)
    return m is not None and len(m.group(0)) >= 16


def _link_reason(clean: str) -> str | None:
    if not LINK_HINT.search(clean):
        return None
    lowered = clean.casefold()
    text = EMAIL_PATTERN.sub(" ", lowered) if "@" in lowered else lowered
    for m in URL_PATTERN.finditer(text):
        url = _SCHEME.sub("", m.group(0))
        domain = url.split("/", 1)[0].split("?", 1)[0].rstrip(".").removeprefix("www.")
        if domain in _SHORTENERS:
            return f"contains a shortened or messaging link ({domain})"
        if any(domain == d or domain.endswith("." + d) for d in _TRUSTED_DOMAINS):
            continue
        return f"contains a link ({domain})"
    return None


def _spam_reasons(n: Normalised, words: list[str], word_set: frozenset[str]) -> list[str]:
    reasons: list[str] = []
    link = _link_reason(n.clean)
    if link:
        reasons.append(link)
    if any(
        _REPEAT_CHAR.search(tok) or _long_repeat(tok.casefold())
        for tok in n.clean.split()
        if len(tok) >= 10
    ):
        reasons.append("long run of repeated characters")
    if len(words) >= 5:
        longest = max(len(list(g)) for _, g in itertools.groupby(words))
        if longest >= 5 or (len(words) >= 8 and len(word_set) / len(words) <= 0.3):
            reasons.append("the same word repeated over and over")
    score, labels = 0, []
    for rule in _PROMO:
        if rule.search(n.match_text, word_set):
            score += rule.weight
            labels.append(rule.label)
    for label, group in _PROMO_WORDS:
        if not group.isdisjoint(word_set):
            score += 1
            labels.append(label)
    if (
        score >= 2
        and not _PROMO_DAMPENERS.isdisjoint(word_set)
        and _CALL_TO_ACTION.isdisjoint(labels)
    ):
        score -= 2
    if score >= 2:
        reasons.append("looks promotional (" + ", ".join(dict.fromkeys(labels)) + ")")
    return reasons


# --------------------------------------------------------------------------------------------
# Out of scope (match_text)
# --------------------------------------------------------------------------------------------

_SCOPE_TOPICS = [
    _rule("potholes", "pothole potholes pot resurfacing resurfaced roadworks roundabout repairs",
          r"\bpot ?holes?\b|\broad (?:resurfacing|repairs)\b|\bresurfac\w+\b|\broadworks\b"
          r"|\bnew roundabout\b"),
    _rule("bin collections",
          "bin bins collection collections recycling green garden food waste",
          r"\bbins?\b|\b(?:rubbish|refuse|bin|waste|commercial) collections?\b|\brecycling\b"
          r"|\b(?:green|garden|food) waste\b"),
    _rule("council services", "council",
          r"\bthe council (?:to |only |never |still |wont |won't |should |must )?(?:fix|fixes|"
          r"collect|collects|cut|cuts|repair|repairs|clear|clears|empty|empties|mend|maintain|"
          r"resurface|replace|build|install|put up|sweep|clean)\b"),
    _rule("public toilets", "toilets", r"\bpublic toilets\b"),
    _rule("social care", "social", r"\bsocial (?:worker|workers|services|care)\b"),
    _rule("leisure facilities", "swimming leisure",
          r"\bswimming (?:pool|baths)\b|\bleisure centre (?:opening|hours|closure|prices)\b"),
    _rule("road markings", "repainted repaint markings lines",
          r"\brepaint\w*\b|\broad markings\b|\bwhite lines\b"),
    _rule("parks and playgrounds", "swings playground equipment",
          r"\bswings\b|\bplay(?:ground)? equipment\b"),
    _rule("street lights", "street streetlight streetlights lights lighting",
          r"\bstreet ?lights?\b|\bstreet ?lighting\b"),
    _rule("planning", "planning",
          r"\bplanning (?:permission|applications?|consent|committee|department)\b"),
    _rule("council tax", "tax", r"\bcouncil tax\b"),
    _rule("parking permits and charges", "parking display charges fees",
          r"\bparking (?:permits?|charges?|fees?|tickets?|fines?|meters?|wardens?)\b"
          r"|\bresidents parking\b|\bpay and display\b|\bcharges? for parking\b"
          r"|\bcar park (?:charges|fees)\b"),
    _rule("fly-tipping", "fly flytipping flytippers flytip flytipped flytips",
          r"\bfly ?tip\w*\b"),
    _rule("dog fouling", "dog", r"\bdog (?:fouling|mess|poo)\b"),
    _rule("verges, hedges and trees",
          "grass verge verges hedge hedges trees overhanging footpath footpaths",
          r"\bgrass (?:cutting|verges?)\b|\bverges? on\b|\bhedges? (?:on|cut|cutting|trimming|"
          r"overhanging)\b|\bcutting back the hedges\b|\bverges haven\w*\b"
          r"|\btrees? overhanging\b|\boverhanging (?:trees|branches|hedges)\b"
          r"|\bfootpaths? (?:is |are |has been |have been )?(?:overgrown|blocked|closed)\b"),
    _rule("gritting", "gritting gritters gritter gritted grit salt",
          r"\bgritt(?:ing|ers?)\b|\bgritted\b|\bgrit\b|\bsalt bins?\b"),
    _rule("pavement repairs", "pavement pavements paving",
          r"\b(?:cracked|broken|uneven) (?:pavements?|paving)\b|\bfix(?:es)? (?:the )?pavements?\b"
          r"|\bpavement repairs?\b|\bpavement on \w+ (?:street|road|lane) is cracked\b"),
    _rule("drains and flooding", "drain drains flood flooding floods flooded gully gullies",
          r"\bdrains?\b|\bflood(?:ing|s|ed)?\b|\bgull(?:ies|ey)\b"),
    _rule("bus services", "bus",
          r"\bbus (?:service|services|route|routes|timetables?)\b|\bthe bus from\b"),
    _rule("health services", "gp nhs waiting hip dentist dentists",
          r"\bgp appointments?\b|\bnhs\b|\bwaiting lists?\b|\bhip operation\b|\bdentists?\b"),
    _rule("school places", "school schools",
          r"\bschool (?:places?|admissions?|appeals?)\b|\bplace at (?:his|her|their|my|our) "
          r"(?:nearest |local )?(?:primary |secondary )?school\b"
          r"|\bnew (?:primary |secondary )?school\b|\bschools? (?:are|is) full\b"),
    _rule("housing", "housing council damp",
          r"\bhousing association\b|\bsocial housing\b|\bcouncil house\b|\bdamp\b"),
    _rule("benefits", "universal benefit benefits housing pip",
          r"\buniversal credit\b|\bbenefits? (?:claim|payment)s?\b|\bhousing benefit\b"
          r"|\bpip (?:claim|assessment)\b"),
    _rule("broadband", "broadband mobile", r"\bbroadband\b|\bmobile signal\b"),
    _rule("libraries", "library libraries", r"\blibrar(?:y|ies)\b"),
    _rule("roadkill", "dead roadkill",
          r"\bdead (?:badger|fox|deer|animal|cat) on the road\b|\broadkill\b"),
    _rule("blue badges", "badge badges", r"\bblue badges?\b"),
    _rule("business rates", "rates", r"\bbusiness rates\b"),
    _rule("crossings", "crossing", r"\b(?:zebra|pelican|puffin|pedestrian) crossing\b"),
    _rule("noise nuisance", "bark barks barking noise",
          r"\bbarks?\b|\bbarking\b|\bnoise complaints?\b"),
    _rule("recycling centre", "recycling household", r"\brecycling centre\b|\bhousehold waste\b"),
]  # fmt: skip
# A council topic with one of these is in scope (the topic's own policing angle).
_SCOPE_OVERRIDES = {
    "council tax": re.compile(r"\bprecept\b|\bpolice (?:part|element|share|portion)\b"),
    "blue badges": re.compile(r"\b(?:fraud|misuse|stolen|fake)\b"),
}
_POLICING_CUES = re.compile(
    r"\b(?:crimes?|criminals?|criminality|offences?|offenders?|illegal\w*|unlawful\w*|"
    r"arrest\w*|prosecut\w*|caught|charged|burglar\w*|burgled|thefts?|thieves|stolen|steal\w*|"
    r"robb\w*|assault\w*|attack\w*|violen\w*|knives|knife|weapons?|drugs?|dealing|dealers?|"
    r"cannabis|asb|antisocial|anti social|vandal\w*|damaged?|graffiti|arson|set on fire|"
    r"threat\w*|intimidat\w*|harass\w*|abus\w*|speeding|speeders|speed (?:cameras?|guns?|"
    r"enforcement|watch)|racing|dangerous (?:driving|parking|drivers?)|drink driv\w*|"
    r"drug driv\w*|obstruct\w*|cctv footage|gangs?|organised|rural crime|fraud\w*|scam\w*|"
    r"hate crime|domestic|999|trespass\w*|poach\w*|hare coursing|nuisance vehicles|"
    r"off road bikes|joyrid\w*|fights?|fighting|stalk\w*|road safety|safety cameras?|"
    r"enforc\w*|weight (?:limit|restriction)s?|hgvs?|police station|patrols?)\b"
)


def _scope_reason(match_text: str, words: frozenset[str]) -> str | None:
    topics = []
    for rule in _SCOPE_TOPICS:
        if rule.search(match_text, words):
            override = _SCOPE_OVERRIDES.get(rule.label)
            if override is None or not override.search(match_text):
                topics.append(rule.label)
    if not topics or _POLICING_CUES.search(match_text):
        return None
    topics = list(dict.fromkeys(topics))
    return (
        f"looks like council or other public-service business ({', '.join(topics)}), not policing"
    )


# --------------------------------------------------------------------------------------------
# moderate()
# --------------------------------------------------------------------------------------------

# "go f yourself", "eff off": the word itself is spelt out of reach of the lexicon.
_F_TRIGGERS = word_set("f eff effing effin")
_F_PHRASE = re.compile(r"\b(?:f|eff|effing|effin)\s+(?:off|you|yourself|yourselves|u)\b")

_ABUSE_LABELS = {
    PROFANITY: "contains profanity",
    SLUR: "contains a slur",
    INSULT: "insults a person",
}


def _abuse_reasons(n: Normalised, words: frozenset[str]) -> list[str]:
    view = _moderation_view(n.clean)
    elongated = _RUN3.search(view) is not None
    found: dict[str, list[str]] = {PROFANITY: [], SLUR: [], INSULT: []}
    all_tokens: set[str] = set()
    for sentence in _SENTENCE.split(view):
        tokens = _tokens(sentence)
        all_tokens.update(tokens)
        for i, tok in enumerate(tokens):
            hit = _classify(tok, elongated)
            if hit is None:
                continue
            category, word = hit
            if category == INSULT and not _insult_targets_person(tokens, i):
                continue
            found[category].append(_mask(word))
        for spelt in _spaced_words(tokens):
            hit = _lookup(spelt.translate(_LEET)) or _lookup(spelt)
            if hit is not None and hit[0] != INSULT:
                found[hit[0]].append(_mask(hit[1]))
    if not _PHRASE_FIRST_WORDS.isdisjoint(all_tokens):
        for m in _PHRASE_RE.finditer(view):
            phrase = " ".join(m.group(0).split())
            found[_PHRASES[phrase]].append(_mask(phrase))

    if not _F_TRIGGERS.isdisjoint(words) and _F_PHRASE.search(n.match_text):
        found[PROFANITY].append("f*** off")
    reasons = []
    for category, hits in found.items():
        if hits:
            shown = ", ".join(list(dict.fromkeys(hits))[:3])
            reasons.append(f"{_ABUSE_LABELS[category]} ({shown})")
    for rule in _THREATS:
        if rule.search(n.match_text, words):
            reasons.append(f"threatening or violent language ({rule.label})")
            break
    return reasons


def moderate(n: Normalised) -> list[Flag]:
    """Flag abuse, spam and out-of-scope content in one normalised question.

    Returns at most one :class:`Flag` per code, in the order ``abuse``, ``spam``,
    ``out_of_scope``; each reason lists what was found (profanity masked, e.g. ``f***``).
    Personal data is flagged by :func:`workers.pipeline.personal_data.flag_personal_data`
    and text repeated across accounts by :class:`RepeatTracker`.
    """
    word_list = n.match_text.split()
    words = frozenset(word_list)
    flags: list[Flag] = []
    abuse = _abuse_reasons(n, words)
    if abuse:
        flags.append(Flag(ABUSE, "; ".join(abuse)))
    spam = _spam_reasons(n, word_list, words)
    if spam:
        flags.append(Flag(SPAM, "; ".join(spam)))
    scope = _scope_reason(n.match_text, words)
    if scope:
        flags.append(Flag(OUT_OF_SCOPE, scope))
    return flags


# --------------------------------------------------------------------------------------------
# Same text from many accounts
# --------------------------------------------------------------------------------------------


class RepeatTracker:
    """Counts distinct authors per normalised-text hash within a sliding time window.

    ``observe`` returns a spam :class:`Flag` once ``threshold`` or more different authors
    have sent text with the same :attr:`Normalised.hash` within ``window_seconds`` (the
    observation that reaches the threshold and every later one are flagged; earlier copies
    can be found by hash). The same author repeating themselves does not count: that is a
    duplicate, not a campaign. Campaigns can be genuine (a village copy-pasting a template),
    so the reason says "possible" and staff decide.

    State is in-process and bounded (``max_hashes``, least recently seen dropped first); one
    tracker per worker process, not thread-safe. Authors are kept only as Python hashes of
    the id given, never in clear.
    """

    def __init__(
        self,
        threshold: int = 5,
        window_seconds: float = 3600.0,
        *,
        max_hashes: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 2:
            raise ValueError("threshold must be at least 2")
        self.threshold = threshold
        self.window_seconds = window_seconds
        self.max_hashes = max_hashes
        self._clock = clock
        self._seen: OrderedDict[str, dict[int, float]] = OrderedDict()

    def _authors(self, text_hash: str, now: float) -> dict[int, float]:
        authors = self._seen.get(text_hash)
        if authors is None:
            return {}
        cutoff = now - self.window_seconds
        stale = [a for a, t in authors.items() if t < cutoff]
        for a in stale:
            del authors[a]
        return authors

    def observe(self, text_hash: str, author: str, at: float | None = None) -> Flag | None:
        """Record that ``author`` sent text with ``text_hash``; flag when it is a campaign."""
        now = self._clock() if at is None else at
        authors = self._authors(text_hash, now)
        authors[hash(author)] = now
        self._seen[text_hash] = authors
        self._seen.move_to_end(text_hash)
        while len(self._seen) > self.max_hashes:
            self._seen.popitem(last=False)
        count = len(authors)
        if count < self.threshold:
            return None
        minutes = round(self.window_seconds / 60)
        return Flag(
            SPAM,
            f"identical text from {count} different accounts within {minutes} minutes "
            "(possible copy-paste campaign)",
        )

    def distinct_authors(self, text_hash: str, at: float | None = None) -> int:
        """How many different authors sent ``text_hash`` within the window ending ``at``."""
        now = self._clock() if at is None else at
        return len(self._authors(text_hash, now))

    def observe_many(self, items: Iterable[tuple[str, str, float]]) -> list[Flag | None]:
        """Observe ``(text_hash, author, at)`` tuples in order (handy for batch replays)."""
        return [self.observe(h, a, t) for h, a, t in items]
