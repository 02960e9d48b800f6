"""The OpenAI adapter of the LLM port (`port.py`): any OpenAI-compatible server.

Why raw lines instead of the SDK's typed chunks: the same SDK call through
`with_streaming_response` keeps the SDK's auth, retries, base_url and status
errors, while parsing each `data:` line with orjson costs a fraction of building a
pydantic `ChatCompletionChunk` per token (see docs/benchmarks-analysis.md). Reading the
body by network chunk also lets tokens that arrived together leave as one event.
"""

from __future__ import annotations

import logging
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import openai
import orjson

from interview_app import problems
from interview_app.coaching import compose
from interview_app.coaching.request import CoachingRequest
from interview_app.llm.completions import Recited, Suffixed
from interview_app.llm.inline_rubric import InlineRubric
from interview_app.llm.port import Cancel, Completion, StreamFailure, UpstreamError
from interview_app.llm.rubric_job import RubricJob, judge
from interview_app.llm.transport import (
    BODY,
    FIRST_BYTE_DEADLINE,
    Body,
    H11Transport,
    OutOfDescriptors,
)
from interview_app.settings import Settings

log = logging.getLogger(__name__)


def _retry_after(exc: openai.APIStatusError, default: int) -> int:
    raw = exc.response.headers.get("retry-after", "")
    try:
        return max(1, min(3600, round(float(raw))))
    except ValueError:
        return default


def upstream_error(exc: Exception) -> UpstreamError:
    """Map an SDK exception to what our client should be told (never its auth)."""
    if isinstance(exc, openai.APITimeoutError):
        return UpstreamError(problems.UPSTREAM_TIMEOUT)
    if isinstance(exc, openai.APIConnectionError):
        return UpstreamError(problems.UPSTREAM_UNREACHABLE)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status == 429 or status in (503, 529):
            return UpstreamError(problems.UPSTREAM_BUSY, retry_after=_retry_after(exc, 5))
        if status in (401, 403):
            log.error("upstream rejected our credentials (HTTP %s)", status)
            return UpstreamError(problems.UPSTREAM_MISCONFIGURED)
        return UpstreamError(
            problems.UPSTREAM_ERROR.saying(f"The model server failed (HTTP {status}).")
        )
    return UpstreamError(problems.UPSTREAM_ERROR)


class _Chunks:
    """httpx's byte iterator in `Body.read`'s shape; it cannot wait with a deadline."""

    def __init__(self, response: Any) -> None:
        self._response = response
        self._chunks = response.iter_bytes()

    def read(self, wait: float | None) -> bytes | None:
        return next(self._chunks, b"")

    def close(self) -> None:
        self._response.close()


