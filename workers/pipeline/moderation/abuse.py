"""Abuse: profanity, slurs, name-calling aimed at a person, and threats of violence.

Words are matched against :mod:`workers.pipeline.moderation.lexicon` sentence by sentence;
name-calling counts only when aimed at a person (the reader, the police/PCC, the subject of
"X is a ...", a group of people), not at an offender category. Threats and calls for
violence are keyword rules on ``match_text``; reported threats are not flagged.

Reported words are not the sender's: a slur or swear word someone else said or wrote,
told by its victim or witness ("a man called my wife a 'fat b*tch'", "my mate got called
a f****t", "someone sprayed 'P*KIS OUT' on the underpass"), is the subject of a hate-crime
question, not abuse. A word counts as reported after called/shouted (at a person, or
passive: "got called", "keeps shouting"), or inside quotation marks in a message that says
it was shouted, sprayed, written or said.
"""

from __future__ import annotations

import re

from workers.pipeline.moderation.keyword_rules import rule
from workers.pipeline.moderation.lexicon import (
    INSULT,
    LEET,
    PHRASE_FIRST_WORDS,
    PHRASE_RE,
    PHRASES,
    PROFANITY,
    RUN3,
    SLUR,
    classify,
    lookup,
    mask,
    moderation_view,
)
from workers.pipeline.normalise import Normalised, normalise
from workers.pipeline.wordlists import word_set

__all__ = ["abuse_reasons"]

# --------------------------------------------------------------------------------------------
# Sentences and tokens
# --------------------------------------------------------------------------------------------

_SENTENCE = re.compile(r"[.?!;:]+(?=\s|$)|\n")
_SPLIT = str.maketrans({c: " " for c in ',"()[]{}<>/\\|=&~^'})
_EDGE = "'\".,!?;:-_~"
_SPACED_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789@$*")


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


# --------------------------------------------------------------------------------------------
# Insult targeting
# --------------------------------------------------------------------------------------------

