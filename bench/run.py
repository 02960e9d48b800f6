"""The benchmark: our relay against two baselines, on loopback, written to docs/.

`scripts/bench` (or `python -m bench.run`) starts the local upstream
(`tests.helpers.fakes`, tokens stamped with their send time), each relay as its own
process tree, and the load client (`bench.load`) as another process; it reads
the server tree's CPU time (user + sys) and RSS with psutil, and writes
`docs/benchmarks.md` and `docs/benchmarks.png`. `--smoke` runs tiny loads into
another folder (the test suite does that); the full run takes about ten
minutes (each target curve row three times, `--repeat`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BIN = str(Path(PY).parent)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


def procfile_command() -> list[str]:
    line = (ROOT / "Procfile").read_text().split("web:", 1)[1].splitlines()[0]
    return shlex.split(line)


def relay_command(name: str, port: int) -> list[str]:
    if name == "interview_app":
        return procfile_command()
    if name == "flask_typed":
        return [
            "gunicorn", "-k", "gevent", "-w", "1", "--worker-connections", "12000",
            "--backlog", "4096", "-b", f"127.0.0.1:{port}", "bench.baselines.flask_typed:app",
        ]  # fmt: skip
    if name == "node_express":
        return ["node", "bench/baselines/node_express/server.mjs"]
    if name == "fastapi_sse":
        return [
            "uvicorn", "bench.baselines.fastapi_sse:app", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning", "--backlog", "4096",
        ]  # fmt: skip
    raise ValueError(name)


@dataclass
class Scenario:
    name: str
    relay: str
    streams: int
    tokens: int
    rate: float
    ramp: float = 0.0
    path: str = "/api/answer"
    answer: str = ""  # sent as the candidate's answer (a feedback stream)
    env: tuple[tuple[str, str], ...] = ()  # the relay's settings for this scenario
    rubric: bool = False  # the upstream answers structured requests with a rubric
    variant: str = ""  # how the report names this scenario's row


class Tree:
    """A started process and its children, measured together."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        # Killed, gunicorn's master cannot remove the metrics folder it makes: ours is.
        self.metrics = tempfile.TemporaryDirectory(prefix="bench-metrics-")
        env = {"PROMETHEUS_MULTIPROC_DIR": self.metrics.name, **env}
        self.popen = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.root = psutil.Process(self.popen.pid)

    def processes(self) -> list[psutil.Process]:
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu(self) -> float:
        total = 0.0
        for p in self.processes():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def rss(self) -> int:
        total = 0
        for p in self.processes():
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        # Killed, not drained: its figures are already taken, and gunicorn's graceful
        # stop cost 1.3 s a scenario (the smoke run is to stay under a minute).
        for p in reversed(self.processes()):
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        self.popen.wait(30)
        self.metrics.cleanup()


NODE_BASELINE = ROOT / "bench" / "baselines" / "node_express"


def install_node_baseline() -> None:
    """Express 5 + openai 6 from the npm registry, as locked, the first time it runs."""
    if not (NODE_BASELINE / "node_modules").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_BASELINE, check=True, capture_output=True,
        )  # fmt: skip


