"""The offline backend: deterministic coaching with no key and no network.

It says what `coaching/compose.offline` composes: a feedback is a rule-based analysis
of the candidate's own answer (STAR coverage and balance, ownership, a quantified
result, filler words, conclusion first, length), each finding with a concrete
suggestion; a model answer is a labelled template shaped by the question. The text
streams word by word through the same pipeline as the real model, paced at
`OFFLINE_TOKENS_PER_SECOND` so the page shows what streaming looks like (0 sends it
all at once).
"""

from __future__ import annotations

from typing import Any

from interview_app.coaching import compose
from interview_app.coaching.request import CoachingRequest
from interview_app.llm.completions import Recited
from interview_app.llm.port import Cancel
from interview_app.settings import RubricMode


class OfflineBackend:
    """The embedded default backend."""

    name = "offline"
    model = "offline-coach"
    scripted = True  # `converse` says its fallback as it is

    def __init__(self, tokens_per_second: float = 40.0, rubric: RubricMode = "rules") -> None:
        self.tokens_per_second = tokens_per_second
        self.rubric = rubric

    def open(self, request: CoachingRequest) -> Recited:
        text, extra = compose.offline(request, self.rubric)
        return Recited(text, extra, self.tokens_per_second)

    def converse(self, messages: list[dict[str, str]], max_tokens: int, fallback: str) -> Recited:
        """The offline interviewer says `fallback`, paced like every other text."""
        return Recited(fallback, {}, self.tokens_per_second)

    def say(self, text: str, extra: dict[str, Any]) -> Recited:
        """A prepared text (the rules' report), paced like every other text."""
        return Recited(text, extra, self.tokens_per_second)

    def structured(
        self,
        messages: list[dict[str, str]],
        name: str,
        schema: dict[str, Any],
        max_tokens: int,
        cancel: Cancel | None = None,
    ) -> str | None:
        """No model offline: the caller uses its rules."""
        return None

    def close(self) -> None:
        """Nothing to release."""
