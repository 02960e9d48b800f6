"""What a transcription found, typed: the `Transcript` of a recording, made from the pieces
its recogniser heard (after faster-whisper's `(segments, info)`: the pieces as they come,
then one result).

The policy lives here, not in the view that streams it (`web/speech.py` held it): what
models write over near-silence is not the candidate's ("Thank you for watching."), a
repeated tail is cut once, a server that says it heard another language than the one
asked for is flagged, and the delivery figures are measured from the words' times where
the recogniser gave them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from interview_app.coaching.delivery import Word, delivery
from interview_app.coaching.request import Language
from interview_app.speech.audio import Audio, is_hallucination, without_repeats
from interview_app.speech.recognizers import Heard, language_code


@dataclass(frozen=True)
class Transcript:
    """A recording's text, its words' times (None where not all were timed), its delivery."""

    text: str
    language: Language
    duration_seconds: float
    words: tuple[Word, ...] | None
    delivery: dict[str, Any] | None  # None when nothing was said
    source: str  # "model" or "offline"
    model: str
    language_heard: str | None  # another language the server said it heard

    @property
    def no_speech(self) -> bool:
        return not self.text.strip()

    def as_done(self) -> dict[str, Any]:
        """The `done` event of `POST /api/transcriptions` (its published shape)."""
        return {
            "text": self.text,
            "language": self.language,
            "duration_seconds": round(self.duration_seconds, 2),
            "no_speech": self.no_speech,
            "source": self.source,
            "model": self.model,
            "words": None
            if self.words is None
            else [{"word": w.word, "start": w.start, "end": w.end} for w in self.words],
            "delivery": self.delivery,
            # The server said it heard another language than the one asked for: the text
            # is likely invented (an English-only model asked for Korean).
            "language_mismatch": self.language_heard is not None,
            "language_heard": self.language_heard,
        }


def _mismatch(heard: Sequence[Heard], language: Language) -> str | None:
    """The language a server said it heard, when it is not the one asked for."""
    for piece in heard:
        code = language_code(piece.language)
        if code and code != language:
            return code
    return None


def transcript(
    heard: Sequence[Heard],
    audio: Audio,
    language: Language,
    *,
    source: str,
    model: str,
    long_pause: float,
) -> Transcript:
    """The transcript of `audio` from the pieces its recogniser heard, in order."""
    text = "".join(h.text for h in heard)
    timed = all(h.words is not None for h in heard)
    words = [w for h in heard for w in (h.words or [])]
    speaking = sum(b - a for a, b in audio.speech)
    if text and speaking < 1.0 and is_hallucination(text):
        text, words = "", []  # what models write over near-silence, not the candidate
    kept = without_repeats(text)
    if kept != text:
        text, timed = kept, False  # the word times were of the repeated text too
    figures = delivery(text, language, words=words if timed and words else None,
                       speech=audio.speech, long_pause=long_pause)  # fmt: skip
    return Transcript(
        text=text,
        language=language,
        duration_seconds=audio.seconds,
        words=tuple(words) if timed and words else None,
        delivery=figures,
        source=source,
        model=model,
        language_heard=_mismatch(heard, language),
    )
