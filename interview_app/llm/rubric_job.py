"""The model's rubric for one feedback stream: requested with it, awaited at its end.

At most one extra upstream request per feedback, started at the same moment as
the streamed feedback (in its own thread, a greenlet under gevent), so it is
usually answered before the last token and adds no waiting. When the feedback
ends, `analysis()` waits at most `RUBRIC_TIMEOUT_SECONDS` more; a rubric that is
late, invalid, or refused by the upstream gives way to the rules' rubric
(`source: "rules"`), and the feedback stream never fails because of it.

Structured output: the SDK's `response_format` JSON schema first; a server that
refuses it (HTTP 400) gets JSON mode (`json_object`, the schema in the prompt,
validated by `coaching.rubric`) from then on. That switch is remembered by the
backend, so it costs one fallback to the rules, not a second request.

A rubric still running when its stream gives up on it finishes in the
background within the upstream read timeout, then is dropped.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import openai

from interview_app.coaching import rubric
from interview_app.coaching.analysis import Analysis
from interview_app.coaching.request import CoachingRequest

log = logging.getLogger(__name__)


class RubricFormat:
    """Which structured-output mode this upstream accepts (learned once)."""

    def __init__(self) -> None:
        self.mode = "json_schema"

    def response_format(self) -> dict[str, Any]:
        if self.mode == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {"name": "rubric", "schema": rubric.SCHEMA, "strict": True},
            }
        return {"type": "json_object"}

    def refused(self) -> None:
        if self.mode == "json_schema":
            log.warning("upstream refused a JSON schema; the rubric uses JSON mode from now on")
            self.mode = "json_object"


class RubricJob:
    """One rubric request, running beside its feedback stream."""

    def __init__(
        self,
        client: openai.OpenAI,
        model: str,
        request: CoachingRequest,
        form: RubricFormat,
        max_tokens: int,
    ) -> None:
        self._client = client
        self._model = model
        self._request = request
        self._form = form
        self._max_tokens = max_tokens
        self._reply: str | None = None
        self.failure = ""
        self._done = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            # The body goes in `extra_body`, as for the stream (openai_backend.py).
            completion = self._client.with_options(max_retries=0).chat.completions.create(
                model=self._model,
                messages=[],
                extra_body={
                    "messages": rubric.messages(self._request),
                    "response_format": self._form.response_format(),
                    "max_tokens": self._max_tokens,
                    "temperature": 0,
                },
            )
            self._reply = completion.choices[0].message.content if completion.choices else None
            if self._reply is None:
                self.failure = "empty"
        except openai.BadRequestError:
            self.failure = "refused"
            self._form.refused()
        except openai.APIStatusError as exc:
            self.failure = f"refused (HTTP {exc.status_code})"
        except Exception as exc:  # the feedback never fails because of its rubric
            self.failure = type(exc).__name__
        finally:
            self._done.set()

    def analysis(self, wait: float, rules: Analysis) -> dict[str, Any]:
        """The model's rubric if it is ready within `wait` seconds and valid; else the rules'."""
        if not self._done.wait(wait):
            reason = "timeout"
        elif self._reply is None:
            reason = self.failure
        else:
            judged = rubric.from_model(self._reply, self._request, rules)
            if judged is not None:
                return judged
            reason = "invalid"
        log.warning("model rubric not used: %s", reason, extra={"rubric_fallback": reason})
        return rules.as_dict()
