"""A recording as the recognisers need it: decoded by PyAV to 16 kHz mono 16-bit PCM, its
length, and where in it someone speaks.

Speech is found before anything is recognised, so silence or noise ends with no
text rather than the words Whisper-family models invent over it ("Thank you.",
"시청해주셔서 감사합니다"). With the offline packages installed the detector is Silero
VAD (shipped inside faster-whisper, run by onnxruntime); without them, an energy
threshold over 30 ms frames.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass

import av
import numpy as np

RATE = 16_000
TYPES = ("audio/webm", "audio/ogg", "audio/wav", "audio/x-wav", "audio/wave", "audio/mp4",
         "audio/mpeg")  # fmt: skip
EXTENSIONS = {"audio/webm": "webm", "audio/ogg": "ogg", "audio/wav": "wav", "audio/x-wav": "wav",
              "audio/wave": "wav", "audio/mp4": "mp4", "audio/mpeg": "mp3"}  # fmt: skip
# The demuxers of those types, and only those. FFmpeg picks a demuxer from the bytes, and
# some (concat, hls, sdp, rtp, image2...) open other files or sockets that the bytes name:
# an ffconcat playlist uploaded as audio/ogg made the server transcribe its own files, an
# SDP description bound UDP ports. Probing is limited to these, and nothing the demuxer
# may ask for is opened (`protocol_whitelist` empty: the upload's bytes come through
# PyAV's own reader, which is not a protocol).
DEMUXERS = frozenset({"matroska", "webm", "ogg", "wav", "mov", "mp4", "m4a", "3gp", "3g2",
                      "mj2", "mp3"})  # fmt: skip
_OPEN_OPTIONS = {"format_whitelist": ",".join(sorted(DEMUXERS)), "protocol_whitelist": ""}
# What Whisper-family models write over silence or noise; dropped when no speech was found.
HALLUCINATIONS = {
    "thank you", "thanks for watching", "thank you for watching", "you", "bye",
    "시청해주셔서 감사합니다", "감사합니다", "구독과 좋아요 부탁드립니다", "mbc 뉴스",
}  # fmt: skip


class Unreadable(Exception):
    """The bytes are not audio we can decode."""


class TooLong(Exception):
    """The recording is longer than allowed."""


@dataclass(frozen=True)
class Audio:
    """A decoded recording."""

    pcm: np.ndarray  # int16 samples at 16 kHz, mono
    seconds: float
    speech: list[tuple[float, float]]  # spans of speech, in seconds

    @property
    def float32(self) -> np.ndarray:
        return self.pcm.astype(np.float32) / 32768.0


def decode(data: bytes, max_seconds: float) -> Audio:
    """Decode `data` (webm/opus, ogg, wav, mp4/aac, mp3) or raise `Unreadable` / `TooLong`."""
    parts: list[np.ndarray] = []
    total = 0
    try:
        with av.open(io.BytesIO(data), mode="r", options=_OPEN_OPTIONS) as container:
            if not set(container.format.name.split(",")) <= DEMUXERS:
                raise Unreadable("not an accepted container")
            streams = container.streams.audio
            if not streams:
                raise Unreadable("no audio stream")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            for packet in container.demux(streams[0]):
                for raw in packet.decode():
                    for frame in resampler.resample(raw):
                        samples = frame.to_ndarray().reshape(-1)
                        parts.append(samples)
                        total += len(samples)
                        if total > max_seconds * RATE:
                            raise TooLong(f"longer than {max_seconds:g} s")
            for frame in resampler.resample(None):
                parts.append(frame.to_ndarray().reshape(-1))
    except (TooLong, Unreadable):
        raise
    except (av.FFmpegError, ValueError, IndexError, MemoryError) as exc:
        raise Unreadable(type(exc).__name__) from None
    pcm = np.concatenate(parts).astype(np.int16) if parts else np.zeros(0, np.int16)
    if not len(pcm):
        raise Unreadable("no samples")
    seconds = len(pcm) / RATE
    return Audio(pcm, seconds, find_speech(pcm))


def no_telemetry() -> None:
    """Keep onnxruntime (Silero VAD's runtime, imported with faster-whisper) from keeping a
    device id and a telemetry queue under `~/.cache/Microsoft/DeveloperTools/` on every
    import: its documented opt-out, read once when it loads (an operator's own value wins)."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def find_speech(pcm: np.ndarray) -> list[tuple[float, float]]:
    """Spans of speech in 16 kHz int16 `pcm`, in seconds."""
    if not len(pcm):
        return []
    no_telemetry()
    try:
        from faster_whisper.vad import VadOptions, get_speech_timestamps
    except ImportError:
        return _energy_spans(pcm)
    options = VadOptions(min_silence_duration_ms=300, speech_pad_ms=60)
    found = get_speech_timestamps(pcm.astype(np.float32) / 32768.0, options)
    return [(round(s["start"] / RATE, 3), round(s["end"] / RATE, 3)) for s in found]


def _energy_spans(pcm: np.ndarray) -> list[tuple[float, float]]:
    frame = RATE * 30 // 1000
    usable = len(pcm) // frame * frame
    if not usable:
        return []
    frames = pcm[:usable].astype(np.float32).reshape(-1, frame) / 32768.0
    loud = np.sqrt((frames**2).mean(axis=1)) > 10 ** (-40 / 20)  # -40 dBFS
    spans: list[tuple[float, float]] = []
    for i, on in enumerate(loud):
        t = i * 0.03
        if on and spans and t - spans[-1][1] < 0.3:
            spans[-1] = (spans[-1][0], t + 0.03)
        elif on:
            spans.append((t, t + 0.03))
    return [(a, b) for a, b in spans if b - a >= 0.2]


def wav_bytes(audio: Audio) -> bytes:
    """The decoded recording as a 16 kHz mono WAV (what a model server is sent when the
    original container is one it may not take)."""
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(audio.pcm.tobytes())
    return out.getvalue()


_SENTENCE = re.compile(r"[^.!?。？！]+[.!?。？！]*\s*")


def without_repeats(text: str) -> str:
    """`text` with a sentence said three or more times in a row kept once: what a model
    writes when it invents over audio it cannot read (an English-only model asked for
    Korean wrote one sentence three times), however long the speech."""
    sentences = _SENTENCE.findall(text)
    if "".join(sentences) != text:
        return text
    out: list[str] = []
    run = 1
    for i, sentence in enumerate(sentences):
        key = sentence.strip().lower()
        same = i > 0 and key == sentences[i - 1].strip().lower()
        run = run + 1 if same else 1
        if not same:
            out.append(sentence)
        elif run == 2:
            out.append(sentence)  # said twice may be the candidate's emphasis
        elif run == 3:
            out.pop()  # three times or more: once
    kept = "".join(out)
    return kept if text[-1:].isspace() else kept.rstrip()


def is_hallucination(text: str) -> bool:
    """Whether `text` is one of the phrases models write over silence."""
    cleaned = "".join(c for c in text.lower() if c.isalnum() or c.isspace()).strip()
    return cleaned in HALLUCINATIONS
