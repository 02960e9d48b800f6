"""The burst benchmark (issue 35): past a worker's capacity, do streams already running
keep their pace?

`python -m bench.burst` (run by `scripts/bench` after the relay benchmark) runs, each
row the median of three runs, ours and the seed's Node stack (Express 5 + the openai
Node SDK) in the same run, one worker each, through `bench/run.py`'s harness (the local
upstream stamping each token, the load client measuring added latency):
- 1,000 streams started within half a second, 60 tokens at 20 a second, on
  `/api/answer` and on `/api/feedback` as shipped (history on, the model's rubric);
  Node has no feedback route, so its `/api/answer` row stands beside both;
- the same rows as shipped before issue 35 (`before`: no admission by forecast,
  gevent's 100 new connections a turn of the loop, 6 s at the gate), in the same run;
- 100 and 500 streams on `/api/answer`, as shipped and before;
- the 1,000-stream rows again on a machine made busy on purpose: a second process
  burning one core for the whole run, as a noisy neighbour does.
Each of ours also reports the worker's longest event-loop stall during the burst (from
`interview_app_hub_lag_seconds`, read before and after). It writes
`docs/benchmarks-burst.md`.
`--smoke` runs tiny loads once each (the test suite).
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from typing import Any

from bench.run import (
    PY,
    ROOT,
    Scenario,
    install_node_baseline,
    median_row,
    ms,
    part_args,
    run_scenario,
)
from tests.helpers.rubrics import ANSWER

FEEDBACK = {"path": "/api/feedback", "answer": ANSWER, "rubric": True}
# As shipped until issue 35: no admission by forecast, gevent's 100 new connections a
# turn of the loop, and a 6 s wait at the gate.
BEFORE = (("HUB_TARGET_UTILISATION", "0"), ("MAX_ACCEPT", "100"),
          ("HUB_GATE_MAX_WAIT_SECONDS", "6"))  # fmt: skip


def _before(s: Scenario) -> Scenario:
    return replace(s, env=(*s.env, *BEFORE))


def scenarios(smoke: bool) -> list[tuple[str, Scenario, bool]]:
    """(row label, scenario, on a busy machine)."""
    n, small = (40, (10, 20)) if smoke else (1000, (100, 500))
    tokens, rate = (10, 100) if smoke else (60, 20)
    ours = Scenario("burst", "interview_app", n, tokens, rate, ramp=0.5)
    node = replace(ours, relay="node_express")
    feedback = replace(ours, env=(("RUBRIC", "model"),), **FEEDBACK)
    rows = [
        ("answer", ours, False),
        ("answer (before)", _before(ours), False),
        ("feedback", feedback, False),
        ("feedback (before)", _before(feedback), False),
        ("node answer", node, False),
    ]
    for m in small:
        rows += [(f"answer {m}", replace(ours, streams=m), False),
                 (f"answer {m} (before)", _before(replace(ours, streams=m)), False),
                 (f"node answer {m}", replace(node, streams=m), False)]  # fmt: skip
    rows += [
        ("busy: answer", ours, True),
        ("busy: feedback", feedback, True),
        ("busy: node answer", node, True),
    ]
    if smoke:  # every code path of the harness once: the busy machine included
        keep = ("answer", "answer (before)", "feedback", "node answer", "busy: answer")
        return [row for row in rows if row[0] in keep]
    return rows


def run(s: Scenario, busy: bool, repeat: int) -> dict[str, Any]:
    """`s` `repeat` times (the median row), with a process burning one core if `busy`."""
    burner = subprocess.Popen([PY, "-c", "while True: pass"], cwd=ROOT) if busy else None
    try:
        runs = [run_scenario(s) for _ in range(repeat)]
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()
    return median_row(runs) if len(runs) > 1 else runs[0]


def report(rows: list[tuple[str, dict[str, Any]]], smoke: bool) -> str:
    lines = [
        "# Burst benchmarks",
        "",
        "Made by `python -m bench.burst` (`scripts/bench`) on this project's 2-core machine,",
        "all on loopback, with `bench/run.py`'s harness: one worker each, the local upstream",
        "stamping each token, added latency = receive time - send time. Each row is the",
        "median of its runs (`runs`); `complete` is the fewest complete in any run, and a",
        "stream that is not complete was refused cleanly (`server_busy`, counted under",
        "errors) unless errors say otherwise. Ours runs as shipped (admission by forecast at",
        "`HUB_TARGET_UTILISATION=0.85`, one new connection a turn of its event loop,",
        "`MAX_ACCEPT=1`, at most 15 s at the gate) unless the row says `before`: as shipped",
        "before issue 35 (forecast off, gevent's 100 connections a turn, 6 s). `stall` is",
        "our worker's longest event-loop stall during the burst, to its lag histogram's",
        "buckets (at most that long; its warm-up, whose first request stalls it 160-180 ms,",
        "not counted).",
        "",
    ]
    if smoke:
        lines += ["**Smoke run: tiny loads; the figures mean nothing.**", ""]
    lines += [
        "| row | streams | complete | added latency p50 / p99 | TTFB p50 / p99 | "
        "TTFT p99 | CPU per token | stall | errors | runs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, r in rows:
        stall = r.get("hub_stall")
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items())) or "none"
        lines.append(
            f"| {label} | {r['streams']} | {r['complete']}/{r['streams']} | "
            f"{ms(r['latency_p50'])} / {ms(r['latency_p99'])} | "
            f"{ms(r['ttfb_p50'])} / {ms(r['ttfb_p99'])} | {ms(r['ttft_p99'])} | "
            f"{r['cpu_us_per_token']:.0f} us | {ms(stall) if stall is not None else '-'} | "
            f"{errors} | {r.get('runs', 1)} |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    args = part_args(__doc__ or "", "burst")
    if args is None:
        return
    repeat = args.repeat or (1 if args.smoke else 3)
    install_node_baseline()
    chosen = [(label, s, busy) for label, s, busy in scenarios(args.smoke)
              if not args.rows or label in args.rows.split(",")]  # fmt: skip
    rows = []
    for label, s, busy in chosen:
        row = run(s, busy, repeat)
        stall = row.get("hub_stall")
        print(f"burst  {label:24} {row['complete']}/{s.streams} complete, added latency "
              f"p50 {ms(row['latency_p50'])} p99 {ms(row['latency_p99'])}, TTFB p99 "
              f"{ms(row['ttfb_p99'])}, stall {ms(stall) if stall is not None else '-'}",
              flush=True)  # fmt: skip
        rows.append((label, row))
    if not args.rows:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "benchmarks-burst.md").write_text(report(rows, args.smoke))
        print(f"wrote {args.out / 'benchmarks-burst.md'}")


if __name__ == "__main__":
    main()