def _lags(port: int) -> dict[float, float] | None:
    """The worker's event-loop lateness histogram (cumulative counts by bucket bound, in
    seconds), from its /metrics (issue 35)."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
    except OSError:
        return None
    pattern = r'^interview_app_hub_lag_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$'
    return {float(le): float(n) for le, n in re.findall(pattern, text, re.M)}


def longest_stall(
    before: dict[float, float] | None, after: dict[float, float] | None
) -> float | None:
    """The bound of the smallest bucket that holds every late wake-up between two readings:
    the longest stall of that window, to the histogram's resolution. The worker's own
    `interview_app_hub_lag_longest_seconds` counts from its start, where its first request
    (lazy imports) stalled it 160-180 ms whatever the load (100 streams read as 1,000)."""
    if before is None or after is None:
        return None
    total = after[float("inf")] - before.get(float("inf"), 0.0)
    for bound in sorted(after):
        if after[bound] - before.get(bound, 0.0) >= total:
            return bound
    return None


def run_scenario(s: Scenario, *, release: bool = True) -> dict[str, Any]:
    """One scenario's figures; `release`: migrate the history database first, as the
    Procfile's release phase does (a smoke run lets the app migrate its SQLite file at
    start instead, a second less per scenario)."""
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", "")}
    if s.relay == "node_express":
        install_node_baseline()
    up_port, port = free_port(), free_port()
    upstream = Tree(
        [PY, "-m", "tests.helpers.fakes", "--port", str(up_port), "--tokens", str(s.tokens),
         "--rate", str(s.rate), "--timestamps", *(["--rubric"] if s.rubric else [])],
        env,
    )  # fmt: skip
    wait_port(up_port)
    relay_env = {
        **env,
        "PORT": str(port),
        "OPENAI_BASE_URL": f"http://127.0.0.1:{up_port}/v1",
        "OPENAI_API_KEY": "unused",
        "OPENAI_MODEL": "fake-model",
        "OPENAI_MAX_RETRIES": "0",
        "RATE_LIMIT_PER_MINUTE": "0",
        "MAX_STREAMS_PER_CLIENT": "0",
        "MAX_STREAMS_PER_WORKER": "20000",
        "WORKER_CONNECTIONS": "12000",
        **dict(s.env),
    }
    # Removed when the scenario ends: a 1,000-stream run leaves a 5 MB database.
    folder = tempfile.TemporaryDirectory(prefix="bench-history-")
    if s.relay == "interview_app" and "DATABASE_URL" not in relay_env:
        # History on, as deployed: a fresh SQLite file, migrated by the release command.
        relay_env["DATABASE_URL"] = f"sqlite:///{Path(folder.name) / 'history.db'}"
        relay_env["SECRET_KEY"] = "bench"
    if s.relay == "interview_app" and release:
        subprocess.run(
            [PY, "-m", "interview_app.history.migrate"], cwd=ROOT, env=relay_env, check=True,
            capture_output=True,
        )  # fmt: skip
    server = Tree(relay_command(s.relay, port), relay_env)
    try:
        wait_port(port)
        request = ["--path", s.path, *(["--answer", s.answer] if s.answer else [])]
        warm = [PY, "-m", "bench.load", "--port", str(port), "--streams", "5",
                "--tokens", str(s.tokens), *request]  # fmt: skip
        subprocess.run(warm, cwd=ROOT, env=env, capture_output=True, check=True)
        time.sleep(0.3)
        lags0 = _lags(port) if s.relay == "interview_app" else None
        rss0, cpu0 = server.rss(), server.cpu()
        load = subprocess.Popen(
            [PY, "-m", "bench.load", "--port", str(port), "--streams", str(s.streams),
             "--tokens", str(s.tokens), "--ramp", str(s.ramp),
             "--timeout", str(s.tokens / max(s.rate, 1) * 3 + 60), *request],
            cwd=ROOT, env=env, stdout=subprocess.PIPE,
        )  # fmt: skip
        peak = rss0
        while load.poll() is None:
            peak = max(peak, server.rss())
            time.sleep(0.25)
        cpu1 = server.cpu()
        out = json.loads(load.stdout.read() if load.stdout else b"{}")
        out["hub_stall"] = longest_stall(lags0, _lags(port) if lags0 is not None else None)
        out["delivered"] = out.pop("tokens")
    finally:
        server.stop()
        upstream.stop()
        folder.cleanup()
    tokens = max(1, out["delivered"])
    return {
        **s.__dict__,
        **out,
        "cpu_seconds": cpu1 - cpu0,
        "cpu_us_per_token": (cpu1 - cpu0) / tokens * 1e6,
        "cpu_ms_per_stream": (cpu1 - cpu0) / max(1, out["complete"]) * 1e3,
        "rss_idle_mb": rss0 / 2**20,
        "rss_peak_mb": peak / 2**20,
        "kb_per_stream": (peak - rss0) / 1024 / s.streams,
    }


def repeated(s: Scenario, repeat: int) -> bool:
    """Whether `s` is run `repeat` times: the curve rows the targets compare (ours and
    Node's). At 1,000 streams this machine is past its capacity and one run's latency
    p99 spreads 30-170 ms from run to run; a verdict from one run is a coin toss."""
    return repeat > 1 and s.name == "curve" and s.relay in ("interview_app", "node_express")


def median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row from repeated runs: each figure the median of its runs, `complete` the
    fewest, every run's errors, and each run's latency p99 kept for the record."""
    out = dict(runs[0])
    for key, value in runs[0].items():
        values = [r.get(key) for r in runs]
        if isinstance(value, int | float) and not isinstance(value, bool):
            if all(isinstance(v, int | float) for v in values):
                out[key] = statistics.median(values)  # type: ignore[type-var]
    out["complete"] = min(r["complete"] for r in runs)
    out["errors"] = {k: v for r in runs for k, v in r["errors"].items()}
    out["runs"] = len(runs)
    out["latency_p99_runs"] = [r["latency_p99"] for r in runs]
    return out


def start_scenarios(streams: int, ramp: float) -> list[Scenario]:
    """What a stream costs to start and end: one-token streams, the product as shipped
    (feedback with history on and the model's rubric in the same request), the model's
    rubric as a second upstream request, no rubric, the seed's Node stack (its one
    route), and Flask with the SDK and nothing else."""
    from tests.helpers.rubrics import ANSWER

    return [
        Scenario("start", "interview_app", streams, 1, 50, ramp, "/api/feedback", ANSWER,
                 (("RUBRIC", "inline"),), rubric=True, variant="feedback, RUBRIC=inline"),
        Scenario("start", "interview_app", streams, 1, 50, ramp, "/api/feedback", ANSWER,
                 (("RUBRIC", "model"),), rubric=True, variant="feedback, RUBRIC=model"),
        Scenario("start", "interview_app", streams, 1, 50, ramp, "/api/feedback", ANSWER,
                 (("RUBRIC", "off"),), variant="feedback, RUBRIC=off"),
        Scenario("start", "node_express", streams, 1, 50, ramp, variant="answer"),
        # The design card's shape alone (Flask, gevent, the SDK; no history, no identity):
        # the floor a stream's start stands on here.
        Scenario("start", "flask_typed", streams, 1, 50, ramp, variant="answer"),
    ]  # fmt: skip


def scenarios(smoke: bool) -> list[Scenario]:
    relays = ["interview_app", "node_express", "flask_typed", "fastapi_sse"]
    if smoke:  # every code path of the harness, in seconds; the figures mean nothing
        return [
            *(Scenario("cpu", r, 10, 10, 100) for r in relays),
            *(Scenario("curve", r, 10, 10, 100) for r in relays),
            Scenario("low", "interview_app", 5, 5, 100),
            Scenario("scale", "interview_app", 20, 5, 100),
            Scenario("slow", "interview_app", 20, 4, 4, ramp=0.2),
            *start_scenarios(10, 0.2),
        ]
    out = [Scenario("cpu", r, 500, 100, 50) for r in relays]
    for n in (100, 500, 1000):
        out += [Scenario("curve", r, n, 60, 20, ramp=0.5) for r in relays]
    return [
        *out,
        Scenario("curve", "interview_app", 1500, 60, 20, ramp=0.5),
        Scenario("low", "interview_app", 10, 20, 20),
        Scenario("scale", "interview_app", 1500, 40, 10, ramp=0.5),
        Scenario("slow", "interview_app", 5000, 60, 2, ramp=3.0),
        *start_scenarios(1000, 10.0),
    ]


def ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value >= 0.01 else f"{value * 1000:.1f} ms"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report(rows: list[dict[str, Any]], out: Path, smoke: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    plot(rows, out / "benchmarks.png")
    cpu = {r["relay"]: r for r in rows if r["name"] == "cpu"}
    curve = sorted(
        (r for r in rows if r["name"] == "curve"), key=lambda r: (r["relay"], r["streams"])
    )
    low, scale, slow = (next(r for r in rows if r["name"] == n) for n in ("low", "scale", "slow"))
    ours = cpu["interview_app"]["cpu_us_per_token"]
    at_1000 = next(
        (r for r in curve if r["relay"] == "interview_app" and r["streams"] >= 1000), None
    )
    lines = [
        "# Benchmarks",
        "",
        "Made by `scripts/bench` on this project's 2-core machine, all on loopback: the",
        "local upstream (`tests/helpers/fakes.py`, each token stamped with its send time),",
        "the relay under test, and the load client (`bench/load.py`), each its own process.",
        "CPU is user+sys",
        "of the relay's process tree during the load, divided by tokens delivered. Added",
        "latency is the client's receive time minus the upstream's send time (one clock).",
        "TTFB is from sending the request to the response's first byte. Baselines",
        "(`bench/baselines/`): the seed's own stack, Express 5 + the openai Node SDK 6",
        "(`node_express`, installed from the npm registry by the bench); FastAPI +",
        "sse-starlette + AsyncOpenAI under plain uvicorn; and Flask + gevent iterating the",
        "SDK's typed chunks under gunicorn (one process each).",
        "The load client and the upstream share the same two cores with the relay.",
        "",
    ]
    if smoke:
        lines += ["**Smoke run: tiny loads; the figures mean nothing.**", ""]
    lines += [
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    node = cpu.get("node_express")
    if node:
        ratio = ours / node["cpu_us_per_token"]
        lines.append(
            f"| CPU per token <= 0.65x node_express | {ours:.0f} vs "
            f"{node['cpu_us_per_token']:.0f} us = {ratio:.2f}x | {_verdict(ratio <= 0.65)} |"
        )
        for r in curve:
            if r["relay"] != "interview_app":
                continue
            theirs = next(
                (c for c in curve if c["relay"] == "node_express" and c["streams"] == r["streams"]),
                None,
            )
            if theirs is None:
                continue
            ok = all(
                (r[k] or 99) <= (theirs[k] or 0) for k in ("latency_p50", "latency_p99", "ttfb_p99")
            )
            lines.append(
                f"| added latency p50 / p99, TTFB p99 <= node_express at {r['streams']} streams | "
                f"{ms(r['latency_p50'])} / {ms(r['latency_p99'])}, {ms(r['ttfb_p99'])} vs "
                f"{ms(theirs['latency_p50'])} / {ms(theirs['latency_p99'])}, "
                f"{ms(theirs['ttfb_p99'])} | {_verdict(ok)} |"
            )
    start = [r for r in rows if r["name"] == "start"]
    node_start = next((r for r in start if r["relay"] == "node_express"), None)
    for r in start:
        if r["relay"] == "interview_app" and node_start:
            lines.append(
                f"| CPU per one-token stream <= node_express ({r['variant']}) | "
                f"{r['cpu_ms_per_stream']:.2f} vs {node_start['cpu_ms_per_stream']:.2f} ms | "
                f"{_verdict(r['cpu_ms_per_stream'] <= node_start['cpu_ms_per_stream'])} |"
            )
    for name in ("flask_typed", "fastapi_sse"):
        ratio = ours / cpu[name]["cpu_us_per_token"]
        lines.append(
            f"| CPU per token <= 0.2x {name} | {ours:.0f} vs {cpu[name]['cpu_us_per_token']:.0f} us"
            f" = {ratio:.2f}x | {_verdict(ratio <= 0.2)} |"
        )
    lines += [
        f"| {scale['streams']} streams in one worker, all complete | "
        f"{scale['complete']}/{scale['streams']} | "
        f"{_verdict(scale['complete'] == scale['streams'] and scale['streams'] > 1000)} |",
        f"| TTFB p99 < 4 s at that load | {ms(scale['ttfb_p99'])} | "
        f"{_verdict((scale['ttfb_p99'] or 99) < 4)} |",
        f"| TTFB p50 < 50 ms at low load | {ms(low['ttfb_p50'])} | "
        f"{_verdict((low['ttfb_p50'] or 99) < 0.05)} |",
        f"| {slow['streams']} slow streams, none failed | {slow['complete']}/{slow['streams']} | "
        f"{_verdict(slow['complete'] == slow['streams'])} |",
        f"| memory per held stream < 40 KB | {slow['kb_per_stream']:.1f} KB | "
        f"{_verdict(slow['kb_per_stream'] < 40)} |",
    ]
    if at_1000:
        lines.append(
            f"| latency p99 < 100 ms at {at_1000['streams']} streams x 20 tokens/s | "
            f"{ms(at_1000['latency_p99'])} | {_verdict((at_1000['latency_p99'] or 99) < 0.1)} |"
        )
    lines += [
        "",
        "## CPU per relayed token: 500 streams x 100 tokens at 50 tokens/s",
        "",
        "| relay | CPU per token | ours / theirs | complete | latency p50 / p99 | TTFB p99 |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in cpu.items():
        lines.append(
            f"| {name} | {r['cpu_us_per_token']:.0f} us | {ours / r['cpu_us_per_token']:.2f}x | "
            f"{r['complete']}/{r['streams']} | {ms(r['latency_p50'])} / {ms(r['latency_p99'])} | "
            f"{ms(r['ttfb_p99'])} |"
        )
    lines += [
        "",
        "## Against concurrent streams: 60 tokens at 20 tokens/s each",
        "",
        *(
            [
                f"Rows of interview_app and node_express: each figure the median of "
                f"{repeats} runs (the runs' latency p99 in the raw results).",
                "",
            ]
            if (repeats := max((r.get("runs", 1) for r in curve), default=1)) > 1
            else []
        ),
        "| relay | streams | complete | CPU per token | latency p50 / p99 | TTFB p50 / p99 |",
        "|---|---|---|---|---|---|",
    ]
    for r in curve:
        lines.append(
            f"| {r['relay']} | {r['streams']} | {r['complete']}/{r['streams']} | "
            f"{r['cpu_us_per_token']:.0f} us | {ms(r['latency_p50'])} / {ms(r['latency_p99'])} | "
            f"{ms(r['ttfb_p50'])} / {ms(r['ttfb_p99'])} |"
        )
    lines += ["", "![CPU per token and latency against concurrent streams](benchmarks.png)", ""]
    if start:
        lines += [
            "## What a stream costs to start and end: one-token streams",
            "",
            f"{start[0]['streams']} streams of one token each, started over "
            f"{start[0]['ramp']:g} s; CPU of the relay's process tree divided by the streams.",
            "",
            "| relay | request | CPU per stream | complete | TTFB p50 / p99 |",
            "|---|---|---|---|---|",
        ]
        for r in start:
            lines.append(
                f"| {r['relay']} | {r['variant']} | {r['cpu_ms_per_stream']:.2f} ms | "
                f"{r['complete']}/{r['streams']} | {ms(r['ttfb_p50'])} / {ms(r['ttfb_p99'])} |"
            )
        lines.append("")
    lines += [
        "## Past 1,000 streams in one worker, and many slow streams",
        "",
        "| load | complete | errors | TTFB p50 / p99 | latency p50 / p99 | memory |",
        "|---|---|---|---|---|---|",
    ]
    for label, r in (
        (f"low: {low['streams']} streams", low),
        (f"{scale['streams']} streams x {scale['tokens']} tokens at {scale['rate']:g}/s", scale),
        (f"{slow['streams']} slow streams, {slow['tokens']} tokens at {slow['rate']:g}/s", slow),
    ):
        memory = (
            f"{r['kb_per_stream']:.1f} KB per held stream "
            f"({r['rss_idle_mb']:.0f} -> {r['rss_peak_mb']:.0f} MB)"
        )
        lines.append(
            f"| {label} | {r['complete']}/{r['streams']} | {r['errors'] or '-'} | "
            f"{ms(r['ttfb_p50'])} / {ms(r['ttfb_p99'])} | "
            f"{ms(r['latency_p50'])} / {ms(r['latency_p99'])} | {memory} |"
        )
    lines += [
        "",
        "What these figures mean, where the time goes and what was changed is written by",
        "hand, with dates, in [benchmarks-analysis.md](benchmarks-analysis.md): this file",
        "holds generated figures only.",
        "",
    ]
    lines += ["## Raw results", "", "```json", json.dumps(rows, indent=1), "```", ""]
    (out / "benchmarks.md").write_text("\n".join(lines))


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for relay in ("interview_app", "node_express", "flask_typed", "fastapi_sse"):
        pts = sorted(
            (
                r["streams"],
                r["cpu_us_per_token"],
                (r["latency_p50"] or 0) * 1000,
                (r["latency_p99"] or 0) * 1000,
            )
            for r in rows
            if r["name"] == "curve" and r["relay"] == relay
        )
        if not pts:
            continue
        xs = [p[0] for p in pts]
        (line,) = left.plot(xs, [p[1] for p in pts], marker="o", label=relay)
        color = line.get_color()
        right.plot(xs, [p[3] for p in pts], marker="o", color=color, label=f"{relay} p99")
        right.plot(
            xs, [p[2] for p in pts], marker=".", linestyle="--", color=color, label=f"{relay} p50"
        )
    left.set(title="Server CPU per relayed token", xlabel="concurrent streams", ylabel="us")
    right.set(title="Added latency per token", xlabel="concurrent streams", ylabel="ms")
    right.set_yscale("log")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def part_args(doc: str, name: str) -> argparse.Namespace | None:
    """The arguments of a part of `scripts/bench` (`bench.burst`, `bench.voice`), which
    takes the relay bench's too; None when `--only` names other scenarios."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--only", default="", help=f"scenario names; runs when '{name}' is one")
    parser.add_argument("--repeat", type=int, default=0, help="runs per row (median)")
    parser.add_argument("--rows", default="", help="comma-separated row labels (default: all)")
    args, _ = parser.parse_known_args()
    return None if args.only and name not in args.only.split(",") else args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny loads, for the test suite")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument(
        "--repeat", type=int, default=0, help="runs of each target curve row (median): 3, 2 smoke"
    )
    parser.add_argument("--relays", default="", help="comma-separated relays (default: all)")
    parser.add_argument(
        "--replot", action="store_true", help="rewrite the report from its own raw results"
    )
    args = parser.parse_args()
    args.repeat = args.repeat or (2 if args.smoke else 3)
    if args.replot:
        text = (args.out / "benchmarks.md").read_text()
        raw = text.split("```json\n", 1)[1].split("```", 1)[0]
        report(json.loads(raw), args.out, smoke=False)
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    chosen = [
        s
        for s in scenarios(args.smoke)
        if (not args.only or s.name in args.only.split(","))
        and (not args.relays or s.relay in args.relays.split(","))
    ]

    def row_of(s: Scenario) -> dict[str, Any]:
        times = args.repeat if repeated(s, args.repeat) else 1
        runs = [run_scenario(s, release=not args.smoke) for _ in range(times)]
        return median_row(runs) if len(runs) > 1 else runs[0]

    if any(s.relay == "node_express" for s in chosen):
        install_node_baseline()  # once, before scenarios may run side by side
    if args.smoke:
        # Its figures mean nothing, so its scenarios run four at a time: a minute, not
        # five (a busy CI machine took 342 s for them one by one).
        with ThreadPoolExecutor(max_workers=4) as pool:
            done = list(pool.map(row_of, chosen))
    else:
        done = [row_of(s) for s in chosen]
    rows = []
    for s, row in zip(chosen, done, strict=True):
        print(
            f"{s.name:6} {s.relay:14} {s.streams:5} streams: "
            f"{row['complete']}/{s.streams} complete, "
            f"{row['cpu_us_per_token']:.0f} us/token, p99 {ms(row['latency_p99'])} "
            f"(steady {ms(row.get('steady_latency_p99'))}), "
            f"TTFB p99 {ms(row['ttfb_p99'])}, {row['kb_per_stream']:.1f} KB/stream",
            flush=True,
        )
        rows.append(row)
    if not args.only and not args.relays:
        report(rows, args.out, args.smoke)
        print(f"wrote {args.out / 'benchmarks.md'}")


if __name__ == "__main__":
    main()
