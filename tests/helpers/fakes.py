"""A local OpenAI-compatible server for tests and benchmarks.

It speaks the real wire format of `POST /v1/chat/completions` with `stream: true`:
HTTP/1.1 keep-alive, chunked transfer encoding, `data: {json}` events and a final
`data: [DONE]`. A `Script` chooses the tokens, their pace and a failure mode
(an HTTP status, a dropped connection, silence, slow headers). It counts open
streams, noticing a client that leaves at once, so tests can assert that the
app closed its upstream.

asyncio rather than a threaded server because benchmarks hold thousands of
streams open at once. Run it alone with `python -m tests.helpers.fakes --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Script:
    """What the next responses do."""

    tokens: list[str] = field(default_factory=lambda: ["Hello", ",", " world", "!"])
    interval: float = 0.0
    # Silence after the headers and before the first token (a model reading its prompt).
    first_delay: float = 0.0
    # RUBRIC=inline: the pause between the rubric's pieces after the marker (0: all at once).
    tail_interval: float = 0.0
    status: int = 200
    retry_after: str | None = None
    drop_after: int | None = None
    silence_after: int | None = None
    header_delay: float = 0.0
    usage: bool = True
    timestamps: bool = False
    batch: int = 1
    # Read the request, then close the connection without answering.
    hang_up: bool = False
    # Close the connection after the response, without saying so (no `Connection: close`).
    close_after: bool = False
    # Send these body chunks as they are (each a chunk of the chunked body), paced by
    # `interval`, instead of token events: for hostile or odd upstreams.
    raw: list[bytes] | None = None
    # Send the response headers one byte every this many seconds.
    header_trickle: float = 0.0
    # Non-streaming requests (the rubric): the message content, status and delay.
    completion: str = "{}"
    completion_status: int = 200
    completion_delay: float = 0.0
    # The error body of a refused completion (llama.cpp names `response_format` in a 500).
    completion_error: str = "refused"
    # Serve one request at a time, as llama.cpp's server with one slot does.
    serial: bool = False
    # `/v1/audio/transcriptions`: the transcript to give; `/v1/audio/speech`: the bytes.
    transcript: str = "I led the migration and cut costs by 30%."
    # Transcriptions: answer one JSON object even when asked to stream (as
    # faster-whisper-server does), after this long, saying it heard this language.
    transcript_json: bool = False
    transcript_delay: float = 0.0
    transcript_language: str | None = None
    # No /v1/audio/* at all (llama.cpp, Ollama, a chat-only vLLM): 404.
    audio: bool = True
    speech: bytes = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 64


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


def _multipart(content_type: str, body: bytes) -> dict[str, str]:
    """The text fields of a multipart/form-data body (the file's name and size too)."""
    boundary = content_type.split("boundary=", 1)[-1].strip('"').encode()
    fields: dict[str, str] = {}
    for part in body.split(b"--" + boundary):
        head, _, value = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head)
        if not name:
            continue
        value = value.removesuffix(b"\r\n")
        filename = re.search(rb'filename="([^"]+)"', head)
        if filename:
            fields["filename"] = filename.group(1).decode()
            fields["file_bytes"] = str(len(value))
        else:
            fields[name.group(1).decode()] = value.decode(errors="replace")
    return fields


# `coaching.rubric.MARKER`, written out: the fake speaks the wire format, not our code.
MARKER = "<<<RUBRIC>>>"


def _asks_inline_rubric(request: dict[str, Any]) -> bool:
    """Whether the request asks for its rubric after the text (RUBRIC=inline)."""
    first = (request.get("messages") or [{}])[0]
    return isinstance(first, dict) and MARKER in str(first.get("content", ""))


