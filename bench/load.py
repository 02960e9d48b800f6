"""The load client: many concurrent SSE streams over raw asyncio sockets.

Runs as its own process so its CPU is not counted as the server's. The upstream
stamps every token with its send time (`tests.helpers.fakes --timestamps`), so the added
latency of a token is this process's receive time minus that stamp, on the same
clock. Prints one JSON object with the raw figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import time
from dataclasses import dataclass, field

_STAMP = re.compile(rb"(\d{10}\.\d{6})(?!\d)")


@dataclass
class Result:
    ok: bool = False
    status: int = 0
    ttfb: float | None = None
    ttft: float | None = None
    tokens: int = 0
    latencies: list[float] = field(default_factory=list)
    received: list[float] = field(default_factory=list)  # when each token arrived
    began: float = 0.0
    error: str = ""


async def one(host: str, port: int, path: str, body: bytes, timeout: float) -> Result:
    result = Result()
    began = result.began = time.time()
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        writer.write(
            b"POST %b HTTP/1.1\r\nHost: %b\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nAccept: text/event-stream\r\n\r\n%b"
            % (path.encode(), host.encode(), len(body), body)
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        result.ttfb = time.time() - began
        result.status = int(head.split(b" ", 2)[1])
        if result.status != 200:
            result.error = f"HTTP {result.status}"
            return result
        pending = b""
        deadline = began + timeout
        while True:
            data = await asyncio.wait_for(reader.read(65536), max(0.1, deadline - time.time()))
            if not data:
                result.error = "closed early"
                return result
            now = time.time()
            pending += data
            # An event ends at a blank line: LF LF here, CRLF CRLF from sse-starlette.
            cut = max(pending.rfind(b"\n\n") + 2, pending.rfind(b"\r\n\r\n") + 4)
            if cut < 2:
                continue
            ready, pending = pending[:cut], pending[cut:]
            stamps = _STAMP.findall(ready)
            if stamps and result.ttft is None:
                result.ttft = now - began
            result.tokens += len(stamps)
            result.latencies.extend(now - float(s) for s in stamps)
            result.received.extend(now for _ in stamps)
            if b"event: done" in ready:
                result.ok = True
                return result
            if b"event: error" in ready:
                result.error = "error event"
                return result
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        result.error = type(exc).__name__
        return result
    finally:
        if writer is not None:
            writer.close()


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace) -> dict[str, object]:
    payload = {"question": args.question}
    if args.answer:
        payload["answer"] = args.answer  # a feedback stream: the candidate's answer coached
    body = json.dumps(payload).encode()
    tasks = []
    began = time.time()
    for i in range(args.streams):
        tasks.append(asyncio.create_task(one(args.host, args.port, args.path, body, args.timeout)))
        if args.ramp and i % 50 == 49:
            await asyncio.sleep(args.ramp * 50 / args.streams)
    results = await asyncio.gather(*tasks)
    latencies = [x for r in results for x in r.latencies]
    # Steady state: tokens that arrived once every stream had its headers, so no new
    # stream was being accepted or set up. Split out to see what the ramp costs.
    settled = max((r.began + r.ttfb for r in results if r.ttfb is not None), default=0.0)
    steady = [
        lat
        for r in results
        for lat, at in zip(r.latencies, r.received, strict=True)
        if at > settled
    ]
    errors: dict[str, int] = {}
    for r in results:
        if not r.ok or r.tokens != args.tokens:
            key = r.error or f"{r.tokens}/{args.tokens} tokens"
            errors[key] = errors.get(key, 0) + 1
    ttfb = [r.ttfb for r in results if r.ttfb is not None]
    ttft = [r.ttft for r in results if r.ttft is not None]
    return {
        "streams": args.streams,
        "complete": sum(r.ok and r.tokens == args.tokens for r in results),
        "errors": errors,
        "tokens": sum(r.tokens for r in results),
        "seconds": time.time() - began,
        "ttfb_p50": pct(ttfb, 0.5),
        "ttfb_p99": pct(ttfb, 0.99),
        "ttft_p50": pct(ttft, 0.5),
        "ttft_p99": pct(ttft, 0.99),
        "latency_p50": pct(latencies, 0.5),
        "latency_p99": pct(latencies, 0.99),
        "steady_latency_p50": pct(steady, 0.5),
        "steady_latency_p99": pct(steady, 0.99),
        "steady_tokens": len(steady),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/api/answer")
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--tokens", type=int, default=100, help="tokens each stream must get")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--ramp", type=float, default=0.0, help="seconds to spread starts over")
    parser.add_argument("--question", default="Tell me about a time you failed.")
    parser.add_argument("--answer", default="", help="sent with the question (for feedback)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
