"""The voice benchmark: what each offline model costs, and transcriptions under load.

`python -m bench.voice` (run by `scripts/bench` after the relay benchmark) measures,
on this machine:
- each offline model's load: the RSS it adds to a fresh process, its load time, and
  its real-time factor (CPU seconds per second of audio) on a 30 s spoken recording;
- transcriptions through the Procfile's gunicorn + gevent: N recordings of 30 s sent
  at once, time to the final text p50 / p99, by the model path (the local
  OpenAI-compatible server, which answers at once: the service's own cost) and the
  offline path (one worker, `MAX_TRANSCRIPTIONS` at a time, the rest queued by
  their clients' retries after 503);
- live transcriptions (`/api/transcriptions/live`): 4 and 8 sessions at once, each
  posting a 60 s recording in quarter-second PCM pieces at the pace it is spoken, in
  each language: from the last piece to the final text p50 / p95, how long a posted
  piece with speech in it waits for the next `partial` event (p95), the worker's CPU
  per second of audio, and the longest gap between two tokens of 20 coaching streams
  the same worker relays meanwhile.
It writes `docs/benchmarks-voice.md`. `--smoke` runs tiny loads (the test suite).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from bench.run import BIN, PY, ROOT, Tree, free_port, part_args, procfile_command, wait_port

TEXT = (
    "In short I cut our checkout errors by sixty percent in six weeks. Our payment page "
    "failed for one order in twenty and my task was to find out why. I traced the failures, "
    "I rewrote the retry logic and I added alerts. As a result the errors fell and refunds "
    "dropped by a third."
)


def recording(seconds: float, folder: Path, text: str = TEXT, voice: str = "en-us") -> Path:
    """About `seconds` of espeak speech (English by default), 16 kHz mono WAV."""
    said, gap = folder / f"said-{voice}.wav", folder / "gap.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-w", str(folder / "raw.wav"), text],
                   check=True)  # fmt: skip
    subprocess.run(["sox", str(folder / "raw.wav"), "-r", "16000", "-c", "1", "-b", "16",
                    str(said)], check=True)  # fmt: skip
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(gap), "trim", "0",
                    "0.5"], check=True)  # fmt: skip
    one = float(subprocess.run(["soxi", "-D", str(said)], capture_output=True, text=True,
                               check=True).stdout) + 0.5  # fmt: skip
    parts = [str(said), str(gap)] * max(1, round(seconds / one))
    out = folder / f"answer-{voice}-{seconds:g}.wav"
    # Cut to `seconds` when the text alone is longer (a smoke run's short recording).
    subprocess.run(["sox", *parts, str(out), "trim", "0", f"{seconds:g}"], check=True)
    return out


_MODEL_PROBE = """
import json, os, resource, sys, time
import psutil
from interview_app.speech.audio import decode
from interview_app.speech.recognizers import OfflineRecognizer
language, path = sys.argv[1], sys.argv[2]
me = psutil.Process()
audio = decode(open(path, "rb").read(), 3600)
rss0 = me.memory_info().rss
t0 = time.monotonic()
recogniser = OfflineRecognizer()
recogniser.load(language)
loaded = time.monotonic() - t0
rss1 = me.memory_info().rss
cpu0 = sum(me.cpu_times()[:2])
t1 = time.monotonic()
text = "".join(h.text for h in recogniser.recognise(audio, b"", "audio/wav", language))
wall = time.monotonic() - t1
cpu = sum(me.cpu_times()[:2]) - cpu0
print(json.dumps({"language": language, "model": recogniser.model(language),
                  "rss_mb": (rss1 - rss0) / 2**20, "load_s": loaded, "audio_s": audio.seconds,
                  "cpu_s": cpu, "wall_s": wall, "words": len(text.split())}))
