"""A smoke run of the README's benchmark command: every scenario, tiny loads, real processes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench.run import longest_stall
from tests.helpers.server import ROOT


def test_bench_smoke_run_writes_a_report(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = subprocess.run(
        ["scripts/bench", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(scratch)},
        capture_output=True,
        text=True,
        timeout=240,  # a smoke: about a minute and a half on a quiet machine
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Each full run left a history database, a metrics folder per server and the
    # voice recordings behind: 5 MB a scenario, a thousand folders in a day of runs.
    assert sorted(p.name for p in scratch.iterdir()) == []
    report = (tmp_path / "benchmarks.md").read_text()
    # Generated figures only: the analysis (with its own, older figures) is by hand.
    assert "benchmarks-analysis.md" in report
    assert "Changes this round" not in report and "Earlier rounds" not in report
    for relay in ("interview_app", "node_express", "flask_typed", "fastapi_sse"):
        assert f"| {relay} |" in report
    assert "<= node_express" in report  # the seed's stack is the latency baseline
    assert "KB per held stream" in report
    assert "each figure the median of 2 runs" in report  # the target curve rows (3 in full)
    # What a stream costs to start and end, as shipped and without the rubric, and Node's.
    assert "| interview_app | feedback, RUBRIC=inline |" in report
    assert "| interview_app | feedback, RUBRIC=model |" in report
    assert "| interview_app | feedback, RUBRIC=off |" in report
    assert "| node_express | answer |" in report and "| flask_typed | answer |" in report
    assert (tmp_path / "benchmarks.png").read_bytes().startswith(b"\x89PNG")
    burst = (tmp_path / "benchmarks-burst.md").read_text()
    for row in ("answer", "feedback", "node answer", "busy: answer"):
        assert f"| {row} | 40 | 40/40 |" in burst, burst
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


def test_a_curve_verdict_came_from_a_single_run() -> None:
    """At 1,000 streams one run's latency p99 spread 30-170 ms from run to run, so a
    target's verdict flipped with the run; the target rows are now medians of runs."""
    from bench.run import Scenario, median_row, repeated

    runs = [
        {"relay": "interview_app", "complete": 1000, "errors": {}, "latency_p99": 0.17,
         "ttfb_p99": 1.2, "streams": 1000},
        {"relay": "interview_app", "complete": 999, "errors": {"timeout": 1},
         "latency_p99": 0.03, "ttfb_p99": 1.0, "streams": 1000},
        {"relay": "interview_app", "complete": 1000, "errors": {}, "latency_p99": 0.05,
         "ttfb_p99": 1.5, "streams": 1000},
    ]  # fmt: skip
    row = median_row(runs)
    assert row["latency_p99"] == 0.05 and row["ttfb_p99"] == 1.2 and row["streams"] == 1000
    assert row["complete"] == 999 and row["errors"] == {"timeout": 1}  # nothing hidden
    assert row["runs"] == 3 and row["latency_p99_runs"] == [0.17, 0.03, 0.05]
    assert repeated(Scenario("curve", "node_express", 1000, 60, 20), 3)
    assert not repeated(Scenario("curve", "flask_typed", 1000, 60, 20), 3)
    assert not repeated(Scenario("cpu", "interview_app", 500, 100, 50), 3)


def test_the_stall_is_read_over_the_burst_not_since_the_worker_started() -> None:
    # Regression: the burst rows reported the worker's longest stall since it started,
    # its first request's 160-180 ms, so 100 streams read as 1,000.
    inf = float("inf")
    warm = {0.01: 5.0, 0.1: 6.0, 0.25: 7.0, inf: 7.0}  # one stall of 100-250 ms at start
    burst = {0.01: 100.0, 0.1: 106.0, 0.25: 107.0, inf: 107.0}  # then 5 of 10-100 ms
    assert longest_stall(warm, burst) == 0.1
    assert longest_stall(warm, {**burst, 0.25: 108.0, inf: 108.0}) == 0.25
    assert longest_stall(None, burst) is None
