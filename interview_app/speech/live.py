"""Live transcription: audio in short pieces as the candidate speaks, the transcript as
events while they do, and the final text moments after the last piece.

A session belongs to the worker that made it (its recogniser lives there); its audio
pieces may land on any worker, so they go through an inbox: this process's queue, or
a Redis list when streams are shared (`REDIS_URL`). Its events are an ordinary stored
stream (`streaming/store.py`), read with `Last-Event-ID` from any worker:
`partial` `{"text", "stable"}` as recognition goes (`stable`: the prefix that will not
change), `delivery` about once a second (pace, fillers and the current silence so far),
then `done` with the one-shot transcription's shape (`speech/transcription.py`). A
session opened for a mock interview's answer carries the interviewer's `CutIn`
(`coaching/interview.py`): `interrupt` `{"reason", "text", "seconds"}`, once, when it
is due by the audio's clock.

**Why raw PCM** (`audio/L16;rate=16000`, RFC 2586) and not MediaRecorder's WebM pieces:
both recognisers take 16 kHz mono PCM; any PCM piece is audio on its own, so pieces
can be put in order, deduplicated and fed as they come; a WebM piece after the first
has no header and only decodes as part of the whole, so each new piece would mean
decoding the recording from its start again (the page records PCM with an
AudioWorklet). WebM is refused with 415 and this reason.

**What each recogniser gives:** Korean, Vosk's recogniser takes the audio as it comes
and gives its partial text natively (an utterance it closes is stable). English,
faster-whisper over the audio not yet confirmed, again each second, with the local
agreement policy of ufal's whisper_streaming: the words two successive passes agree on
are confirmed (stable) and never read again. A model server (`STT=model`) streams
nothing here: the whole recording is sent when it ends, and only `done` comes.
"""

from __future__ import annotations

import json
import logging
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import numpy as np

from interview_app import problems
from interview_app.coaching.analysis import fillers_in
from interview_app.coaching.delivery import Word, units
from interview_app.coaching.interview import CutIn
from interview_app.coaching.request import Language
from interview_app.speech import offload
from interview_app.speech.audio import RATE, Audio, find_speech, wav_bytes
from interview_app.speech.recognizers import PROMPT, Heard, OfflineRecognizer, Recognizer
from interview_app.speech.transcription import Transcript, transcript

log = logging.getLogger(__name__)

PCM_TYPE = "audio/l16"
PASS_SECONDS = 1.0  # new audio between two English passes
PAUSE_SECONDS = 0.3  # a gap between words where the English window may be cut
WHOLE_SECONDS = 15.0  # an English answer this short is read again whole when it ends
MAX_WINDOW_SECONDS = 20.0  # past this the English window is cut without a pause
MAX_PIECE_BYTES = 256 * 1024  # one piece: 8 s of 16 kHz 16-bit mono
MAX_AHEAD = 64  # pieces that may wait for an earlier one (16 s of quarter-second pieces)
TAKE_AT_ONCE = 64  # pieces taken from an inbox at a time


class TooFarAhead(Exception):
    """A piece numbered too far past the ones still missing."""


@dataclass(frozen=True)
class Piece:
    """One numbered piece of a session's audio; `end` marks the last."""

    seq: int
    data: bytes
    end: bool


class Inbox(Protocol):
    """Where a session's audio pieces wait for the worker that recognises them."""

    def put(self, piece: Piece) -> None: ...
    def take(self, wait: float) -> list[Piece]: ...
    def close(self) -> None: ...


class MemoryInbox:
    """This process's queue (one worker: every piece lands here)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Piece] = queue.Queue()

    def put(self, piece: Piece) -> None:
        self._queue.put(piece)

    def take(self, wait: float) -> list[Piece]:
        try:
            got = [self._queue.get(timeout=wait)]
        except queue.Empty:
            return []
        while not self._queue.empty() and len(got) < TAKE_AT_ONCE:
            got.append(self._queue.get_nowait())
        return got

    def close(self) -> None:
        pass


class RedisInbox:
    """A Redis list shared by every worker: the session's owner pops what any pushed."""

    def __init__(self, client: Any, session_id: str, ttl: int) -> None:
        self._redis, self._key, self._ttl = client, f"ia:live:{session_id}:audio", ttl

    def put(self, piece: Piece) -> None:
        head = f"{piece.seq}:{int(piece.end)}:".encode()
        pipe = self._redis.pipeline(transaction=False)
        pipe.rpush(self._key, head + piece.data)
        pipe.expire(self._key, self._ttl)
        pipe.execute()

    def take(self, wait: float) -> list[Piece]:
        got = self._redis.blpop([self._key], timeout=max(1, round(wait)))
        if not got:
            return []
        raw = [got[1], *(self._redis.lpop(self._key, TAKE_AT_ONCE - 1) or [])]
        out = []
        for item in raw:
            seq, end, data = item.split(b":", 2)
            out.append(Piece(int(seq), data, end == b"1"))
        return out

    def close(self) -> None:
        self._redis.delete(self._key)


