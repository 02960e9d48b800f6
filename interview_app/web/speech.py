"""Voice over HTTP: a recording in, its transcript out as it grows (SSE); text in, speech out.

`POST /api/transcriptions?language=ko|en` takes the raw recording (what
MediaRecorder or a file gives) and answers like `/api/feedback`: `data:
{"text": delta}` events, then `done` with the whole transcript, its words' times
and the delivery figures (`coaching/delivery.py`). Everything that can fail
before the stream does so with a real status: the type (415), the language (400),
the size (413), audio that does not decode (422), a recording too long (413), the
worker's transcriptions all busy (503), and the recogniser's first answer (a model
server's refusal). Audio is never stored: it lives in this request only.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import openai
from flask import Blueprint, Response, jsonify, request, stream_with_context

from interview_app import problems
from interview_app.coaching.interview import CutIn
from interview_app.coaching.request import Language
from interview_app.history.db import HistoryUnavailable
from interview_app.llm.openai_backend import upstream_error
from interview_app.problems import Problem, Refused, invalid
from interview_app.speech.audio import TYPES, Audio
from interview_app.speech.live import (
    MAX_PIECE_BYTES,
    PCM_TYPE,
    Inbox,
    MemoryInbox,
    Piece,
    RedisInbox,
    Session,
    live_for,
)
from interview_app.speech.recognizers import Heard, Pieces, Recognizer
from interview_app.speech.transcription import transcript
from interview_app.streaming import relay
from interview_app.streaming.sse import PING, json_event, retry, text_event
from interview_app.web import identity, urls
from interview_app.web.services import services
from interview_app.web.shared import client, decoded, json_body
from interview_app.web.sse_response import sse_response

speech_bp = Blueprint("speech", __name__)
log = logging.getLogger(__name__)
MAX_SPEECH_CHARS = 4096  # the speech endpoint's own input limit


class _Job:
    """One transcription, which shutdown may end (`cancel`) between two pieces."""

    def __init__(self) -> None:
        self.stopped: Problem | None = None

    def cancel(self, problem: Problem) -> None:
        self.stopped = problem


def _language() -> Language:
    language = request.args.get("language")
    if language not in ("ko", "en"):
        raise invalid("invalid_field", "'language' must be 'ko' or 'en' (in the query).")
    return language  # type: ignore[return-value]


def _nothing() -> Pieces:
    yield from ()


class _Broken(Exception):
    """The recognition failed in a way that is not the model server's answer."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code)
        self.problem = problem


_END = object()  # the recognition ended
_TICK = object()  # nothing new within the wait
GRACE_SECONDS = 1.0  # a refusal within this is still a real HTTP status


class _Pump:
    """The recognition in a thread of its own (a greenlet under gevent), its pieces handed
    over a queue: the reader gets headers and pings while a model server works, which
    sent nothing for 13-27 s on 14-16 s clips and then everything at once. It stops
    after the piece at hand once told to (`stop`), and frees its slot when it ends."""

    def __init__(self, pieces: Pieces, ended: Callable[[], None]) -> None:
        self._pieces = pieces
        self._ended = ended
        self._queue: queue.Queue[Any] = queue.Queue()
        self._stopped = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            try:
                for heard in self._pieces:
                    if self._stopped.is_set():
                        break
                    self._queue.put(heard)
                self._queue.put(_END)
            except (openai.APIError, httpx2.TransportError) as exc:
                self._queue.put(exc)  # the model server's: handed to the reader
            except Exception as exc:
                # A reply that is not what it should be, a recogniser that broke: the
                # reader gets a clean error, the log one line with the exception's type.
                log.warning("recognition failed", extra={"error": type(exc).__name__})
                self._queue.put(_Broken(problems.UPSTREAM_ERROR))
            finally:
                self._pieces.close()  # no more audio fed; a model server's stream closed
        finally:
            self._ended()  # the slot comes back whatever happened above

    def next(self, wait: float) -> Any:
        """The next piece, `_END`, `_TICK` after `wait` seconds, or the recognition's error."""
        try:
            got = self._queue.get(timeout=wait)
        except queue.Empty:
            return _TICK
        if isinstance(got, Exception):
            raise got
        return got

    def stop(self) -> None:
        self._stopped.set()


def _start(
    recognizer: Recognizer,
    audio: Audio,
    data: bytes,
    kind: str,
    language: Language,
    ended: Callable[[], None],
) -> tuple[_Pump, Any]:
    """The recognition started, and what it gave within `GRACE_SECONDS` (a refusal by then
    is a real status)."""
    pieces = recognizer.recognise(audio, data, kind, language) if audio.speech else _nothing()
    pump = _Pump(pieces, ended)  # silence or noise: nothing recognised, nothing invented
    try:
        return pump, pump.next(GRACE_SECONDS)
    except openai.APIError as exc:
        failed = upstream_error(exc)
        raise Refused(failed.problem, retry_after=failed.retry_after) from None
    except httpx2.TransportError:
        raise Refused(problems.UPSTREAM_DISCONNECTED) from None
    except _Broken as exc:
        raise Refused(exc.problem) from None


