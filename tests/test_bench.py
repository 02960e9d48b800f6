"""A smoke run of the README's benchmark command: every scenario, tiny loads, real processes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers.server import ROOT


def test_bench_smoke_run_writes_a_report(tmp_path: Path) -> None:
    done = subprocess.run(
        ["scripts/bench", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=420,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = (tmp_path / "benchmarks.md").read_text()
    # Generated figures only: the analysis (with its own, older figures) is by hand.
    assert "benchmarks-analysis.md" in report
    assert "Changes this round" not in report and "Earlier rounds" not in report
    for relay in ("interview_app", "node_express", "flask_typed", "fastapi_sse"):
        assert f"| {relay} |" in report
    assert "<= node_express" in report  # the seed's stack is the latency baseline
    assert "KB per held stream" in report
    # What a stream costs to start and end, as shipped and without the rubric, and Node's.
    assert "| interview_app | feedback, RUBRIC=inline |" in report
    assert "| interview_app | feedback, RUBRIC=model |" in report
    assert "| interview_app | feedback, RUBRIC=off |" in report
    assert "| node_express | answer |" in report and "| flask_typed | answer |" in report
    assert (tmp_path / "benchmarks.png").read_bytes().startswith(b"\x89PNG")
    voice = (tmp_path / "benchmarks-voice.md").read_text()
    assert "| whisper-tiny.en (en) |" in voice and "| vosk-model-small-ko (ko) |" in voice
    assert "| model | 2 |" in voice and "| offline | 2 |" in voice
    # Every smoke stream completed, in every scenario.
    lines = [line for line in done.stdout.splitlines() if " streams: " in line]
    assert len(lines) == 16
    for line in lines:
        streams = line.split("streams:")[1].split("complete")[0].strip()
        got, want = streams.split("/")
        assert got == want, line
