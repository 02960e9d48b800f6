"""What a transcription found (`speech/transcription.py`): the policy that left the view."""

from __future__ import annotations

import numpy as np

from interview_app.coaching.delivery import Word
from interview_app.speech.audio import Audio
from interview_app.speech.recognizers import Heard
from interview_app.speech.transcription import transcript


def _audio(seconds: float, speech: list[tuple[float, float]]) -> Audio:
    return Audio(np.zeros(int(seconds * 16000), dtype=np.int16), seconds, speech)


def _made(heard: list[Heard], audio: Audio, language: str = "en") -> dict[str, object]:
    found = transcript(heard, audio, language,  # type: ignore[arg-type]
                       source="offline", model="m", long_pause=1.5)  # fmt: skip
    return found.as_done()


def test_the_done_shape_is_todays() -> None:
    words = [Word("I", 0.5, 0.7), Word("led", 0.8, 1.0), Word("it.", 1.1, 1.3)]
    done = _made([Heard("I led it.", words)], _audio(2.0, [(0.5, 1.3)]))
    assert set(done) == {"text", "language", "duration_seconds", "no_speech", "source", "model",
                         "words", "delivery", "language_mismatch", "language_heard"}  # fmt: skip
    assert done["text"] == "I led it." and done["no_speech"] is False
    assert done["words"] == [{"word": "I", "start": 0.5, "end": 0.7},
                             {"word": "led", "start": 0.8, "end": 1.0},
                             {"word": "it.", "start": 1.1, "end": 1.3}]  # fmt: skip


def test_what_models_write_over_silence_is_not_the_candidates() -> None:
    done = _made([Heard("Thank you for watching.", None)], _audio(3.0, [(1.0, 1.4)]))
    assert done["text"] == "" and done["no_speech"] is True


def test_a_repeated_sentence_is_kept_once_and_loses_its_times() -> None:
    said = "It went well. It went well. It went well."
    done = _made([Heard(said, [Word("It", 0.1, 0.2)])], _audio(9.0, [(0.0, 8.0)]))
    assert done["text"] == "It went well." and done["words"] is None


def test_another_language_heard_is_flagged() -> None:
    done = _made([Heard("Hello there.", None, "english")], _audio(2.0, [(0.0, 2.0)]), "ko")
    assert done["language_mismatch"] is True and done["language_heard"] == "en"
