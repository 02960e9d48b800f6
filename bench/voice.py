"""The voice benchmark: what each offline model costs, and transcriptions under load.

`python -m bench.voice` (run by `scripts/bench` after the relay benchmark) measures,
on this machine:
- each offline model's load: the RSS it adds to a fresh process, its load time, and
  its real-time factor (CPU seconds per second of audio) on a 30 s spoken recording;
- transcriptions through the Procfile's gunicorn + gevent: N recordings of 30 s sent
  at once, time to the final text p50 / p99, by the model path (the local
  OpenAI-compatible server, which answers at once: the service's own cost) and the
  offline path (one worker, `MAX_TRANSCRIPTIONS` at a time, the rest queued by
  their clients' retries after 503).
It writes `docs/benchmarks-voice.md`. `--smoke` runs tiny loads (the test suite).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.run import BIN, PY, ROOT, Tree, free_port, procfile_command, wait_port

TEXT = (
    "In short I cut our checkout errors by sixty percent in six weeks. Our payment page "
    "failed for one order in twenty and my task was to find out why. I traced the failures, "
    "I rewrote the retry logic and I added alerts. As a result the errors fell and refunds "
    "dropped by a third."
)


def recording(seconds: float, folder: Path) -> Path:
    """About `seconds` of espeak English, 16 kHz mono WAV."""
    said, gap = folder / "said.wav", folder / "gap.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "165", "-w", str(folder / "raw.wav"), TEXT],
                   check=True)  # fmt: skip
    subprocess.run(["sox", str(folder / "raw.wav"), "-r", "16000", "-c", "1", "-b", "16",
                    str(said)], check=True)  # fmt: skip
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(gap), "trim", "0",
                    "0.5"], check=True)  # fmt: skip
    one = float(subprocess.run(["soxi", "-D", str(said)], capture_output=True, text=True,
                               check=True).stdout) + 0.5  # fmt: skip
    parts = [str(said), str(gap)] * max(1, round(seconds / one))
    out = folder / f"answer-{seconds:g}.wav"
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


def report(costs: list[dict[str, Any]], loads: list[dict[str, Any]], seconds: float) -> str:
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
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--only", default="", help="scenario names; runs when 'voice' is one")
    args, _ = parser.parse_known_args()  # scripts/bench passes the relay bench's too
    if args.only and "voice" not in args.only.split(","):
        return
    seconds, count = (5.0, 2) if args.smoke else (30.0, 8)
    folder = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    wav = recording(seconds, folder)
    costs = model_costs(wav)
    loads = [under_load("model", wav, count), under_load("offline", wav, count)]
    for c in costs:
        print(f"voice  {c['model']:20} {c['rss_mb']:.0f} MB, RTF {c['cpu_s'] / c['audio_s']:.3f}")
    for row in loads:
        print(f"voice  {row['path']:8} {row['recordings']} at once: p50 {row['p50']:.2f} s, "
              f"p99 {row['p99']:.2f} s")  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmarks-voice.md").write_text(report(costs, loads, seconds))
    print(f"wrote {args.out / 'benchmarks-voice.md'}")


if __name__ == "__main__":
    main()