class OpenAICompletion:
    """Raw-line reader of a chat completion stream.

    Through our transport (`transport.py`) it reads the body directly, and can
    wait for the next bytes with a deadline (`idle_ticks`); through httpx's own
    transport (behind a proxy) it reads `iter_bytes()` and cannot.
    """

    def __init__(
        self,
        response: Any,
        model: str,
        max_line: int = 1 << 20,
        rubric: Callable[[], dict[str, Any]] | None = None,
        on_first_text: Callable[[], None] | None = None,
    ) -> None:
        body: Body | None = response.http_response.extensions.get(BODY)
        self.idle_ticks = body is not None
        # With our body in hand, the SDK's response objects (request options,
        # headers, the request body) need not live as long as the stream.
        self._source: Body | _Chunks = body if body is not None else _Chunks(response)
        self._model = model
        self._max_line = max_line
        self._rubric = rubric
        self._on_first_text = on_first_text
        self._finish_reason: str | None = None
        self._usage: dict[str, Any] | None = None
        self._wrote = False

    def texts(self, idle: float | None = None) -> Iterator[str]:
        # Lines split across network chunks are kept as parts and joined once, when
        # their end arrives: appending to one growing bytes object was quadratic, and
        # one endless line froze every stream on the worker. A line past the cap
        # ends this stream only.
        parts: list[bytes] = []
        held = 0
        quiet_since: float | None = None  # the first chunk since the last text
        # A read call rather than a generator around the body: one layer less per token.
        read = self._source.read
        try:
            while True:
                chunk = read(idle)
                if chunk is None:
                    quiet_since = None
                    yield ""  # `idle` seconds without a byte
                    continue
                if not chunk:
                    break
                if b"\r" in chunk:
                    # SSE lines may end in CR alone (or CRLF); JSON escapes CR inside
                    # strings, so a raw CR is always a line end. A CRLF split across two
                    # chunks becomes an extra blank line, which means nothing here.
                    chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
                end = chunk.rfind(b"\n")
                if end < 0:
                    parts.append(chunk)
                    held += len(chunk)
                    text = ""
                else:
                    if parts:
                        parts.append(chunk[:end])
                        block = b"".join(parts)
                        parts = []
                    else:
                        block = chunk[:end]
                    held = len(chunk) - end - 1
                    if held:
                        parts.append(chunk[end + 1 :])
                    text = self._parse(block.split(b"\n"))
                if held > self._max_line:
                    raise StreamFailure(problems.UPSTREAM_LINE_TOO_LONG)
                if text:
                    if not self._wrote:
                        self._first_text()
                    quiet_since = None
                    yield text
                elif idle is not None:
                    # Bytes with no text (comments, reasoning, keep-alives) do not
                    # count as activity: heartbeats follow the clock, not the socket.
                    now = time.monotonic()
                    if quiet_since is None:
                        quiet_since = now
                    elif now - quiet_since >= idle:
                        quiet_since = now
                        yield ""
            text = self._parse([b"".join(parts)]) if parts else ""
            if text:
                if not self._wrote:
                    self._first_text()
                yield text
        except httpx2.TimeoutException:
            raise StreamFailure(problems.UPSTREAM_SILENT) from None
        except (httpx2.TransportError, openai.APIError) as exc:
            raise StreamFailure(
                problems.UPSTREAM_DISCONNECTED.saying(
                    f"The model server dropped the stream ({type(exc).__name__})."
                )
            ) from None
        if self._finish_reason is None:
            # A bare `[DONE]` with no finish reason is a stream cut short, not a
            # finished one: llama.cpp's server ends a running stream that way when
            # another request takes its slot.
            raise StreamFailure(problems.UPSTREAM_INCOMPLETE)
        if not self._wrote:
            # End-of-sequence first: "done" with no text would look like success.
            raise StreamFailure(problems.UPSTREAM_EMPTY)

    def _first_text(self) -> None:
        self._wrote = True
        if self._on_first_text is not None:
            # The feedback's rubric starts now: on a server that runs one request at a
            # time, a rubric sent with the feedback would run first and hold its text.
            self._on_first_text()

    def _parse(self, lines: list[bytes]) -> str:
        texts = []
        for line in lines:
            if not line.startswith(b"data:"):
                continue  # comments, `event:` lines and the blank separators
            payload = line[5:].strip()
            if payload == b"[DONE]":
                continue  # the end, if a finish reason came before it (see `texts`)
            try:
                obj = orjson.loads(payload)
                if "error" in obj:
                    raise StreamFailure(
                        problems.UPSTREAM_ERROR.saying("The model server failed mid-stream.")
                    )
                for choice in obj.get("choices") or ():
                    # Only `content` is the answer: reasoning deltas (vLLM's
                    # `reasoning_content`, `reasoning`) are the model thinking aloud
                    # and are not relayed.
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        texts.append(content + "")  # a str, or the TypeError below
                    if choice.get("finish_reason"):
                        self._finish_reason = str(choice["finish_reason"])
                if obj.get("usage"):
                    self._usage = obj["usage"]
                if obj.get("model"):
                    self._model = str(obj["model"])
            except (orjson.JSONDecodeError, TypeError, AttributeError):
                # Not JSON, or JSON of the wrong shape: the upstream's fault, not ours.
                log.warning("upstream sent a malformed event")
                raise StreamFailure(problems.UPSTREAM_BAD_RESPONSE) from None
        return "".join(texts)

    def close(self) -> None:
        self._source.close()

    def summary(self) -> dict[str, Any]:
        out = {
            "finish_reason": self._finish_reason or "stop",
            "backend": "openai",
            "model": self._model,
            "usage": self._usage,
        }
        if self._rubric is not None:
            # Once per stream, after its last token: never on the token path.
            out["analysis"] = self._rubric()
        return out


def _proxied(base_url: str) -> bool:
    """Whether HTTP(S)_PROXY / ALL_PROXY (minus NO_PROXY) applies to `base_url`."""
    url = httpx2.URL(base_url)
    proxies = urllib.request.getproxies_environment()
    if url.scheme not in proxies and "all" not in proxies:
        return False
    return not urllib.request.proxy_bypass(url.host)


_REFUSAL_WORDS = ("response_format", "json_schema", "schema", "grammar")