_TARGETS = word_set(
    """
    you your youre yourself yourselves ya u ur pcc pccs dpcc commissioner commissioners
    deputy police policeman policemen policewoman officer officers copper coppers cop
    cops constable chief inspector sergeant sarge superintendent force plod staff
    councillor cllr mp he she him her hes shes pcso pcsos
    ti chi rwyt ydych comisiynydd heddlu
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


# Reported words (see the module docstring)
_SHOUTING = word_set(
    "shout shouted shouting shouts yelled yelling screamed screaming chanting chanted"
)
_CALLING = word_set("call called calling calls") | _SHOUTING
_CALLED_WHOM = word_set("me him her us them my our his their i someone somebody people")
_CALLED_PASSIVE = word_set("was were got get gets getting been being keep keeps kept")
_SAID_OR_WRITTEN = _SHOUTING | word_set(
    """
    called sprayed spray painted graffiti wrote scrawled said saying says told posted
    texted messaged galw ngalw alw galw'n ngalw'n
    """
)
_FIRST_PERSON = word_set("i we ive weve id wed")
_QUOTED = re.compile(
    r"[\"“”„«»]([^\"“”„«»\n]{1,60})[\"“”„«»]|(?<!\w)['‘’]([^'‘’\n]{1,60})['‘’](?!\w)"
)


def _unquote_reported(view: str, tokens: list[str]) -> str:
    """``view`` with quoted words blanked when the message says someone else said or wrote
    them ("I said ..." is the sender's own)."""
    if not any(
        t in _SAID_OR_WRITTEN and (i == 0 or tokens[i - 1] not in _FIRST_PERSON)
        for i, t in enumerate(tokens)
    ):
        return view
    return _QUOTED.sub(lambda m: " " * len(m.group(0)), view)


def _reported(tokens: list[str], i: int) -> bool:
    """Is ``tokens[i]`` what someone else called a person ("called my son a ...")?"""
    for j in range(i - 1, max(-1, i - 6), -1):
        if tokens[j] not in _CALLING:
            continue
        if tokens[j] in _SHOUTING or (j + 1 < i and tokens[j + 1] in _CALLED_WHOM):
            return True
        return j > 0 and tokens[j - 1] in _CALLED_PASSIVE
    return False


# --------------------------------------------------------------------------------------------
# Threats and calls for violence
# --------------------------------------------------------------------------------------------

# Threats run on match_text: lower-case, no punctuation, "i'll" -> "ill".
_HARM = (
    r"shot|hanged|hung|lynched|stabbed|knifed|killed|murdered|strung up|beaten(?: up)?|"
    r"kneecapped|put down|burned|burnt|set on fire|taken out|shooting|hanging|stringing up|"
    r"run over|battered|glassed"
)
_OBJECT = r"(?:you|him|her|them|the|that|those|your|his|every|any|all|pc|sgt|these)"
_THREATS = [
    rule("calls for violence", "should ought deserve deserves need needs want wants",
         rf"\b(?:should|ought to|deserves? to|needs? to|wants?|want to|needs?|deserves?)"
         rf"\s+(?:all\s+)?(?:be\s+|get\s+)?(?:{_HARM})\b"),
    rule("wishes death", "die", r"\b(?:should|deserves? to|ought to|needs? to)\s+die\b"),
    rule("wishes harm", "hope",
         rf"\bhope\b(?:\s+\w+){{0,6}}?\s+(?:dies|die|rots?|gets?\s+(?:{_HARM}|cancer|what)"
         rf"|is\s+(?:{_HARM}))\b"),
    rule("threatens violence", "ill i im well we were id",
         rf"\b(?:ill|i will|i am going to|im going to|im gonna|i gonna|i swear i will|well|"
         rf"we will|were going to|we are going to|id|i would)\s+(?:\w+\s+)?(?:kill|stab|shoot|"
         rf"hurt|batter|smash|burn|torch|knife|glass|deck|do|get|find|hang|string up|sort out)"
         rf"\s+{_OBJECT}\b",
         also="kill stab shoot hurt batter smash burn torch knife glass deck do get find hang "
              "string sort"),
    rule("threatens a visit", "visit",
         r"\b(?:pay|paying|pays)\s+(?:you|him|her|them|the \w+)\s+a\s+(?:little\s+)?visit\b"),
    rule("knows where they live", "where",
         r"\bi know where\s+(?:you|he|she|they|the \w+|your \w+|his \w+|her \w+)\s+"
         r"(?:lives?|sleeps?|works?)\b"),
    rule("threatening language", "back backs numbered",
         r"\bwatch (?:your|his|her|their) backs?\b|\byour days are numbered\b"),
    rule("incites violence", "through",
         r"\b(?:brick|bricks|petrol bomb|firebomb|molotov)\s+through\s+"
         r"(?:his|her|your|their|the \w+)\s+windows?\b"),
    rule("incites violence", "burn burns burning torch torches torching",
         r"\b(?:burn|burns|burning)\s+(?:\w+\s+){1,3}to the ground\b"
         r"|\b(?:burn|burns|burning|torch|torches|torching)\s+(?:his|her|your|their|the \w+s?)\s+"
         r"(?:house|home|car|office|station)\b"),
    rule("wishes harm", "see seeing watch",
         rf"\b(?:see|seeing|watch)\s+(?:him|her|them|you|the \w+(?: \w+)?)\s+"
         rf"(?:{_HARM}|die|dead)\b"),
    rule("calls for violence", "wipe exterminate gas kill shoot hang stab",
         r"\bwipe (?:them|em|the \w+|all \w+) out\b|\bexterminate\b|\bgas (?:them|the \w+)\b"
         r"|\b(?:kill|shoot|hang|stab) (?:all|every|the lot)\b"),
    rule("threatens violence", "knife bullet brick",
         r"\b(?:knife|bullet|brick|blade) (?:in|into|through) "
         r"(?:him|her|them|you|your|his|the)\b"),
    rule("calls for violence", "take",
         r"\b(?:should|needs? to|ought to|gonna|going to|will|ill|wants? to)\s+take\s+"
         r"(?:him|her|them|you|the (?:pcc|commissioner|chief constable|chief|deputy|inspector|"
         r"sergeant|officer|copper|cop|plod))\s+out\b"),
    rule("threatens violence", "alone waiting coming jump lesson gwers",
         r"\b\d+ minutes alone with\b|\b(?:ill|i will|well|we will) be waiting for "
         r"(?:him|her|them|you)\b|\bgets? whats coming to (?:him|her|them|you)\b"
         r"|\bgo (?:and )?jump off\b|\b(?:teach|give) (?:him|her|them|you) a lesson\b"
         r"|\broi gwers\b|\bwait (?:till|until) someone does something\b"),
    rule("calls for violence", "string hang stringing",
         r"\b(?:string|hang)\s+(?:them|him|her|the \w+|em)\s+(?:all\s+)?up\b|"
         r"\bwants? stringing up\b"),
]  # fmt: skip


# Hateful generalisations: a group of people (nationality, religion, ethnicity...) with
# dehumanising or expulsion language. Reports of hate ("they shouted go back...") are not.
_HATE_GROUPS = _GROUPS | word_set("blm saeson")
_DEHUMANISING = word_set(
    """
    animals vermin filthy rats parasites cockroaches deport deported deportation invasion
    invaders invading flooding swarming breeding sterilised sterilise crawled diseased
    """
)
_HATE_REPORTED = re.compile(
    r"\b(?:hate crimes?|reported|report|shouted|called (?:him|her|me|us|them)|victims?|"
    r"attacked|abused|targeted|racist abuse)\b"
)
_HATE = rule("hateful generalisation", " ".join(_HATE_GROUPS), r".", also=" ".join(_DEHUMANISING))
_SEXIST = rule(
    "sexist or sexual remark",
    "kitchen legs fit cuffing sandwich",
    r"\b(?:in the kitchen|kept (?:her|their) legs shut|legs shut|well fit|"
    r"wouldnt mind (?:cuffing|doing|giving)|make (?:me )?a sandwich)\b",
)

# Slogans written as acronyms or with the swear word left out: no lexicon word to find.
_SLOGANS = [
    rule("anti-police slogan", "acab 1312 ftp", r"\bacab\b|\b1312\b|\bftp\b"),
    # match_text has police slang in plain words already: "coppers" reads "police officers"
    rule("anti-police slogan", "f eff",
         r"\b(?:f|eff)(?: the| da)? (?:police|pigs|filth|5 ?0)\b", also="police pigs filth 5 50"),
    rule("anti-police slogan", "all",
         r"\ball (?:police(?: officers)?|pigs) are (?:b\w*|pigs|scum|bent|corrupt|the same)\b",
         also="police pigs"),
    rule("anti-police slogan", "pigs filth bent oink",
         r"\b(?:bent|corrupt|dirty) (?:pigs|police officers|police|filth)\b|\boink\b"),
]  # fmt: skip

# --------------------------------------------------------------------------------------------
# Abuse reasons
# --------------------------------------------------------------------------------------------

# "go f yourself", "eff off": the word itself is spelt out of reach of the lexicon.
_F_TRIGGERS = word_set("f eff effing effin")
_F_PHRASE = re.compile(r"\b(?:f|eff|effing|effin)\s+(?:off|you|yourself|yourselves|u)\b")

_ABUSE_LABELS = {
    PROFANITY: "contains profanity",
    SLUR: "contains a slur",
    INSULT: "insults a person",
}


def abuse_reasons(n: Normalised, words: frozenset[str]) -> list[str]:
    """Why ``n`` reads as abuse: one reason per category found, then the first threat.

    ``words`` is the set of words of ``n.match_text``. Profanity is shown masked.
    """
    view = moderation_view(n.clean)
    elongated = RUN3.search(view) is not None
    found: dict[str, list[str]] = {PROFANITY: [], SLUR: [], INSULT: []}
    unquoted = _unquote_reported(view, _tokens(view))
    text = n.match_text
    if unquoted != view:  # rare: the keyword rules read the message without what it reports
        view, text = unquoted, normalise(unquoted).match_text
        words = frozenset(text.split())
    sentences = [_tokens(sentence) for sentence in _SENTENCE.split(view)]
    all_tokens: set[str] = set().union(*sentences)
    # an insult that is a sentence of its own ("Total imbecile.") is aimed at whoever the
    # message is about, unless the message is about offenders
    about_offenders = not _OFFENDERS.isdisjoint(all_tokens)
    for tokens in sentences:
        for i, tok in enumerate(tokens):
            hit = classify(tok, elongated)
            if hit is None:
                continue
            category, word = hit
            if _reported(tokens, i):
                continue
            if (
                category == INSULT
                and not _insult_targets_person(tokens, i)
                and (len(tokens) > 3 or about_offenders)
            ):
                continue
            found[category].append(mask(word))
        for spelt in _spaced_words(tokens):
            hit = lookup(spelt.translate(LEET)) or lookup(spelt)
            if hit is not None and hit[0] != INSULT:
                found[hit[0]].append(mask(hit[1]))
    if not PHRASE_FIRST_WORDS.isdisjoint(all_tokens):
        for m in PHRASE_RE.finditer(view):
            phrase = " ".join(m.group(0).split())
            found[PHRASES[phrase]].append(mask(phrase))

    if not _F_TRIGGERS.isdisjoint(words) and _F_PHRASE.search(text):
        found[PROFANITY].append("f*** off")
    reasons = []
    for category, hits in found.items():
        if hits:
            shown = ", ".join(list(dict.fromkeys(hits))[:3])
            reasons.append(f"{_ABUSE_LABELS[category]} ({shown})")
    if _HATE.search(text, words) and not _HATE_REPORTED.search(text):
        reasons.append("hateful generalisation about a group of people")
    if _SEXIST.search(text, words):
        reasons.append(_SEXIST.label)
    for slogan in _SLOGANS:
        if slogan.search(text, words):
            reasons.append(slogan.label)
            break
    for threat in _THREATS:
        if threat.search(text, words):
            reasons.append(f"threatening or violent language ({threat.label})")
            break
    return reasons