def _event(obj: Any) -> bytes:
    return _chunk(b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n")


class FakeUpstream:
    """The server; `start()` runs it on its own thread and event loop."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.script = Script()
        self.requests: list[dict[str, Any]] = []
        self.completions: list[dict[str, Any]] = []
        self.cancelled_completions = 0
        self.transcriptions: list[dict[str, str]] = []
        self.cancelled_transcriptions = 0
        self.speeches: list[dict[str, Any]] = []
        self.order: list[str] = []  # "stream" or "structured", as requests were served
        self.arrivals: list[tuple[str, float]] = []  # (kind, when it arrived)
        self.first_token_at: float | None = None  # when the last stream sent its first text
        self._one_at_a_time = asyncio.Lock()
        self.headers: list[dict[str, str]] = []
        self.open_streams = 0
        self.total_streams = 0
        self.client_disconnects = 0
        self.tokens_sent = 0
        self.disconnect_log: list[Any] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def connections(self) -> int:
        """Client connections open now (kept-alive ones included)."""
        return len(self._writers)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/v1"

    def _disconnected(self, request: dict[str, Any]) -> None:
        self.client_disconnects += 1
        self.disconnect_log.append((time.monotonic(), request.get("messages", [{}])[-1]))

    def reset(self, script: Script | None = None) -> None:
        self.script = script or Script()
        self.requests.clear()
        self.completions.clear()
        self.cancelled_completions = 0
        self.transcriptions.clear()
        self.cancelled_transcriptions = 0
        self.speeches.clear()
        self.order.clear()
        self.arrivals.clear()
        self.first_token_at = None
        self.headers.clear()
        self.total_streams = 0
        self.client_disconnects = 0
        self.tokens_sent = 0
        self.disconnect_log = []

    def start(self) -> FakeUpstream:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return bool(predicate())

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, self.host, self.port, backlog=4096, ssl=self.tls)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._server.close()
        for writer in list(self._writers):  # keep-alive clients may still be connected
            writer.transport.abort()
        self._loop.run_until_complete(self._server.wait_closed())
        for task in asyncio.all_tasks(self._loop):
            task.cancel()
        self._loop.run_until_complete(asyncio.sleep(0.05))
        self._loop.close()

    async def serve_forever(self) -> None:
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, backlog=4096
        )
        self.port = self._server.sockets[0].getsockname()[1]
        await self._server.serve_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if not await self._respond(method, path, headers, body, reader, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _respond(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        script = self.script
        if "/audio/" in path and not script.audio:
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 22\r\n\r\n{\"detail\":\"Not Found\"}")  # fmt: skip
            await writer.drain()
            return True
        if method == "POST" and path.endswith("/audio/transcriptions"):
            return await self._transcribe(headers, body, script, reader, writer)
        if method == "POST" and path.endswith("/audio/speech"):
            return await self._speak(body, script, reader, writer)
        if method != "POST" or not path.endswith("/chat/completions"):
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return True
        request = json.loads(body or b"{}")
        kind = "structured" if request.get("response_format") else "stream"
        self.arrivals.append((kind, time.monotonic()))
        if script.serial:
            async with self._one_at_a_time:
                return await self._answer(request, headers, script, reader, writer)
        return await self._answer(request, headers, script, reader, writer)

    async def _answer(
        self,
        request: dict[str, Any],
        headers: dict[str, str],
        script: Script,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        self.order.append("structured" if request.get("response_format") else "stream")
        if not request.get("stream") or request.get("response_format"):
            return await self._complete(request, script, reader, writer)
        self.requests.append(request)
        self.headers.append(headers)
        if script.hang_up:
            return False
        if script.header_delay:
            # A client that gives up while we stall must not get a zombie stream later.
            gone = asyncio.ensure_future(reader.read(1))
            done, _ = await asyncio.wait({gone}, timeout=script.header_delay)
            if done:
                return False
            gone.cancel()
            with contextlib.suppress(BaseException):
                await gone
        if script.status != 200:
            payload = json.dumps({"error": {"message": "fake failure", "type": "fake"}}).encode()
            extra = f"Retry-After: {script.retry_after}\r\n" if script.retry_after else ""
            writer.write(
                f"HTTP/1.1 {script.status} Fake\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n{extra}\r\n".encode()
                + payload
            )
            await writer.drain()
            return True
        kept = await self._stream(request, script, reader, writer)
        return kept and not script.close_after

    async def _transcribe(
        self,
        headers: dict[str, str],
        body: bytes,
        script: Script,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """`/v1/audio/transcriptions`: the transcript streamed as `transcript.text.delta`
        events (`stream=true`), or once as `verbose_json` with word times (Whisper)."""
        form = _multipart(headers.get("content-type", ""), body)
        self.transcriptions.append(form)
        words = script.transcript.split()
        if script.transcript_delay:
            await asyncio.sleep(script.transcript_delay)
        if script.transcript_json:
            payload = json.dumps({"text": script.transcript,
                                  **({"language": script.transcript_language}
                                     if script.transcript_language else {})},
                                 ensure_ascii=False).encode()  # fmt: skip
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%b" % (len(payload), payload))  # fmt: skip
            await writer.drain()
            return True
        if form.get("stream") != "true":
            timed = [{"word": w, "start": 0.5 + i * 0.4, "end": 0.8 + i * 0.4}
                     for i, w in enumerate(words)]  # fmt: skip
            payload = json.dumps({"task": "transcribe", "language": form.get("language"),
                                  "duration": 9.0, "text": script.transcript,
                                  "words": timed}, ensure_ascii=False).encode()  # fmt: skip
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%b" % (len(payload), payload))  # fmt: skip
            await writer.drain()
            return True
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        gone = asyncio.ensure_future(reader.read(1))
        try:
            for i, word in enumerate(words):
                if script.drop_after is not None and i == script.drop_after:
                    writer.transport.abort()  # the server dies mid-audio: no chunk terminator
                    return False
                delta = ("" if i == 0 else " ") + word
                writer.write(_event({"type": "transcript.text.delta", "delta": delta}))
                await writer.drain()
                done, _ = await asyncio.wait({gone}, timeout=script.interval)
                if done:
                    self.cancelled_transcriptions += 1
                    return False
            writer.write(_event({"type": "transcript.text.done", "text": script.transcript}))
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        finally:
            gone.cancel()
            with contextlib.suppress(BaseException):
                await gone

    async def _speak(
        self,
        body: bytes,
        script: Script,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """`/v1/audio/speech`: MP3 bytes streamed in chunks (a fixed, valid frame)."""
        self.speeches.append(json.loads(body or b"{}"))
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        for _ in range(3):
            writer.write(_chunk(script.speech))
            await writer.drain()
            if script.interval:
                await asyncio.sleep(script.interval)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    async def _complete(
        self,
        request: dict[str, Any],
        script: Script,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """A structured completion (the rubric, the report), kept apart from text streams:
        answered whole, or streamed when asked to (then a client that leaves cancels it)."""
        self.completions.append(request)
        streamed = request.get("stream") and script.completion_status == 200
        if streamed:
            # A streaming server answers its headers at once, then generates.
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            await writer.drain()
        if script.completion_delay:
            gone = asyncio.ensure_future(reader.read(1))
            done, _ = await asyncio.wait({gone}, timeout=script.completion_delay)
            if done:
                self.cancelled_completions += 1  # the client closed: generation stops
                return False
            gone.cancel()
            with contextlib.suppress(BaseException):
                await gone
        if script.completion_status != 200:
            error = {"message": script.completion_error, "type": "fake"}
            payload = json.dumps({"error": error}).encode()
            status = f"{script.completion_status} Fake"
        elif streamed:
            base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
                    "model": request.get("model", "fake-model")}  # fmt: skip
            text = script.completion
            for i in range(0, len(text), 40):
                delta = {"content": text[i : i + 40]}
                writer.write(
                    _event(
                        {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                    )
                )
            writer.write(
                _event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            )
            writer.write(_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
            await writer.drain()
            return True
        else:
            payload = json.dumps(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": 0,
                    "model": request.get("model", "fake-model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": script.completion},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 900, "completion_tokens": 150, "total_tokens": 1050},
                },
                ensure_ascii=False,
            ).encode()
            status = "200 OK"
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        return True

    async def _stream(
        self,
        request: dict[str, Any],
        script: Script,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        model = request.get("model", "fake-model")
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0}
        base["model"] = model
        self.open_streams += 1
        self.total_streams += 1
        # A client that leaves sends EOF; watching for it ends the stream at once.
        gone = asyncio.ensure_future(reader.read(1))
        head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n\r\n"
        )
        try:
            if script.header_trickle:
                for byte in head:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    done, _ = await asyncio.wait({gone}, timeout=script.header_trickle)
                    if done:
                        self._disconnected(request)
                        return False
            else:
                writer.write(head)
            if script.raw is not None:
                for i, part in enumerate(script.raw):
                    if script.interval and i:
                        done, _ = await asyncio.wait({gone}, timeout=script.interval)
                        if done:
                            self._disconnected(request)
                            return False
                    writer.write(_chunk(part))
                    await writer.drain()
                writer.write(b"0\r\n\r\n")
                await writer.drain()
                return True
            writer.write(
                _event(
                    {
                        **base,
                        "choices": [
                            {
                                "index": 0,
                                "delta": {"role": "assistant", "content": ""},
                                "finish_reason": None,
                            }
                        ],
                    }
                )
            )
            await writer.drain()
            for i in range(0, len(script.tokens), script.batch):
                if script.drop_after is not None and i >= script.drop_after:
                    writer.transport.abort()
                    return False
                if script.silence_after is not None and i >= script.silence_after:
                    await gone
                    self._disconnected(request)
                    return False
                wait = script.interval if i else script.first_delay
                if wait:
                    done, _ = await asyncio.wait({gone}, timeout=wait)
                    if done:
                        self._disconnected(request)
                        return False
                out = b""
                for token in script.tokens[i : i + script.batch]:
                    if script.timestamps:
                        token = f"{time.time():.6f} "
                    out += _event(
                        {
                            **base,
                            "choices": [
                                {"index": 0, "delta": {"content": token}, "finish_reason": None}
                            ],
                        }
                    )
                # Counted before the write: a fast client may read it before drain() returns.
                if not i:
                    self.first_token_at = time.monotonic()
                self.tokens_sent += len(script.tokens[i : i + script.batch])
                writer.write(out)
                await writer.drain()
            if _asks_inline_rubric(request):
                # As a model told to (RUBRIC=inline): the marker, then the rubric as JSON, in
                # the structured completion's 40-character pieces, sent together as it does.
                text = script.completion
                tail = ["\n\n", MARKER, "\n", *(text[i : i + 40] for i in range(0, len(text), 40))]
                frames = [_event({**base, "choices": [{"index": 0, "delta": {
                    "content": piece}, "finish_reason": None}]}) for piece in tail]  # fmt: skip
                if not script.tail_interval:
                    writer.write(b"".join(frames))
                for frame in frames if script.tail_interval else []:
                    writer.write(frame)
                    await writer.drain()
                    done, _ = await asyncio.wait({gone}, timeout=script.tail_interval)
                    if done:
                        self._disconnected(request)
                        return False
            writer.write(
                _event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            )
            if script.usage and (request.get("stream_options") or {}).get("include_usage"):
                n = len(script.tokens)
                usage = {"prompt_tokens": 10, "completion_tokens": n, "total_tokens": 10 + n}
                writer.write(_event({**base, "choices": [], "usage": usage}))
            writer.write(_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
            await writer.drain()
            return True
        except ConnectionError:
            self._disconnected(request)
            return False
        finally:
            self.open_streams -= 1
            gone.cancel()
            # Let the cancelled read finish before the next request reads the socket.
            with contextlib.suppress(BaseException):
                await gone


def main() -> None:
    """Run the fake upstream alone (benchmarks start it this way)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--tokens", type=int, default=100, help="tokens per response")
    parser.add_argument("--rate", type=float, default=50.0, help="tokens per second (0: burst)")
    parser.add_argument("--timestamps", action="store_true", help="tokens carry send times")
    parser.add_argument(
        "--rubric",
        action="store_true",
        help="answer rubric requests (structured, or after the text) with a valid rubric",
    )
    args = parser.parse_args()
    upstream = FakeUpstream(port=args.port)
    upstream.script = Script(
        tokens=["tok "] * args.tokens,
        interval=1.0 / args.rate if args.rate else 0.0,
        timestamps=args.timestamps,
    )
    if args.rubric:
        from tests.helpers.rubrics import model_rubric

        upstream.script.completion = model_rubric()
    asyncio.run(upstream.serve_forever())


if __name__ == "__main__":
    main()