def refuses_format(exc: openai.APIStatusError) -> bool:
    """Whether an error answers the structured-output request itself, as servers really
    refuse it: 400 or 422, or a 5xx whose body names the format (llama.cpp's 500)."""
    if exc.status_code in (400, 422):
        return True
    if exc.status_code < 500:
        return False
    try:
        body = exc.response.text.lower()
    except Exception:  # a body that cannot be read says nothing
        return False
    return any(word in body for word in _REFUSAL_WORDS)


class RubricFormat:
    """Which structured-output mode this upstream accepts (learned once per server):
    a JSON schema, else JSON mode with the schema in the prompt, else none at all."""

    def __init__(self) -> None:
        self.mode = "json_schema"

    def response_format(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        if self.mode == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": True},
            }
        return {"type": "json_object"}

    def refused(self) -> None:
        if self.mode == "json_schema":
            log.warning(
                "upstream refused a JSON schema; structured requests use JSON mode from now on"
            )
            self.mode = "json_object"
        elif self.mode == "json_object":
            log.warning("upstream refused JSON mode too; the rules answer from now on")
            self.mode = "none"


@dataclass(frozen=True)
class Deferred:
    """A feedback's rubric: `start` at the feedback's first text, `result` at its end."""

    start: Callable[[], None] | None
    result: Callable[[], dict[str, Any]]


