"""Question, comment or noise: what one incoming item is (issue 9, "question or chatter").

Most live comments under a Facebook stream or posts on the event hashtag are greetings,
emoji, "can't hear" and replies to each other. Every item is kept; only questions go on
to grouping by default, and staff can promote a comment with one action.

* ``noise``: nothing to read (emoji, mentions only), greetings, thanks, stream trouble,
  chit-chat between viewers, questions that are not for the meeting ("is this live?").
* ``comment``: on the meeting's subject but with no ask ("speeding in our village is out
  of control", "great answer from the Chief").
* ``question``: asks something, directly ("why…?", Welsh "pam…?") or not ("I'd like to
  know…", "please explain…").

The channel is the strongest signal: what comes through the web form, email, a card at an
event, a spreadsheet or the API was sent *as a question* and stays one unless there is
nothing in it to read. X posts and Facebook comments go through a small logistic
regression (``heads/kind.json``) over the sentence vector the pipeline already computed
plus a few surface features (a question mark, an interrogative opening, a request phrase,
length), so it costs microseconds per item.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from domain.models.enums import QuestionKind
from workers.pipeline.linear_head import load_head
from workers.pipeline.normalise import Normalised

__all__ = ["SOCIAL_CHANNELS", "classify_kinds", "kind_features", "surface_features"]

#: Channels whose items are chatter as often as questions; every other channel is a form.
SOCIAL_CHANNELS = frozenset({"twitter", "facebook", "x"})

_INTERROGATIVE = re.compile(
    r"^(?:(?:so|and|but|ok|okay|hi|hello|question|q|pcc|sir|john|please|also|just)\s+)*"
    r"(?:what|whats|why|whys|how|hows|when|whens|where|wheres|who|whos|whom|which|will|wont|"
    r"would|wouldnt|can|cant|could|couldnt|should|shouldnt|shall|is|isnt|are|arent|was|were|"
    r"do|dont|does|doesnt|did|didnt|has|hasnt|have|havent|had|any|anyone|"
    # Welsh: pam (why), beth (what), sut (how), ble/lle (where), pryd (when), pwy (who),
    # faint (how many), oes/a oes (is there), ydy/ydi (is), fydd (will), allwch (can you)
    r"pam|beth|sut|ble|pryd|pwy|faint|oes|ydy|ydi|fydd|allwch|a oes|a fydd)\b"
)
_REQUEST = re.compile(
    r"\b(?:(?:i )?(?:id |i would |would )?like (?:to (?:know|ask)|an? (?:explanation|answer|"
    r"update|reply))|i want to (?:know|ask)|i wanna know|"
    r"(?:can|could|would|will) (?:you|the \w+|someone|anyone|he|she) (?:please )?(?:tell|explain|"
    r"confirm|say|update|let us know|comment)|please (?:can|could|explain|tell|confirm|update|"
    r"look into|answer)|my question|question for|question to|ask(?:ing)? (?:the|about|why|if|"
    r"whether)|wonder(?:ing)? (?:if|why|whether|what|how)|tell (?:us|me) (?:what|why|how|when|"
    r"if|who|where)|explain (?:why|how|what)|is there any|any (?:plans|update|news|chance)|"
    r"whats being done|what is being done|what are (?:you|the police) doing|hoffwn (?:i )?wybod|"
    r"(?:please|pls|plz) (?:do|sort|stop|help|put|get|make|bring|consider|look|deal|act|send)|"
    r"\w+ (?:please|pls|plz)$|whats the plan|what is the plan|"
    r"needs? (?:more|a proper|proper|extra|some) (?:police|officers|patrols?|pcsos?|presence|"
    r"cameras|enforcement|visible))\b"
)
# A clause ends at punctuation: "Knife crime in Redditch, what's the plan"
_CLAUSES = re.compile(r"[,.;:!?()\n]+|\s[-–]\s")
_NOT_WORD = re.compile(r"[^\w\s]")


def _asks_in_a_clause(clean: str) -> bool:
    for clause in _CLAUSES.split(clean.casefold()):
        words = _NOT_WORD.sub("", clause).split()
        # a one-word clause ("Hi," "So,") is an opener, not a question
        if len(words) >= 2 and _INTERROGATIVE.search(" ".join(words)):
            return True
    return False


_SURFACE = ("question_mark", "interrogative_opening", "request", "empty", "length")


_QUESTION_MARKS = frozenset("?\u061f\uff1f\u2047\u2753\u2754\u037e")  # ? ؟ ？ ⁇ ❓ ❔ ;


def _has_question_mark(clean: str) -> bool:
    return not _QUESTION_MARKS.isdisjoint(clean)


def _mostly_non_latin(clean: str) -> bool:
    """Letters mostly outside the Latin script: the English sentence model cannot read it."""
    letters = [c for c in clean if c.isalpha()]
    latin = sum(c.isascii() or "\u00c0" <= c <= "\u024f" for c in letters)
    return bool(letters) and latin * 2 < len(letters)


def surface_features(n: Normalised) -> np.ndarray:
    """The few non-vector features of the kind head, each in [0, 1]."""
    text = n.match_text
    words = len(text.split())
    return np.array(
        [
            1.0 if _has_question_mark(n.clean) else 0.0,
            1.0 if _asks_in_a_clause(n.clean) else 0.0,
            1.0 if _REQUEST.search(text) else 0.0,
            1.0 if not text.strip() else 0.0,
            min(1.0, math.log1p(words) / math.log1p(40)),
        ],
        dtype=np.float32,
    )


def kind_features(norms: Sequence[Normalised], vectors: np.ndarray) -> np.ndarray:
    """Rows of [sentence vector, surface features]: the kind head's input."""
    surface = np.stack([surface_features(n) for n in norms]) if norms else np.zeros((0, 5))
    return np.hstack([np.asarray(vectors, dtype=np.float32), surface.astype(np.float32)])


def classify_kinds(
    norms: Sequence[Normalised],
    channels: Sequence[str],
    vectors: np.ndarray,
    spam: Sequence[bool] | None = None,
) -> list[QuestionKind]:
    """The kind of each item: ``vectors`` are the pipeline's sentence vectors of the items.

    ``spam[i]`` says the moderation stage flagged item ``i`` as spam: on a social channel an
    advert is noise, whatever it says.
    """
    kinds = [QuestionKind.QUESTION] * len(norms)
    social: list[int] = []
    for i, (n, channel) in enumerate(zip(norms, channels, strict=True)):
        if not n.match_text.strip() and not _has_question_mark(n.clean):
            kinds[i] = QuestionKind.NOISE
        elif channel.lower() not in SOCIAL_CHANNELS:
            continue
        elif spam is not None and spam[i]:
            kinds[i] = QuestionKind.NOISE
        elif _mostly_non_latin(n.clean):
            # no sentence model for it: keep anything that asks, list the rest as a comment
            asks = _has_question_mark(n.clean)
            kinds[i] = QuestionKind.QUESTION if asks else QuestionKind.COMMENT
        else:
            social.append(i)
    if social:
        head = load_head("kind")
        probs = head.scores(kind_features([norms[i] for i in social], vectors[social]))
        for i, row in zip(social, probs, strict=True):
            kinds[i] = QuestionKind(head.classes[int(np.argmax(row))])
    return kinds