class Live(Protocol):
    """A recogniser fed audio as it comes."""

    def feed(self, pcm: np.ndarray) -> tuple[str, str]:
        """Take more 16 kHz int16 audio; the text so far and its stable prefix."""
        ...

    def finish(self) -> list[Heard]:
        """The final text, as the pieces a one-shot recognition would have given."""
        ...


class VoskLive:
    """Korean: Vosk's own streaming recogniser (closed utterances are stable)."""

    def __init__(self, model: Any) -> None:
        import vosk

        self._rec = vosk.KaldiRecognizer(model, RATE)
        self._rec.SetWords(True)
        self._closed: list[Heard] = []
        self._partial = ""

    def _close(self, raw: str) -> None:
        result = json.loads(raw)
        text = result.get("text", "").strip()
        if text:
            words = [Word(w["word"], w["start"], w["end"]) for w in result.get("result", [])]
            self._closed.append(Heard((" " if self._closed else "") + text, words))

    def feed(self, pcm: np.ndarray) -> tuple[str, str]:
        data = pcm.tobytes()
        if offload.call(lambda: self._rec.AcceptWaveform(data)):
            self._close(self._rec.Result())
            self._partial = ""
        else:
            self._partial = json.loads(self._rec.PartialResult()).get("partial", "").strip()
        stable = "".join(h.text for h in self._closed)
        joint = " " if stable and self._partial else ""
        return stable + joint + self._partial, stable

    def finish(self) -> list[Heard]:
        self._close(offload.call(self._rec.FinalResult))
        return self._closed


def _letters(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalnum())


def agreed(before: list[Word], now: list[Word]) -> int:
    """How many leading words two passes agree on (by their letters, case aside)."""
    n = 0
    for a, b in zip(before, now, strict=False):
        if _letters(a.word) != _letters(b.word):
            break
        n += 1
    return n


class WhisperLive:
    """English: faster-whisper over the audio since the last pause it confirmed, each
    second; the words two passes agree on are confirmed (local agreement, as ufal's
    whisper_streaming). The window is only cut at a pause after confirmed words: cut at a
    word's end, the next pass lost the word that straddled it ("I traced the And I
    wrote" for "I traced the failures and I rewrote")."""

    def __init__(self, model: Any, prompt: str) -> None:
        self._model, self._prompt = model, prompt
        self._pcm = np.zeros(0, dtype=np.int16)
        self._kept: list[Word] = []  # confirmed, before the window
        self._window: list[Word] = []  # confirmed, inside the window
        self._since = 0.0  # where the window starts, in seconds
        self._last: list[Word] = []  # the last pass's words after the confirmed ones
        self._passed = 0  # samples when the last pass ran

    def _pass(self) -> list[Word]:
        start = int(self._since * RATE)
        piece = self._pcm[start:].astype(np.float32) / 32768.0
        if len(piece) < RATE // 2:
            return []
        transcribe = partial(
            self._model.transcribe, piece, language="en", beam_size=1, word_timestamps=True,
            vad_filter=False, condition_on_previous_text=False, initial_prompt=self._prompt,
        )  # fmt: skip
        segments, _ = offload.call(transcribe)
        said: list[Any] = offload.call(partial(list, segments))
        return [Word(w.word.strip(), round(float(w.start) + self._since, 3),
                     round(float(w.end) + self._since, 3))
                for s in said for w in (s.words or []) if w.word.strip()]  # fmt: skip

    @staticmethod
    def _text(words: list[Word]) -> str:
        return " ".join(w.word for w in words)

    def _cut(self, now: list[Word]) -> None:
        """Start the window after the last confirmed word followed by a pause."""
        for i in range(len(self._window) - 1, -1, -1):
            after = now[i + 1].start if i + 1 < len(now) else len(self._pcm) / RATE
            if after - self._window[i].end >= PAUSE_SECONDS:
                cut = (self._window[i].end + after) / 2
                self._kept += self._window[: i + 1]
                self._window = self._window[i + 1 :]
                self._last = [w for w in self._last if w.start >= cut]
                self._since = cut
                return

    def feed(self, pcm: np.ndarray) -> tuple[str, str]:
        self._pcm = np.concatenate([self._pcm, pcm])
        if len(self._pcm) - self._passed >= PASS_SECONDS * RATE:
            self._passed = len(self._pcm)
            now = self._pass()
            k = len(self._window)
            n = agreed(self._last, now[k:])
            # Confirmed words never change: only the agreed ones after them join.
            self._window = self._window + now[k : k + n]
            self._last = now[k + n :]
            self._cut(self._window + self._last)
            if len(self._pcm) / RATE - self._since > MAX_WINDOW_SECONDS and self._window:
                # No pause to cut at: cut after the confirmed words, or every pass would
                # read an ever longer window.
                self._kept += self._window
                self._since = self._window[-1].end
                self._window = []
        stable = self._text(self._kept + self._window)
        rest = self._text(self._last)
        return (stable + (" " if stable and rest else "") + rest), stable

    def finish(self) -> list[Heard]:
        """The final words. A short answer (up to `WHOLE_SECONDS`) is read again whole, in
        one pass, as the one-shot transcription reads it: its pieces, read in windows, had
        a higher word error rate on short clips ("I trace ... re -try" for "I traced ...
        retry"). A longer one: the words confirmed before the window, and a last pass over
        the window (cut at a pause, so it is short and no word is cut in two)."""
        if len(self._pcm) <= WHOLE_SECONDS * RATE:
            self._kept, self._since = [], 0.0
        words = self._kept + self._pass()
        return [Heard(self._text(words), words)] if words else []