class OpenAIBackend:
    """Any OpenAI-compatible chat completions server, through the sync SDK.

    One SDK client on our h11 transport (`transport.py`), which holds at most
    `UPSTREAM_POOL_SIZE` connections and keeps idle ones for reuse. Behind a
    proxy it uses httpx's own transport, which speaks to proxies; streams then
    cost more CPU (docs/benchmarks.md) but behave the same.
    """

    name = "openai"
    scripted = False

    def __init__(self, settings: Settings) -> None:
        self.model = settings.openai_model
        self.recite_speed = settings.offline_tokens_per_second
        self.first_byte_seconds = settings.upstream_first_byte_seconds
        self.rubric = settings.rubric
        self.rubric_timeout = settings.rubric_timeout_seconds
        self.rubric_max_tokens = settings.rubric_max_tokens
        self.rubric_format = RubricFormat()
        # Waits for the worker's turn before a side request (a feedback's rubric) is sent:
        # the extension sets it to the hub's gate. A burst of feedbacks asked for 1,000
        # rubrics at their first text, past every gate.
        self.wait_turn: Callable[[], object] = lambda: None
        self.max_line = settings.upstream_max_line_bytes
        self.max_tokens = {
            "answer": settings.max_tokens_answer,
            "feedback": settings.max_tokens_feedback,
        }
        timeout = httpx2.Timeout(
            settings.upstream_read_timeout_seconds,
            connect=settings.upstream_connect_timeout_seconds,
        )
        tls = httpx2.create_ssl_context()
        base_url = settings.openai_base_url or "https://api.openai.com/v1"
        self.transport: H11Transport | None = None
        if _proxied(base_url):
            pool = settings.upstream_pool_size
            http_client = openai.DefaultHttpxClient(
                timeout=timeout,
                limits=httpx2.Limits(max_connections=pool, max_keepalive_connections=pool),
                verify=tls,
            )
        else:
            self.transport = H11Transport(tls, settings.upstream_pool_size)
            http_client = openai.DefaultHttpxClient(timeout=timeout, transport=self.transport)
        # Whether its completions can wait with a deadline (our transport; not a proxy's).
        self.idle_ticks = self.transport is not None
        self.client = openai.OpenAI(
            # A local server (vLLM, Ollama, llama.cpp) takes any key; the SDK wants one.
            api_key=settings.openai_api_key or "unused",
            base_url=base_url,
            max_retries=settings.openai_max_retries,
            timeout=timeout,
            http_client=http_client,
        )
        # The SDK imports its resource modules on first use: done here, at start, so the
        # first request of a burst that used up the worker's descriptors does not fail
        # on an import (seen as a 500 with EMFILE on `openai/resources/__init__.py`).
        self.client.chat.completions.with_streaming_response  # noqa: B018

    def _rubric(self, request: CoachingRequest) -> Deferred | None:
        """The rubric of a feedback stream: started at its first text, given at its end."""
        if not compose.judged(request, self.rubric) or self.rubric == "inline":
            return None
        if self.rubric != "model":
            return Deferred(None, lambda: compose.rules_rubric(request))

        def ask(*args: Any) -> str | None:
            self.wait_turn()
            cancel = args[4] if len(args) > 4 else None
            if isinstance(cancel, Cancel) and cancel.cancelled:
                return None  # given up on while it waited: the upstream is not asked
            return self.structured(*args)

        job = RubricJob(ask, request, self.rubric_max_tokens)
        return Deferred(job.start, lambda: job.analysis(self.rubric_timeout))

    def _inline(self, request: CoachingRequest) -> Completion:
        """A feedback and its rubric from one request (RUBRIC=inline, rubric_job.py)."""
        max_tokens = self.max_tokens["feedback"] + self.rubric_max_tokens
        completion = self._stream(compose.chat(request, "inline"), max_tokens, None)

        def judged(reply: str | None, why: str) -> dict[str, Any]:
            return judge(reply, why, request)

        return InlineRubric(completion, judged, compose.inline_ask(request))

    def converse(
        self, messages: list[dict[str, str]], max_tokens: int, fallback: str
    ) -> Completion:
        """Stream the model's reply to `messages` (the interviewer's next words)."""
        return self._stream(messages, max_tokens, None)

    def say(self, text: str, extra: dict[str, Any]) -> Completion:
        """A prepared text (the rules' report), under this backend's name, all at once: it is
        finished, and reciting it at the offline coach's pace took 17 s in 665 events."""
        return Recited(text, extra, 0, backend=self.name, model=self.model)

    def structured(
        self,
        messages: list[dict[str, str]],
        name: str,
        schema: dict[str, Any],
        max_tokens: int,
        cancel: Cancel | None = None,
    ) -> str | None:
        """One request with structured output (see rubric_job.py); None on failure.

        Streamed, so that giving up on it (`cancel`) closes the connection and the model
        server stops generating: a non-streamed request we stopped waiting for kept a
        one-slot server busy for minutes.
        """
        form = self.rubric_format
        if form.mode == "none":
            return None
        extra = {"response_format": form.response_format(name, schema), "temperature": 0}
        try:
            response = self._open(messages, max_tokens, extra, retries=0)
        except openai.APIStatusError as exc:
            if refuses_format(exc):
                form.refused()
            else:
                log.warning("structured request failed: HTTP %s", exc.status_code)
            return None
        except Exception as exc:  # the caller falls back to its rules
            log.warning("structured request failed: %s", type(exc).__name__)
            return None
        completion = OpenAICompletion(response, self.model, self.max_line)
        if cancel is not None:
            cancel.on_cancel(completion.close)
        try:
            return "".join(completion.texts())
        except Exception as exc:  # cut, cancelled, or empty: the caller uses its rules
            if cancel is None or not cancel.cancelled:
                log.warning("structured request failed: %s", type(exc).__name__)
            return None
        finally:
            completion.close()

    def open(self, request: CoachingRequest) -> Completion:
        # The body goes in `extra_body`, which the SDK sends as it is: its own
        # TypedDict transform of `messages` costs CPU on every request and does
        # nothing for plain string messages (docs/benchmarks-analysis.md).
        if self.rubric == "inline" and compose.judged(request, self.rubric):
            completion = self._inline(request)
        else:
            deferred = self._rubric(request)  # started at the feedback's first text
            chat = compose.chat(request, self.rubric)
            completion = self._stream(chat, self.max_tokens[request.kind], deferred)
        closing = compose.closing(request)
        # The measured figures, in our words, after the model's coaching.
        return Suffixed(completion, closing) if closing else completion

    def _open(
        self,
        chat: list[dict[str, str]],
        max_tokens: int,
        extra: dict[str, Any],
        retries: int | None = None,
    ) -> Any:
        """Send a streamed chat request; its response once the headers are in (SDK errors
        raised as they are)."""
        client = self.client if retries is None else self.client.with_options(max_retries=retries)
        manager = client.chat.completions.with_streaming_response.create(
            model=self.model,
            messages=[],
            stream=True,
            extra_body={"messages": chat, "max_tokens": max_tokens, **extra},
        )
        # The whole wait for the headers, the SDK's retries included (transport.py).
        deadline = FIRST_BYTE_DEADLINE.set(time.monotonic() + self.first_byte_seconds)
        try:
            return manager.__enter__()
        finally:
            FIRST_BYTE_DEADLINE.reset(deadline)

    def _stream(
        self, chat: list[dict[str, str]], max_tokens: int, rubric: Deferred | None
    ) -> Completion:
        try:
            response = self._open(chat, max_tokens, {"stream_options": {"include_usage": True}})
        except OutOfDescriptors:
            raise UpstreamError(problems.SERVER_BUSY) from None
        except openai.APIError as exc:
            raise upstream_error(exc) from None
        if rubric is None:
            return OpenAICompletion(response, self.model, self.max_line)
        return OpenAICompletion(response, self.model, self.max_line, rubric.result, rubric.start)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