"""


def model_costs(wav: Path) -> list[dict[str, Any]]:
    """Each offline model in a fresh process: RSS added, load time, real-time factor."""
    rows = []
    for language in ("en", "ko"):
        out = subprocess.run([PY, "-c", _MODEL_PROBE, language, str(wav)], cwd=ROOT,
                             capture_output=True, text=True, check=True)  # fmt: skip
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows


def _transcribe(port: int, data: bytes) -> float:
    """Seconds from sending to the final text (retried after 503 as a client would)."""
    import http.client

    started = time.monotonic()
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.request("POST", "/api/transcriptions?language=en", data,
                     {"Content-Type": "audio/wav"})  # fmt: skip
        response = conn.getresponse()
        body = response.read()
        conn.close()
        if response.status == 503:
            time.sleep(float(response.getheader("Retry-After") or 1) / 4)
            continue
        if response.status != 200 or b"event: done" not in body:
            raise RuntimeError(f"transcription failed: {response.status} {body[-200:]!r}")
        return time.monotonic() - started


def under_load(path: str, wav: Path, count: int) -> dict[str, Any]:
    """`count` recordings at once through gunicorn + gevent, by `path` (model or offline)."""
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", "")}
    port, up_port = free_port(), free_port()
    upstream = None
    relay_env = {**env, "PORT": str(port), "HISTORY": "off", "RATE_LIMIT_PER_MINUTE": "0",
                 "MAX_STREAMS_PER_CLIENT": "0", "STT": path}  # fmt: skip
    if path == "model":
        upstream = Tree([PY, "-m", "tests.helpers.fakes", "--port", str(up_port)], env)
        wait_port(up_port)
        relay_env.update(OPENAI_BASE_URL=f"http://127.0.0.1:{up_port}/v1",
                         OPENAI_API_KEY="unused", MAX_TRANSCRIPTIONS=str(count))  # fmt: skip
    server = Tree(procfile_command(), relay_env)
    data = wav.read_bytes()
    try:
        wait_port(port)
        _transcribe(port, data)  # warm: the offline model loads once per worker
        with ThreadPoolExecutor(count) as pool:
            times = sorted(pool.map(lambda _: _transcribe(port, data), range(count)))
    finally:
        server.stop()
        if upstream is not None:
            upstream.stop()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    return {"path": path, "recordings": count, "p50": statistics.median(times), "p99": p99}


_KO_TEXT = (
    "결론부터 말씀드리면 제가 결제 오류를 육십 퍼센트 줄였습니다. 결제 페이지가 주문 스무 건 중 "
    "한 건꼴로 실패했고 제 역할은 원인을 찾는 것이었습니다. 제가 실패한 요청을 추적하고 재시도 "
    "로직을 다시 작성했습니다. 그 결과 오류가 줄고 환불이 삼분의 일 줄었습니다."
)


def _pcm(wav: Path) -> bytes:
    import wave

    with wave.open(str(wav)) as w:
        return w.readframes(w.getnframes())


def _live_session(port: int, language: str, pcm: bytes) -> dict[str, float]:
    """One live transcription at the pace of speech: its stop-to-final time and the wait
    of each posted piece for the next `partial` event."""
    import threading

    import httpx

    base = f"http://127.0.0.1:{port}"
    while True:
        created = httpx.post(f"{base}/api/transcriptions/live?language={language}", timeout=60)
        if created.status_code != 503:
            break
        time.sleep(0.2)
    session = created.json()
    partials: list[float] = []
    ended = threading.Event()
    final_at: list[float] = []

    def read() -> None:
        with httpx.stream("GET", base + session["events"], timeout=600) as response:
            for line in response.iter_lines():
                if line == "event: partial":
                    partials.append(time.monotonic())
                elif line in ("event: done", "event: error"):
                    final_at.append(time.monotonic())
                    ended.set()
                    return

    threading.Thread(target=read, daemon=True).start()
    piece = 8000  # a quarter second
    posted: list[float] = []
    start = time.monotonic()
    with httpx.Client(timeout=60) as client:
        for i in range(0, len(pcm), piece):
            seq = i // piece
            client.post(f"{base}{session['audio']}?seq={seq}", content=pcm[i : i + piece],
                        headers={"Content-Type": "audio/L16;rate=16000"})  # fmt: skip
            posted.append(time.monotonic())
            time.sleep(max(0.0, start + (seq + 1) * 0.25 - time.monotonic()))
        last = time.monotonic()
        client.post(f"{base}{session['audio']}?seq={len(posted)}&end=1",
                    headers={"Content-Type": "audio/L16;rate=16000"})  # fmt: skip
    ended.wait(600)
    # Only pieces with speech in them: a piece of silence brings no new text to wait for.
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float32)
    loud = [float(np.sqrt(np.mean(samples[i : i + piece // 2] ** 2))) > 300
            for i in range(0, len(samples), piece // 2)]  # fmt: skip
    waits = [min((p for p in partials if p >= t), default=t) - t
             for t, said in zip(posted, loud, strict=False) if said] or [0.0]  # fmt: skip
    return {"final": final_at[0] - last if final_at else float("inf"),
            "partial_wait": sorted(waits)[int(0.95 * (len(waits) - 1))]}  # fmt: skip


def _text_streams(port: int, count: int, until: Any) -> list[float]:
    """`count` text streams (`/api/answer`, the offline coach at its pace) read on the
    same worker, each begun again when it ends, until `until` is set: the longest wait
    between two tokens of one stream, per stream."""
    import threading

    import httpx

    gaps = [0.0] * count

    def read(i: int) -> None:
        try:
            keep_reading(i)
        except httpx.HTTPError:
            pass  # the server stopped under it, at the end

    def keep_reading(i: int) -> None:
        while not until.is_set():
            body = {"question": "Tell me about a time you failed."}
            with httpx.stream("POST", f"http://127.0.0.1:{port}/api/answer", json=body,
                              timeout=60) as response:  # fmt: skip
                last = None
                for line in response.iter_lines():
                    if not line.startswith("data:") or until.is_set():
                        continue
                    now = time.monotonic()
                    if last is not None:
                        gaps[i] = max(gaps[i], now - last)
                    last = now

    threads = [threading.Thread(target=read, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    return gaps


def live_load(language: str, wav: Path, sessions: int, text_streams: int = 20) -> dict[str, Any]:
    """`sessions` live transcriptions at once through gunicorn + gevent (one worker), with
    `text_streams` coaching streams relayed by the same worker meanwhile."""
    import threading

    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", "")}
    port = free_port()
    relay_env = {**env, "PORT": str(port), "HISTORY": "off", "RATE_LIMIT_PER_MINUTE": "0",
                 "MAX_STREAMS_PER_CLIENT": "0", "STT": "offline",
                 "OFFLINE_TOKENS_PER_SECOND": "20",
                 "MAX_TRANSCRIPTIONS": str(sessions)}  # fmt: skip
    server = Tree(procfile_command(), relay_env)
    pcm = _pcm(wav)
    over = threading.Event()
    try:
        wait_port(port)
        _live_session(port, language, pcm[: 16000 * 2 * 2])  # warm: the model loads
        gaps = _text_streams(port, text_streams, over)
        time.sleep(1.0)  # the text streams under way
        cpu0 = server.cpu()
        with ThreadPoolExecutor(sessions) as pool:
            rows = list(pool.map(lambda _: _live_session(port, language, pcm), range(sessions)))
        cpu = server.cpu() - cpu0
        over.set()
    finally:
        over.set()
        server.stop()
    finals = sorted(r["final"] for r in rows)
    audio = len(pcm) / 32000 * sessions
    return {
        "language": language,
        "sessions": sessions,
        "p50": statistics.median(finals),
        "p95": finals[int(0.95 * (len(finals) - 1))],
        "partial_p95": max(r["partial_wait"] for r in rows),
        "cpu_per_audio_s": cpu / audio,
        "text_streams": text_streams,
        "text_gap": max(gaps, default=0.0),
    }


def report(
    costs: list[dict[str, Any]],
    loads: list[dict[str, Any]],
    seconds: float,
    lives: list[dict[str, Any]] | None = None,
    live_seconds: float = 0.0,
) -> str:
    lines = [
        "# Voice benchmarks",
        "",
        "Made by `scripts/bench` (`python -m bench.voice`) on this project's 2-core machine.",
        f"Spoken fixture: espeak-ng English, {seconds:g} s per recording.",
        "",
        "## Offline models (each in a fresh process, one thread)",
        "",
        "| model | RSS added | load | CPU per second of audio | faster than real time |",
        "|---|---|---|---|---|",
    ]
    for c in costs:
        rtf = c["cpu_s"] / c["audio_s"]
        lines.append(f"| {c['model']} ({c['language']}) | {c['rss_mb']:.0f} MB | "
                     f"{c['load_s']:.1f} s | {rtf:.3f} s | {1 / rtf:.1f}x |")  # fmt: skip
    lines += ["", "## Transcriptions at once, through gunicorn + gevent (one worker)", ""]
    lines += ["| path | recordings at once | time to final text p50 / p99 |", "|---|---|---|"]
    for row in loads:
        lines.append(f"| {row['path']} | {row['recordings']} | {row['p50']:.2f} s / "
                     f"{row['p99']:.2f} s |")  # fmt: skip
    lines += ["", "The model path's server (the local fake) answers at once: its figures are the",
              "service's own cost. Offline, `MAX_TRANSCRIPTIONS` (2) run at once per worker;",
              "the others are refused with 503 and `Retry-After`, and retried by the client.",
              ""]  # fmt: skip
    if lives:
        lines += ["## Live transcriptions at once, through gunicorn + gevent (one worker)", "",
                  f"Each session posts a {live_seconds:g} s recording in quarter-second PCM pieces "
                  "at the pace it is spoken (espeak-ng; its Korean is not intelligible to Vosk, "
                  "so the Korean rows measure the work, not the text).", "",
                  "Meanwhile the same worker relays 20 coaching streams (`/api/answer`, the "
                  "offline coach at 20 tokens a second, each begun again when it ends): the "
                  "last column is the longest wait between two tokens of one of them.", "",
                  "| language | sessions at once | last piece to final text p50 / p95 | "
                  "speech piece to next partial p95 | worker CPU per audio second | "
                  "text streams' longest gap |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        for row in lives:
            lines.append(f"| {row['language']} | {row['sessions']} | {row['p50']:.2f} s / "
                         f"{row['p95']:.2f} s | {row['partial_p95']:.2f} s | "
                         f"{row['cpu_per_audio_s']:.3f} s | {row['text_gap']:.2f} s |")  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    args = part_args(__doc__ or "", "voice")
    if args is None:
        return
    seconds, count = (5.0, 2) if args.smoke else (30.0, 8)
    live_seconds, counts = (3.0, (2,)) if args.smoke else (60.0, (4, 8))
    with tempfile.TemporaryDirectory(prefix="bench-voice-") as name:
        folder = Path(name)
        wav = recording(seconds, folder)
        costs = model_costs(wav)
        loads = [under_load("model", wav, count), under_load("offline", wav, count)]
        korean = recording(live_seconds, folder, text=_KO_TEXT, voice="ko")
        english = recording(live_seconds, folder)
        lives = [live_load(lang, audio, n) for lang, audio in (("en", english), ("ko", korean))
                 for n in counts]  # fmt: skip
    for c in costs:
        print(f"voice  {c['model']:20} {c['rss_mb']:.0f} MB, RTF {c['cpu_s'] / c['audio_s']:.3f}")
    for row in loads:
        print(f"voice  {row['path']:8} {row['recordings']} at once: p50 {row['p50']:.2f} s, "
              f"p99 {row['p99']:.2f} s")  # fmt: skip
    for row in lives:
        print(f"voice  live {row['language']} {row['sessions']} at once: final p50 "
              f"{row['p50']:.2f} s, p95 {row['p95']:.2f} s, partial p95 "
              f"{row['partial_p95']:.2f} s, CPU {row['cpu_per_audio_s']:.3f} s, text gap "
              f"{row['text_gap']:.2f} s")  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmarks-voice.md").write_text(
        report(costs, loads, seconds, lives, live_seconds)
    )
    print(f"wrote {args.out / 'benchmarks-voice.md'}")


if __name__ == "__main__":
    main()
