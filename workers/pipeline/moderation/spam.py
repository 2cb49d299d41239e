"""Spam: untrusted links, long runs of repeated characters or words, and promotional text.

Links are flagged unless they go to a trusted domain (``wordlists/trusted_domains.txt``);
shorteners and messaging links always. Promotional keyword rules are scored, and a victim
word (scam, stolen, reported...) cancels the score unless the text asks to be contacted.
Text sent from many accounts is :class:`workers.pipeline.repeats.RepeatTracker`'s job.
"""

from __future__ import annotations

import itertools
import re

from workers.pipeline.moderation.keyword_rules import rule
from workers.pipeline.normalise import EMAIL_PATTERN, LINK_HINT, URL_PATTERN, Normalised
from workers.pipeline.wordlists import read_wordlist, word_set

__all__ = ["spam_reasons"]

_TRUSTED_DOMAINS = tuple(e.casefold() for e in read_wordlist("trusted_domains.txt"))
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
    rule("click here", "click link", r"\bclick (?:here|the link)\b|\blink in (?:my )?bio\b", 2),
    rule("buy now", "now today", r"\b(?:buy|order|call|act|claim|join|apply) (?:now|today)\b", 2),
    rule("DM me", "dm message inbox whatsapp text pm",
         r"\b(?:dm|message|inbox|whatsapp|text|pm) (?:me|us|now|for)\b", 2),
    rule("messaging app", "telegram whatsapp", r"\btelegram\b|\bwhatsapp\b"),
    rule("promo code", "code codes spins",
         r"\b(?:promo|discount|voucher|coupon) codes?\b|\bfree spins\b", 2),
    rule("guaranteed", "guaranteed legit",
         r"\bguaranteed (?:returns|profits?|income|results)\b|\b100 legit\b", 2),
    rule("get rich", "double rich",
         r"\bdouble your (?:money|bitcoin|btc|investment|crypto)\b|\bget rich\b", 2),
    rule("earn money", "earn make making",
         r"\b(?:earn|make|making) (?:up to )?(?:\d+|money|cash|passive)\b", 2),
    rule("work from home", "passive home experience",
         r"\bpassive income\b|\bwork(?:ing)? from home\b|\bno experience (?:needed|required)\b",
         2),
    rule("limited offer", "limited off only today",
         r"\blimited (?:time|places|spaces|offer|stock)\b|\b\d+ (?:percent )?off\b"
         r"|\bonly today\b|\btoday only\b", 2),
    rule("self-promotion", "subscribe check follow",
         r"\b(?:like and )?subscribe\b|\bcheck out my\b|\bfollow (?:me|my|us)\b", 2),
    rule("advertising", "visit free",
         r"\bvisit (?:our|my) (?:website|site|page|shop|store)\b"
         r"|\bfree (?:quote|estimates?|gift|iphone|trial|delivery)\b", 2),
    rule("sales pitch", "help send book agency services company team marketing social",
         r"\bwe help (?:businesses|companies|organisations|organizations|councils|forces|"
         r"brands|you)\b|\bsend you (?:a|our) (?:proposal|quote|brochure|catalogue)\b"
         r"|\bbook a (?:call|demo|free)\b|\bour (?:agency|services|company|team) (?:can|will|"
         r"offers?)\b|\bdigital marketing\b|\bsocial media (?:reach|growth|marketing)\b", 2),
    rule("recovery scam", "recover get retrieve hackers hacker recovery",
         r"\b(?:recover|get back|retrieve) (?:your )?(?:lost |stolen |scammed )?(?:crypto|"
         r"bitcoin|btc|funds|money|investment)\b|\b(?:our|ethical) hackers?\b"
         r"|\b(?:crypto|fund|funds|asset) recovery\b|\brecovery (?:experts?|specialists?|"
         r"services?|agents?)\b", 2),
    rule("comparison and lead generation", "compare link quotes",
         r"\bcompare (?:quotes|prices|deals)\b|\blink below\b|\bquotes in minutes\b", 2),
    rule("follow for follow", "follow f4f l4l back",
         r"\bfollow (?:for|4) follow\b|\bf4f\b|\bl4l\b|\bfollow(?:s|ing)? (?:you )?back\b", 2),
    rule("self-promotion", "like sub subscribe share",
         r"\b(?:like and share|sub(?:scribe)? to) my\b|\bshare my \w+ (?:page|business|"
         r"channel)\b|\bmy (?:youtube|tiktok|insta(?:gram)?|twitch) channel\b", 2),
    rule("advertising", "booking taking open",
         r"\b(?:booking|taking bookings) (?:now|for)\b|\bcall or message\b", 2),
    rule("get-rich pitch", "ask message inheritance fund signals paid hour",
         r"\bask me how\b|\bmessage (?:her|him) (?:now|today|on)\b|\binheritance fund\b"
         r"|\bsignals group\b|\bwin rate\b|\bpaid to watch\b|\b(?:get|earn) \d+ an hour\b"
         r"|\bforex academy\b|\btrade like me\b|\bgot \d+ back\b", 2),
    rule("chain post", "copy paste type share amen",
         r"\bcopy (?:and )?paste (?:this|it)\b|\btype amen\b"
         r"|\bshare (?:if you|this with everyone|this everywhere)\b", 2),
    rule("promo code", "code", r"\buse (?:my |our |the )?code\b", 2),
    rule("text to enter", "text", r"\btext [a-z]+ to \d{4,6}\b", 2),
    rule("claims and legal services", "win fee", r"\bno win,? no fee\b", 2),
    rule("adult", "singles prescription",
         r"\bhot singles\b|\bsingles in your area\b|\bwithout (?:a )?prescription\b", 2),
    rule("sales", "buy bad instant payday seo betting strike casino giveaway dropshipping "
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


# A post that only tests the form or the stream: nothing else in it.
_MASH = re.compile(r"^[bcdfghjklmnpqrstvwxz]{4,}")  # "ksjdhf...", a keyboard run
_TEST_WORDS = re.compile(
    r"^(?:test(?:ing)? (?:submission|message|post|entry)\b.*\b(?:ignore|delete)\b"
    r"|(?:hello )*(?:hello|hi|testing|test) is (?:this|it) working"
    r"|(?:prawf ?)+(?: anwybyddwch(?: os gwelwch yn dda)?)?)$"
)
_TEST_POST = re.compile(
    r"^(?:(?:this is |just |only )?(?:a )?(?:test|testing|tester|tested)(?: post| message| only| "
    r"the form| the page)?|ignore(?: this| me| it)?|please ignore|pls ignore|123|1 2 3|one two "
    r"three|asdf\w*|qwerty\w*|sdf\w*|jkl\w*|lorem ipsum\w*|hello world|check|checking|mic check"
    r")(?: (?:(?:this is |just |only )?(?:a )?(?:test|testing|tester|tested)(?: post| message| "
    r"only| the form| the page)?|ignore(?: this| me| it)?|please ignore|pls ignore|123|1 2 3|one "
    r"two three|asdf\w*|qwerty\w*|sdf\w*|jkl\w*|lorem ipsum\w*|hello world|check|checking|"
    r"mic check|please|pls|sorry))*$"
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


def spam_reasons(n: Normalised, words: list[str], word_set: frozenset[str]) -> list[str]:
    """Why ``n`` reads as spam: an untrusted link, repeated characters or words, promotion.

    ``words`` is ``n.match_text`` split into words and ``word_set`` the same as a set.
    """
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
    if words and (
        _TEST_POST.match(n.match_text)
        or _TEST_WORDS.match(n.match_text)
        or all(_MASH.match(w) for w in words)
    ):
        reasons.append("a test post")
    if len(words) >= 5:
        longest = max(len(list(g)) for _, g in itertools.groupby(words))
        if longest >= 5 or (len(words) >= 8 and len(word_set) / len(words) <= 0.3):
            reasons.append("the same word repeated over and over")
    score, labels = 0, []
    for promo in _PROMO:
        if promo.search(n.match_text, word_set):
            score += promo.weight
            labels.append(promo.label)
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
