"""Spoken test fixtures the tests make themselves: espeak-ng speaks known text, sox
resamples and inserts known silences, ffmpeg encodes WebM/Opus as Chromium records it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def speak(text: str, out: Path, voice: str = "en-us", speed: int = 165) -> Path:
    """`text` spoken by espeak-ng, as 16 kHz mono 16-bit WAV."""
    raw = out.with_suffix(".raw.wav")
    _run("espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text)
    _run("sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out))
    raw.unlink()
    return out


def silence(seconds: float, out: Path) -> Path:
    """`seconds` of digital silence, 16 kHz mono 16-bit WAV."""
    _run("sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(out), "trim", "0", str(seconds))
    return out


def noise(seconds: float, out: Path) -> Path:
    """`seconds` of quiet pink noise (a room, a fan): no speech in it."""
    _run("sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(out), "synth", str(seconds),
         "pinknoise", "vol", "0.05")  # fmt: skip
    return out


def join(parts: list[Path], out: Path) -> Path:
    """The WAVs one after another."""
    _run("sox", *map(str, parts), str(out))
    return out


def seconds(path: Path) -> float:
    """How long a recording is."""
    found = subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True)
    return float(found.stdout)


def webm(wav: Path, out: Path) -> Path:
    """The WAV as WebM/Opus, as MediaRecorder makes it in Chromium."""
    _run("ffmpeg", "-y", "-loglevel", "error", "-i", str(wav), "-c:a", "libopus", "-b:a", "32k",
         str(out))  # fmt: skip
    return out


def words(text: str) -> list[str]:
    """Lowercase words without punctuation, for comparing transcripts."""
    return re.findall(r"[a-z0-9']+|[가-힣]+", text.lower())


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: edits (substitutions, insertions, deletions) over reference words."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[-1] / max(1, len(ref))


def microphone(text: str, folder: Path) -> Path:
    """What Chromium's fake microphone plays: a short lead silence, `text` spoken, a pause."""
    said = speak(text, folder / "said.wav")
    lead, end = silence(0.8, folder / "lead.wav"), silence(0.5, folder / "end.wav")
    return join([lead, said, end], folder / "mic.wav")
