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
    r"how did you (handle|deal)|conflict|failure|mistake|challenge|disagree|"
    r"경험|사례|때를|때가|갈등|실패|어려움|극복|설득",
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


def detect_language(*texts: str | None) -> Language:
    """Korean when any Hangul appears in the texts, else English."""
    return "ko" if any(t and _HANGUL.search(t) for t in texts) else "en"


def is_behavioural(question: str) -> bool:
    """Whether the question asks for a past experience (STAR fits)."""
    return bool(_BEHAVIOURAL.search(question))