@speech_bp.post("/api/transcriptions")
def transcribe() -> Response:
    """Stream the transcript of a recording, then its delivery figures."""
    found = services()
    settings, recognizer = found.settings, found.recognizer
    if recognizer is None:
        raise Refused(problems.TRANSCRIPTION_OFF)
    language = _language()
    kind = (request.mimetype or "").lower()
    if kind not in TYPES:
        raise Refused(problems.AUDIO_TYPE)
    if found.lifecycle.stopping.is_set():
        raise Refused(problems.RESTARTING)
    started = time.monotonic()
    # The quotas before the body: a refused client costs no upload and no decoding.
    ticket = found.quotas.admit(client())
    slot = False
    try:
        data = found.body.read(
            request, client(), settings.max_audio_bytes, settings.audio_body_timeout_seconds
        )
        # A slot for the work only, once the body is in: slow uploads hold none.
        if not found.transcriptions.acquire(blocking=False):
            raise Refused(problems.SERVER_BUSY)
        slot = True
        audio = decoded(data)
        job = _Job()
        ticket.stream = job
        slot = False  # from here the recognition frees it when it ends
        pump, first = _start(recognizer, audio, data, kind, language, found.transcriptions.release)
    except BaseException:
        if slot:
            found.transcriptions.release()
        ticket.release()
        raise
    tally = relay.Tally(started)
    ended = False

    def finish() -> None:
        nonlocal ended
        if not ended:
            ended = True
            pump.stop()  # a reader who left: the recognition stops after its piece at hand
            ticket.release()

    def pieces() -> Iterator[Any]:
        got = first
        while True:
            if got is _END:
                return
            yield got  # a piece, or a tick
            got = pump.next(settings.sse_heartbeat_seconds)

    def body() -> Iterator[bytes]:
        heard_so_far: list[Heard] = []
        n = 0
        try:
            yield retry(settings.sse_retry_ms)
            for heard in pieces():
                if job.stopped is not None:
                    tally.outcome = job.stopped.code
                    yield json_event(job.stopped.event(), event="error", id=n + 1)
                    return
                if heard is _TICK:
                    yield PING
                    continue
                heard_so_far.append(heard)
                n += 1
                if tally.ttft is None:
                    tally.ttft = time.monotonic() - started
                yield text_event(heard.text, n)
            found = transcript(heard_so_far, audio, language, source=recognizer.name,
                               model=recognizer.model(language),
                               long_pause=settings.long_pause_seconds)  # fmt: skip
            tally.outcome, tally.events = "done", n
            yield json_event(found.as_done(), event="done", id=n + 1)
        except _Broken as exc:
            tally.outcome = exc.problem.code
            yield json_event(exc.problem.event(), event="error", id=n + 1)
        except (openai.APIError, httpx2.TransportError) as exc:
            # The model server failed or dropped the connection mid-audio: one line, and a
            # clean end for the reader.
            dropped = isinstance(exc, httpx2.TransportError) or (
                isinstance(exc, openai.APIConnectionError)
                and not isinstance(exc, openai.APITimeoutError)
            )
            problem = problems.UPSTREAM_DISCONNECTED if dropped else upstream_error(exc).problem
            log.warning("transcription failed upstream", extra={"code": problem.code})
            tally.outcome = problem.code
            yield json_event(problem.event(), event="error", id=n + 1)
        finally:
            finish()
            tally.end()

    return sse_response(body(), tally, on_close=finish)


def _live_inbox(session_id: str) -> Inbox:
    found = services()
    if found.redis is not None:
        return RedisInbox(found.redis, session_id, int(found.settings.stream_ttl_seconds) or 1)
    inbox: Inbox = found.live.setdefault(session_id, MemoryInbox())
    return inbox


def _live_exists(session_id: str) -> bool:
    found = services()
    if found.redis is not None:
        return bool(found.redis.exists(f"ia:live:{session_id}"))
    return session_id in found.live


def _cut_in() -> CutIn | None:
    """The interviewer's cut-in for the answer a mock interview awaits (`?interview=<id>`),
    as its setup says; none without an interview (practice)."""
    interview_id = request.args.get("interview")
    if not interview_id:
        return None
    interviews, who = services().interviews_or_off(), identity.current()
    try:
        return interviews.cut_in(who, interview_id)
    except HistoryUnavailable:  # the transcript matters more than the cut-in
        log.warning("interview not read: a live transcription without its cut-in")
        return None


