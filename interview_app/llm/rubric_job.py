"""The model's rubric for one feedback stream: requested with it, awaited at its end.

At most one extra upstream request per feedback, started at the feedback's first
text (in its own thread, a greenlet under gevent): a server that runs requests in
parallel usually answers it before the last token, so it adds no waiting; a server
that runs one request at a time (llama.cpp with one slot) would otherwise have run
the rubric first and held the feedback's first words for its whole length. When
the feedback ends, `analysis()` waits at most `RUBRIC_TIMEOUT_SECONDS` more; a
rubric that is late, invalid, or refused by the upstream gives way to the rules'
rubric (`source: "rules"`), and the feedback stream never fails because of it. A
rubric given up on is cancelled: its request is closed, so the server stops.

Structured output goes through the backend's one structured request
(`OpenAIBackend.structured`): the SDK's `response_format` JSON schema first; a
server that refuses it (HTTP 400 or 422, or a 5xx naming the format) gets JSON
mode (`json_object`, the schema in the prompt, validated by `coaching.rubric`)
from then on. That switch is remembered by
the backend, so it costs one fallback to the rules, not a second request.

`RUBRIC=inline` (one request for both) is `inline_rubric.py`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from interview_app.coaching import compose, rubric
from interview_app.coaching.request import CoachingRequest
from interview_app.llm.port import Cancel

log = logging.getLogger(__name__)

# The backend's structured request: (messages, schema name, schema, max tokens, cancel)
# -> JSON or None.
Ask = Callable[[list[dict[str, str]], str, dict[str, Any], int, Cancel], "str | None"]


class RubricJob:
    """One rubric request, running beside its feedback stream."""

    def __init__(self, ask: Ask, request: CoachingRequest, max_tokens: int) -> None:
        self._ask = ask
        self._request = request
        self._max_tokens = max_tokens
        self._reply: str | None = None
        self.failure = ""
        self._done = threading.Event()
        self._started = False
        self._cancel = Cancel()

    def start(self) -> None:
        """Send the request (once)."""
        if not self._started:
            self._started = True
            threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            messages = rubric.messages(self._request)
            schema = rubric.SCHEMA
            self._reply = self._ask(messages, "rubric", schema, self._max_tokens, self._cancel)
            if self._reply is None:
                self.failure = "refused or failed"
        except Exception as exc:  # the feedback never fails because of its rubric
            self.failure = type(exc).__name__
        finally:
            self._done.set()

    def analysis(self, wait: float) -> dict[str, Any]:
        """The model's rubric if it is ready within `wait` seconds and valid; else the rules'
        (which read the whole answer only then: about 250 us, against 20 us for the counts
        the model's rubric takes)."""
        reply = None
        if not self._started:
            reason = "not started"
        elif not self._done.wait(wait):
            reason = "timeout"
            self._cancel.cancel()  # closed at the server: it stops generating for nobody
        else:
            reply, reason = self._reply, self.failure
        return judge(reply, reason, self._request)


def judge(reply: str | None, why: str, request: CoachingRequest) -> dict[str, Any]:
    """The model's rubric from `reply` if it fits (`compose.model_rubric`), else the rules'
    (logged with the reason: `why`, or "invalid")."""
    judged = compose.model_rubric(reply, request)
    if judged is not None:
        return judged
    why = why or "invalid" if reply is not None else why
    log.warning("model rubric not used: %s", why, extra={"rubric_fallback": why})
    return compose.rules_rubric(request)
