"""The offline English recogniser on real faster-whisper: windows cut in silences, so no
word is cut in two at 15 s, and what Whisper invents over a short window is dropped
(issue 31, item 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from interview_app.speech.audio import decode
from interview_app.speech.recognizers import OfflineRecognizer, invented, windows
from tests.helpers import voice

LEAD = (
    "I was asked to fix our release process. I traced every failed deploy, I rewrote the "
    "retry logic, and I added a check before each release. In the end the team agreed."
)


@pytest.fixture(scope="module")
def across_fifteen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Speech, a pause, then "forty two thousand users" starting just before 15.0 s."""
    d = tmp_path_factory.mktemp("fifteen")
    lead = voice.speak(LEAD, d / "lead.wav", speed=175)
    assert voice.seconds(lead) < 14.4, voice.seconds(lead)
    gap = voice.silence(14.75 - voice.seconds(lead), d / "gap.wav")
    tail = voice.speak("forty two thousand users signed up.", d / "tail.wav")
    return voice.join([lead, gap, tail], d / "across.wav")


def test_a_word_at_fifteen_seconds_is_not_cut_in_two(across_fifteen: Path) -> None:
    audio = decode(across_fifteen.read_bytes(), 600)
    heard = list(OfflineRecognizer().recognise(audio, b"", "audio/wav", "en"))
    said = voice.words("".join(h.text for h in heard))
    # Whisper's fixed 15 s windows wrote "fordit." here in 8 of 8 runs.
    assert "forty" in said or "42" in said, said  # "42,000" is fine too
    assert "thousand" in said or "000" in said, said
    times = [w.start for h in heard for w in h.words or []]
    assert times == sorted(times) and times[-1] > 14.5  # times are the recording's


def test_windows_are_cut_in_silences_and_never_longer_than_fifteen_seconds() -> None:
    speech = [(0.5, 6.0), (6.4, 13.9), (14.75, 17.0), (17.3, 40.0)]
    cut = windows(speech, 41.0)
    assert all(b - a <= 15.0 + 1e-9 for a, b in cut), cut
    for a, b in speech:  # a span is never split unless it is longer than a window
        if b - a <= 15.0:
            assert any(x <= a and b <= y for x, y in cut), (a, b, cut)
    assert cut[0] == (0.3, 14.1)


@pytest.mark.parametrize(
    ("text", "speaking", "dropped"),
    [
        (" Subs by www.zeoranger.co.uk", 0.6, True),
        (" Thank you.", 0.8, True),
        (" Thank you.", 5.0, False),
        (" I joined www.example.com as an engineer and led the migration.", 4.0, False),
        (" Good, I led it.", 0.9, False),
    ],
)
def test_what_whisper_writes_over_a_short_window_is_dropped(
    text: str, speaking: float, dropped: bool
) -> None:
    assert invented(text, speaking) is dropped
