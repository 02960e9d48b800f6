"""The validated coaching request, and the guesses made about it (language, question type)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["answer", "feedback"]
Language = Literal["ko", "en"]

_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
_BEHAVIOURAL = re.compile(
    r"tell me about a time|describe a (time|situation)|give (me )?an example|a time when|"
    r"how did you (handle|deal|solve|fix|resolve|approach|respond|manage)|conflict|failure|"
    r"mistake|challenge|disagree|(?:incident|outage) (?:that )?you|walk me through|step by step|"
    r"what did you do|what happened|what was the (result|outcome)|"
    r"경험|사례|때를|때가|갈등|실패|어려움|극복|설득|장애를 (?:해결|처리|대응)한|한 적|했던|"
    r"하셨던|하셨나요|"
    r"하셨습니까|어떻게 (해결|대응|처리)|단계별",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CoachingRequest:
    """A validated coaching request: what the backends generate from."""

    kind: Kind
    question: str
    answer: str | None
    language: Language
    role: str | None
    # How a spoken answer was said (`coaching/delivery.py`), when it was spoken.
    delivery: dict[str, Any] | None = None
    # Whether the question asks for a story, when the product asked it (a bank question,
    # an interviewer's question, a follow-up to a story); None: guessed from the wording.
    story: bool | None = None

    @property
    def behavioural(self) -> bool:
        """Whether STAR applies: known where the product asked the question, else guessed."""
        return is_behavioural(self.question) if self.story is None else self.story


def detect_language(*texts: str | None) -> Language:
    """Korean when any Hangul appears in the texts, else English."""
    return "ko" if any(t and _HANGUL.search(t) for t in texts) else "en"


def is_behavioural(question: str) -> bool:
    """Whether the question asks for a past experience (STAR fits)."""
    return bool(_BEHAVIOURAL.search(question))