class OneShot:
    """A model server (`STT=model`): nothing streams; the recording goes whole at the end."""

    def __init__(self, recognizer: Recognizer, language: Language) -> None:
        self._recognizer, self._language = recognizer, language
        self._pcm = np.zeros(0, dtype=np.int16)

    def feed(self, pcm: np.ndarray) -> tuple[str, str]:
        self._pcm = np.concatenate([self._pcm, pcm])
        return "", ""

    def finish(self) -> list[Heard]:
        audio = Audio(self._pcm, len(self._pcm) / RATE, find_speech(self._pcm))
        pieces = self._recognizer.recognise(audio, wav_bytes(audio), "audio/wav", self._language)
        try:
            return list(pieces)
        finally:
            pieces.close()


def live_for(recognizer: Recognizer, language: Language) -> Live:
    """A live recogniser of `language` by `recognizer`'s kind."""
    if isinstance(recognizer, OfflineRecognizer):
        model = recognizer.load(language)
        return WhisperLive(model, PROMPT["en"]) if language == "en" else VoskLive(model)
    return OneShot(recognizer, language)


@dataclass
class Session:
    """One live transcription: its pieces put in order, its recogniser fed, its events."""

    id: str
    language: Language
    live: Live
    emit: Callable[[str, dict[str, Any]], bool]  # a named event into its stream
    finish: Callable[[str, dict[str, Any]], bool]  # its terminal event
    inbox: Inbox
    source: str
    model: str
    long_pause: float
    max_seconds: float
    idle_seconds: float
    released: Callable[[], None]
    cut_in: CutIn | None = None  # when the interviewer cuts the answer short
    checked: int = 0  # the audio's whole seconds when the cut-in was last checked
    pcm: list[np.ndarray] = field(default_factory=list)
    samples: int = 0
    next_seq: int = 0
    waiting: dict[int, Piece] = field(default_factory=dict)
    last_seq: int | None = None
    partial: tuple[str, str] = ("", "")
    stopped: bool = False
    reported: int = 0  # pieces of `pcm` already searched for speech
    reported_samples: int = 0
    speaking: float = 0.0
    speech_end: float = 0.0

    def stop(self) -> None:
        """Its stream ended from outside (nobody read it, or shutdown): stop at once."""
        self.stopped = True

    def run(self) -> None:
        """Feed the pieces as they come until the last one, then `done` (in a greenlet)."""
        heard_at = time.monotonic()
        told = 0.0
        try:
            while not self.stopped:
                got = self.inbox.take(0.25)
                if self.stopped:
                    return
                now = time.monotonic()
                if got:
                    heard_at = now
                elif now - heard_at > self.idle_seconds:
                    self.finish("error", problems.LIVE_ABANDONED.event())
                    return
                fresh = self._order(got)
                if fresh is not None:
                    if self.samples / RATE > self.max_seconds:
                        self.finish("error", problems.AUDIO_TOO_LONG.event())
                        return
                    said = self.live.feed(fresh)
                    if said != self.partial:
                        self.partial = said
                        if not self.emit("partial", {"text": said[0], "stable": said[1]}):
                            return  # the stream ended from outside (nobody read it)
                    if not self._interrupt():
                        return
                if now - told >= 1.0 and self.samples:
                    told = now
                    if not self.emit("delivery", self._so_far()):
                        return
                if self.last_seq is not None and self.next_seq > self.last_seq:
                    found = self._done()
                    self.finish("done", found.as_done())
                    return
        except TooFarAhead:
            self._end(problems.LIVE_OUT_OF_ORDER)
        except Exception as exc:  # the session ends cleanly, whatever broke
            log.warning("live transcription failed", extra={"error": type(exc).__name__})
            self._end(problems.LIVE_FAILED)
        finally:
            try:
                self.inbox.close()
            except Exception:  # Redis down: its list expires by itself
                log.warning("live transcription inbox not closed")
            finally:
                self.released()  # the slot and the ticket come back whatever happened

    def _interrupt(self) -> bool:
        """Tell the interviewer's cut-in once it is due, checked once per second of audio
        (by the audio's clock, not the wall's: pieces may come faster than they were said;
        the rubric's reading of the text so far costs about half a millisecond); False if
        the stream ended from outside."""
        if self.cut_in is None or self.samples // RATE <= self.checked:
            return True
        if self.last_seq is not None:
            return True  # the candidate has stopped: nothing left to cut short
        self.checked = self.samples // RATE
        try:
            due = self.cut_in.due(self.partial[0], self.samples / RATE)
        except Exception:  # the transcription matters more than the cut-in
            log.warning("cut-in check failed: no cut-in for this answer")
            self.cut_in = None
            return True
        if due is None:
            return True
        self.cut_in = None  # once per answer
        return self.emit("interrupt", {"reason": due.reason, "text": due.text,
                                       "seconds": due.seconds})  # fmt: skip

    def _end(self, problem: problems.Problem) -> None:
        try:
            self.finish("error", problem.event())
        except Exception:  # the store is down too: its readers end on the lost lease
            log.warning("live transcription not ended in its stream")

    def _order(self, got: list[Piece]) -> np.ndarray | None:
        """The new audio that is now in order (a piece seen before is dropped; one ahead of
        its turn waits for those before it, at most `MAX_AHEAD` of them: pieces numbered
        ever further ahead would otherwise grow the session's memory without end)."""
        for piece in got:
            if piece.seq >= self.next_seq + MAX_AHEAD:
                raise TooFarAhead(piece.seq)
            if piece.seq >= self.next_seq and piece.seq not in self.waiting:
                self.waiting[piece.seq] = piece
        fresh = []
        while self.next_seq in self.waiting:
            piece = self.waiting.pop(self.next_seq)
            if piece.end:
                self.last_seq = piece.seq
            if piece.data:
                fresh.append(np.frombuffer(piece.data[: len(piece.data) // 2 * 2], dtype="<i2"))
            self.next_seq += 1
        if not fresh:
            return None
        pcm = np.concatenate(fresh).astype(np.int16)
        self.pcm.append(pcm)
        self.samples += len(pcm)
        return pcm

    def _so_far(self) -> dict[str, Any]:
        """Pace, fillers and the current silence, so far. Speech is found in the audio since
        the last report only (each second), off the hub: over the whole recording it was
        quadratic in the answer's length."""
        new = self.pcm[self.reported :]
        self.reported = len(self.pcm)
        offset = self.reported_samples
        self.reported_samples = self.samples
        spans = offload.call(lambda: find_speech(np.concatenate(new))) if new else []
        for a, b in spans:
            self.speaking += b - a
            self.speech_end = offset / RATE + b
        seconds = self.samples / RATE
        text = self.partial[0]
        rate = (
            round(units(text, self.language) / self.speaking * 60, 1) if self.speaking > 1 else 0.0
        )
        unit = "syllables_per_minute" if self.language == "ko" else "words_per_minute"
        return {
            "seconds": round(seconds, 2),
            "speaking_seconds": round(self.speaking, 2),
            "rate": rate,
            "unit": unit,
            "filler_words": len(fillers_in(text, self.language)),
            "silence_seconds": round(seconds - self.speech_end, 2),
        }

    def _done(self) -> Transcript:
        pcm = np.concatenate(self.pcm) if self.pcm else np.zeros(0, dtype=np.int16)
        audio = Audio(pcm, len(pcm) / RATE, offload.call(lambda: find_speech(pcm)))
        heard = self.live.finish() if audio.speech else []
        return transcript(heard, audio, self.language, source=self.source, model=self.model,
                          long_pause=self.long_pause)  # fmt: skip