@speech_bp.post("/api/transcriptions/live")
def live_start() -> tuple[Response, int, dict[str, str]]:
    """A live transcription: audio pieces posted as they are recorded, events as it goes."""
    found = services()
    settings, recognizer = found.settings, found.recognizer
    if recognizer is None:
        raise Refused(problems.TRANSCRIPTION_OFF)
    language = _language()
    cut_in = _cut_in()
    ticket = found.generations.admit(client())
    if not found.transcriptions.acquire(blocking=False):
        ticket.release()
        raise Refused(problems.SERVER_BUSY)  # sessions count as transcriptions
    given_back = False

    def released() -> None:
        nonlocal given_back
        if given_back:
            return
        given_back = True
        found.transcriptions.release()
        ticket.release()
        found.live.pop(session_id, None)
        try:
            if found.redis is not None:
                found.redis.delete(f"ia:live:{session_id}")
            stream.done_generating()
        except Exception:  # Redis down: the key expires, the lease lapses
            log.warning("live transcription not fully released")

    session_id = ""
    try:
        stream = found.store.create()
        session_id = stream.id
        live = live_for(recognizer, language)
        inbox = _live_inbox(session_id)
        if found.redis is not None:
            # Alive as long as the longest answer could run, whenever it started.
            alive = int(settings.max_audio_seconds + settings.transcription_idle_seconds) + 60
            found.redis.set(f"ia:live:{session_id}", "1", ex=alive)
        session = Session(
            id=session_id, language=language, live=live, emit=stream.append_event,
            finish=stream.finish, inbox=inbox, source=recognizer.name,
            model=recognizer.model(language), long_pause=settings.long_pause_seconds,
            max_seconds=settings.max_audio_seconds,
            idle_seconds=settings.transcription_idle_seconds, released=released,
            cut_in=cut_in,
        )  # fmt: skip
        # Shutdown's drain cancels it like every stream (`server_restarting`); so does a
        # stream nobody reads.
        ticket.stream = stream
        stream.on_cancel(lambda _problem: session.stop())
        threading.Thread(target=session.run, daemon=True).start()
    except BaseException:
        released()
        raise
    events = urls.at(f"/api/streams/{session_id}")
    body = {"id": session_id, "events": events,
            "audio": urls.at(f"/api/transcriptions/live/{session_id}/audio")}  # fmt: skip
    return jsonify(body), 201, {"Location": events}


@speech_bp.post("/api/transcriptions/live/<session_id>/audio")
def live_audio(session_id: str) -> Response:
    """One piece of a live transcription's audio (`?seq=N`, `&end=1` on the last)."""
    if request.mimetype.lower() != PCM_TYPE or request.mimetype_params.get("rate") != "16000":
        raise Refused(problems.LIVE_AUDIO_TYPE)
    try:
        seq = int(request.args.get("seq", ""))
    except ValueError:
        raise invalid("invalid_field", "'seq' must be the piece's number (0, 1, 2...).") from None
    if seq < 0:
        raise invalid("invalid_field", "'seq' must be 0 or more.")
    end = request.args.get("end") in ("1", "true")
    found = services()
    if not _live_exists(session_id):
        raise Refused(problems.LIVE_NOT_FOUND)
    data = found.body.read(
        request, client(), MAX_PIECE_BYTES, found.settings.audio_body_timeout_seconds
    )
    if not _live_exists(session_id):
        raise Refused(problems.LIVE_NOT_FOUND)
    _live_inbox(session_id).put(Piece(seq, data, end))
    return Response(status=204)


@speech_bp.post("/api/speech")
def speak() -> Response:
    """An interviewer's words as MP3, streamed as the model server makes them."""
    voice = services().voice
    if voice is None or voice.absent:
        raise Refused(problems.SPEECH_UNAVAILABLE)
    data = json_body()
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise invalid("missing_field", "'text' is required.")
    if len(text) > MAX_SPEECH_CHARS:
        raise invalid("too_long", f"'text' is longer than {MAX_SPEECH_CHARS} characters.")
    language = data.get("language", "en")
    if language not in ("ko", "en"):
        raise invalid("invalid_field", "'language' must be 'ko' or 'en'.")
    if not voice.speaks(language):
        # No voice of the model server speaks it: the page reads it with the browser's.
        raise Refused(problems.SPEECH_UNAVAILABLE.saying(f"No server voice speaks '{language}'."))
    # Each reading is paid at the model server: it counts as a stream of its client
    # (`RATE_LIMIT_PER_MINUTE`, `MAX_STREAMS_PER_CLIENT`, the worker's capacity).
    ticket = services().quotas.admit(client())
    try:
        response = voice.open(text, language)
    except openai.NotFoundError:
        ticket.release()  # no speech endpoint there: the page reads with the browser's voice
        raise Refused(problems.SPEECH_UNAVAILABLE) from None
    except openai.APIError as exc:
        ticket.release()
        failed = upstream_error(exc)
        raise Refused(failed.problem, retry_after=failed.retry_after) from None
    except BaseException:
        ticket.release()
        raise

    spoken = Response(stream_with_context(voice.chunks(response)), mimetype="audio/mpeg")
    # Run by the server when the response ends, even one never read (the reader left).
    spoken.call_on_close(response.close)
    spoken.call_on_close(ticket.release)
    return spoken
