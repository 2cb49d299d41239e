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
    * Reported words are not the sender's: a slur or swear word someone else said or wrote,
      told by its victim or a witness ("my mate got called a f****t", "someone sprayed
      'P*KIS OUT' on the underpass"), is not flagged (:mod:`.abuse`).

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
    Another police force's own business or area (:mod:`.forces`: "why are West Midlands
    Police so useless", "burglaries in Tewkesbury are through the roof"), unless the question
    names this force or one of its towns too, or is about crossing the border, working with
    or comparing with the other one. Not raised on top of an abuse or spam flag.
    Possibly an emergency happening now (:mod:`.urgent`: a knife outside my house right
    now, someone collapsed, is anyone coming): out of scope and marked ``urgent``, so staff
    see it first and tell the sender to call 999.

Where it lives: this package's modules :mod:`.lexicon` (the word lexicon and disguised
spellings), :mod:`.abuse` (insult targeting, threats), :mod:`.spam`, :mod:`.scope` (out of
scope), :mod:`.forces` (another force's business or area), :mod:`.keyword_rules` (the
trigger-gated regex rules the tables are made of),
:mod:`.features` and :mod:`.head` (the learned flags); :mod:`workers.pipeline.flags`
(:class:`Flag` and the flag codes) and :mod:`workers.pipeline.repeats` (:class:`RepeatTracker`).
This module holds :func:`moderate` and re-exports the public
names, so callers import from here.
"""

from __future__ import annotations

from workers.pipeline.flags import ABUSE, OUT_OF_SCOPE, PERSONAL_DATA, SPAM, Flag
from workers.pipeline.moderation.abuse import abuse_reasons
from workers.pipeline.moderation.forces import other_force_reason
from workers.pipeline.moderation.scope import scope_reason
from workers.pipeline.moderation.spam import spam_reasons
from workers.pipeline.moderation.urgent import urgent_reason
from workers.pipeline.normalise import Normalised
from workers.pipeline.repeats import RepeatTracker

__all__ = [
    "ABUSE",
    "OUT_OF_SCOPE",
    "PERSONAL_DATA",
    "SPAM",
    "Flag",
    "RepeatTracker",
    "moderate",
]


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
    abuse = abuse_reasons(n, words)
    if abuse:
        flags.append(Flag(ABUSE, "; ".join(abuse)))
    spam = spam_reasons(n, word_list, words)
    if spam:
        flags.append(Flag(SPAM, "; ".join(spam)))
    urgent = urgent_reason(n.match_text)
    scope = scope_reason(n.match_text, words)
    if scope is None and not flags:  # another force's business: unless abuse or spam says more
        scope = other_force_reason(n.match_text, words)
    if urgent:
        flags.append(Flag(OUT_OF_SCOPE, "; ".join(filter(None, (urgent, scope))), urgent=True))
    elif scope:
        flags.append(Flag(OUT_OF_SCOPE, scope))
    return flags
