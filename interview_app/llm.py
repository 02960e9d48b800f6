"""The LLM port and its OpenAI adapter (the offline backend lives in `offline.py`).

`LLM.open()` makes the upstream request and returns only once the upstream has
answered with a status, so the API can still turn a failure into a real HTTP
status. The returned `Completion` yields text as it arrives and raises
`StreamFailure` for anything that goes wrong after that.

Why raw lines instead of the SDK's typed chunks: the same SDK call through
`with_streaming_response` keeps the SDK's auth, retries, base_url and status
errors, while parsing each `data:` line with orjson costs a fraction of building a
pydantic `ChatCompletionChunk` per token (see docs/benchmarks.md). Reading the
body by network chunk also lets tokens that arrived together leave as one event.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import httpx2
import openai
import orjson

from interview_app.prompts import Request, messages
from interview_app.settings import Settings

log = logging.getLogger(__name__)


class UpstreamError(Exception):
    """The upstream failed before the stream began; carries the HTTP answer to give."""

    def __init__(
        self, status: int, code: str, message: str, *, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


class StreamFailure(Exception):
    """The stream failed after it began; becomes an `error` event."""

    def __init__(self, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


class Completion(Protocol):
    """One streaming generation: iterate for text, then read `summary()`."""

    def __iter__(self) -> Iterator[str]: ...

    def close(self) -> None: ...

    def summary(self) -> dict[str, Any]: ...


class LLM(Protocol):
    """Something that streams a completion for a coaching request."""

    name: str
    model: str

    def open(self, request: Request) -> Completion: ...

    def close(self) -> None: ...


def _retry_after(exc: openai.APIStatusError, default: int) -> int:
    raw = exc.response.headers.get("retry-after", "")
    try:
        return max(1, min(3600, round(float(raw))))
    except ValueError:
        return default


def _upstream_error(exc: Exception) -> UpstreamError:
    """Map an SDK exception to what our client should be told (never its auth)."""
    if isinstance(exc, openai.APITimeoutError):
        return UpstreamError(504, "upstream_timeout", "The model server did not answer in time.")
    if isinstance(exc, openai.APIConnectionError):
        return UpstreamError(502, "upstream_unreachable", "The model server cannot be reached.")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status == 429 or status in (503, 529):
            return UpstreamError(
                503,
                "upstream_busy",
                "The model server is busy. Please retry shortly.",
                retry_after=_retry_after(exc, 5),
            )
        if status in (401, 403):
            log.error("upstream rejected our credentials (HTTP %s)", status)
            return UpstreamError(
                502, "upstream_misconfigured", "The service is misconfigured upstream."
            )
        log.error("upstream answered HTTP %s", status)
        return UpstreamError(502, "upstream_error", f"The model server failed (HTTP {status}).")
    return UpstreamError(502, "upstream_error", "The model server failed.")


class OpenAICompletion:
    """Raw-line reader of a chat completion stream."""

    def __init__(self, response: Any, model: str, on_close: Callable[[], None]) -> None:
        self._response = response
        self._model = model
        self._on_close: Callable[[], None] | None = on_close
        self._finish_reason: str | None = None
        self._usage: dict[str, Any] | None = None
        self._done = False

    def __iter__(self) -> Iterator[str]:
        pending = b""
        try:
            for chunk in self._response.iter_bytes():
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                text = self._parse(lines)
                if text:
                    yield text
            text = self._parse([pending]) if pending else ""
            if text:
                yield text
        except httpx2.TimeoutException:
            raise StreamFailure(
                "upstream_timeout", "The model went silent for too long.", retryable=True
            ) from None
        except (httpx2.TransportError, openai.APIError) as exc:
            raise StreamFailure(
                "upstream_disconnected",
                f"The model server dropped the stream ({type(exc).__name__}).",
                retryable=True,
            ) from None
        if not self._done and self._finish_reason is None:
            raise StreamFailure(
                "upstream_incomplete", "The model server ended the stream early.", retryable=True
            )

    def _parse(self, lines: list[bytes]) -> str:
        texts = []
        for line in lines:
            if not line.startswith(b"data:"):
                continue  # comments, `event:` lines and the blank separators
            payload = line[5:].strip()
            if payload == b"[DONE]":
                self._done = True
                continue
            try:
                obj = orjson.loads(payload)
            except orjson.JSONDecodeError:
                raise StreamFailure(
                    "upstream_bad_response", "The model server sent bad data.", retryable=True
                ) from None
            if "error" in obj:
                raise StreamFailure(
                    "upstream_error", "The model server failed mid-stream.", retryable=True
                )
            for choice in obj.get("choices") or ():
                content = (choice.get("delta") or {}).get("content")
                if content:
                    texts.append(content)
                if choice.get("finish_reason"):
                    self._finish_reason = choice["finish_reason"]
            if obj.get("usage"):
                self._usage = obj["usage"]
            if obj.get("model"):
                self._model = obj["model"]
        return "".join(texts)

    def close(self) -> None:
        self._response.close()
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    def summary(self) -> dict[str, Any]:
        return {
            "finish_reason": self._finish_reason or "stop",
            "backend": "openai",
            "model": self._model,
            "usage": self._usage,
        }


# httpcore's pool scans every connection it holds on each request and each
# release, so one pool of 2,000 connections makes stream setup O(streams):
# measured, it pushed time-to-first-byte past 9 s at 1,500 streams. Shards of
# this many connections keep each scan short (docs/benchmarks.md).
SHARD_SIZE = 64


class _Shard:
    """One SDK client (one connection pool) and the streams open on it."""

    def __init__(self, client: openai.OpenAI) -> None:
        self.client = client
        self.busy = 0


class OpenAIBackend:
    """Any OpenAI-compatible chat completions server, through the sync SDK.

    Streams open on the least busy of several SDK clients, each with a pool of at
    most `SHARD_SIZE` connections, together `UPSTREAM_POOL_SIZE`. The first
    client always stays; the others are made when the first ones are full and
    closed, with their idle connections, when their last stream ends.
    """

    name = "openai"

    def __init__(self, settings: Settings) -> None:
        self.model = settings.openai_model
        self._settings = settings
        self._timeout = httpx2.Timeout(
            settings.upstream_read_timeout_seconds,
            connect=settings.upstream_connect_timeout_seconds,
        )
        self._max_shards = max(1, -(-settings.upstream_pool_size // SHARD_SIZE))
        self._per_shard = -(-settings.upstream_pool_size // self._max_shards)
        # Keeping connections alive (5 s idle expiry) saves a connect, and gevent's
        # resolver thread hop, per stream.
        self._limits = httpx2.Limits(
            max_connections=self._per_shard, max_keepalive_connections=self._per_shard
        )
        # One TLS context for all clients: making one costs ~30 ms, a client ~0.1 ms.
        self._tls = httpx2.create_ssl_context()
        self._lock = threading.Lock()
        self.shards = [self._new_shard()]

    @property
    def clients(self) -> list[openai.OpenAI]:
        return [shard.client for shard in self.shards]

    def _new_shard(self) -> _Shard:
        http_client = openai.DefaultHttpxClient(
            timeout=self._timeout, limits=self._limits, verify=self._tls
        )
        return _Shard(
            openai.OpenAI(
                # A local server (vLLM, Ollama, llama.cpp) takes any key; the SDK wants one.
                api_key=self._settings.openai_api_key or "unused",
                base_url=self._settings.openai_base_url,
                max_retries=self._settings.openai_max_retries,
                timeout=self._timeout,
                http_client=http_client,
            )
        )

    def _pick(self) -> _Shard:
        with self._lock:
            shard = min(self.shards, key=lambda s: s.busy)
            if shard.busy >= self._per_shard and len(self.shards) < self._max_shards:
                shard = self._new_shard()
                self.shards.append(shard)
            shard.busy += 1
            return shard

    def _release(self, shard: _Shard) -> None:
        with self._lock:
            shard.busy -= 1
            retire = shard.busy == 0 and shard is not self.shards[0]
            if retire:
                self.shards.remove(shard)
        if retire:
            shard.client.close()

    def open(self, request: Request) -> Completion:
        shard = self._pick()
        # The body goes in `extra_body`, which the SDK sends as it is: its own
        # TypedDict transform of `messages` costs about 0.3 ms a request and does
        # nothing for plain string messages (docs/benchmarks.md).
        manager = shard.client.chat.completions.with_streaming_response.create(
            model=self.model,
            messages=[],
            stream=True,
            extra_body={
                "messages": messages(request),
                "stream_options": {"include_usage": True},
            },
        )
        try:
            response = manager.__enter__()
        except openai.APIError as exc:
            self._release(shard)
            raise _upstream_error(exc) from None
        except BaseException:
            self._release(shard)
            raise
        return OpenAICompletion(response, self.model, lambda: self._release(shard))

    def close(self) -> None:
        """Close the connection pools."""
        for shard in self.shards:
            shard.client.close()
