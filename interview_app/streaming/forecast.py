"""Admission by forecast: a new stream opens while the token load of the streams already
running, plus its own, stays under what the worker can relay.

Every admitted stream is a `Flow`: its token rate is observed as it relays (an EWMA of
the time between its tokens); until it has `OWN_AFTER` tokens of its own it counts as
the median of the last streams that ended (or `FIRST_RATE` before any has). The worker
knows its cost per token: the hub's CPU time (`time.thread_time()` read in the hub's own
thread by the monitor, so recognition threads and the like are not counted) over the
tokens relayed, measured each second the hub was busy (`BUSY_SHARE` of a core or more)
relaying enough tokens to tell, the lowest of the last `WINDOWS` such seconds. Its
capacity is `target` (a share of one core) over that cost; until it has measured, the
capacity is unbounded and the loop-lag gate (`hub.py`) brakes alone.

Why the busy seconds and their lowest cost: the cost per token falls as the load grows
(a busy relay reads several tokens a wake-up: 120-130 us a token at 2,000 tokens a second
here, 74 us at 25,000 in the bench's CPU row), and a second spent accepting a burst
spends its CPU on requests, not tokens. Read from every second, the cost let 117-180 of
a burst of 1,000 streams run and refused the rest after their wait, while the same
worker relayed 992 of them on time with the forecast off. A least-squares fit of CPU on
tokens, streams opened and streams ended was tried instead: under steady load the three
move together and it could not tell them apart, and seconds with no stream opened still
read 120-130 us a token, so it was not the requests that made the cost high.

Why: 1,000 streams started at once were all admitted and every one stuttered (added
latency p99 2.9-6.4 s against Node's 0.13-0.21 s, issue 35) though our CPU per token was
lower: a stream that starts a second later is fine, one that stops mid-sentence is not.
The loop-lag gate reads how late the hub is *now*; a burst's streams are admitted before
their tokens arrive, so by the time the hub is late it has admitted too many. The
forecast counts tokens that have not arrived yet. Written here because no library
forecasts an event loop's load; the arithmetic is a few lines.

Off by default (`HUB_TARGET_UTILISATION=0`): on a 1,000-stream burst, medians of three
(docs/benchmarks-burst.md), it lowered added latency a little on `/api/answer` (p50 /
p99 29 / 383 ms against 42 / 431 ms, as many complete) but refused half of the
`/api/feedback` burst (475 of 1,000 complete against 1,000) for no gain (p99 1.39 s
against 1.51 s): what stutters there is not the relayed tokens it counts.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque

from prometheus_client import Gauge

COST = Gauge("interview_app_token_cost_seconds",
             "The hub's CPU time per relayed token, as admission counts it.",
             multiprocess_mode="max")  # fmt: skip
LOAD = Gauge("interview_app_forecast_tokens_per_second",
             "The admitted streams' token rates, summed, against the capacity.",
             ["of"], multiprocess_mode="livesum")  # fmt: skip

FIRST_RATE = 20.0  # tokens a second a stream counts as before any stream has ended
OWN_AFTER = 5  # tokens a stream relays before its own rate replaces the median
ALPHA = 0.2  # weight of the newest interval in a stream's EWMA
WINDOWS = 10.0  # seconds a measure of the cost per token is kept (the lowest is used)
MIN_TOKENS = 1000  # tokens in a second for that second to measure the cost
RECENT = 128  # ended streams whose rates make the median


class Flow:
    """One admitted stream's token rate, observed as it relays."""

    __slots__ = ("_forecast", "_last", "_seen", "active", "ended", "gap", "rate")

    def __init__(self, forecast: Forecast) -> None:
        self._forecast = forecast
        self.rate = 0.0  # tokens a second this flow is counted at (0 until admitted)
        self.gap = 0.0  # EWMA of the seconds between its tokens
        self._last = 0.0
        self._seen = 0
        self.active = False
        self.ended = False

    def token(self) -> None:
        """One token relayed."""
        forecast = self._forecast
        forecast.tokens += 1
        now = time.monotonic()
        seen = self._seen = self._seen + 1
        if seen > 1:
            dt = now - self._last
            self.gap = dt if seen == 2 else ALPHA * dt + (1 - ALPHA) * self.gap
            if seen >= OWN_AFTER and self.active and self.gap > 0:
                rate = 1.0 / self.gap
                forecast.load += rate - self.rate
                self.rate = rate
                if seen == OWN_AFTER:
                    forecast.observed(rate)
        self._last = now

    @property
    def own(self) -> bool:
        """Whether its rate is its own yet (not the median it began at)."""
        return self._seen >= OWN_AFTER

    def end(self) -> None:
        """The stream ended (or was never opened): its load is given back, once."""
        if self.ended:
            return
        self.ended = True
        self._forecast.ended(self)


class Unobserved(Flow):
    """A flow counted in and out like any, whose tokens are not observed (forecast off)."""

    __slots__ = ()

    def token(self) -> None:
        """One token relayed: nothing to observe."""


class Forecast:
    """The admitted flows' summed rate, the worker's cost per token and its capacity."""

    def __init__(self, target: float) -> None:
        self.target = target  # share of one core the hub may spend relaying; 0: off
        self.load = 0.0  # tokens a second the admitted flows are counted at
        self.flows = 0
        self.tokens = 0  # relayed since start
        self.cost: float | None = None  # hub CPU seconds per token
        self._costs: deque[tuple[float, float]] = deque()  # (when, cost), oldest first
        self._recent: deque[float] = deque(maxlen=RECENT)
        self._expected = FIRST_RATE
        self._lock = threading.Lock()
        self._measured = (0.0, 0, 0.0)  # (hub CPU time, tokens, wall time) when last measured

    def flow(self) -> Flow:
        """A flow for a stream about to be admitted (counted from `admit`); with the
        forecast off, one whose tokens are not observed: nothing reads them, and the
        observation was about 2 us of every token's CPU (py-spy, the bench's CPU row)."""
        return Flow(self) if self.target > 0 else Unobserved(self)

    def capacity(self) -> float:
        """Tokens a second the hub can relay at its target share of a core."""
        if self.target <= 0 or not self.cost:
            return float("inf")
        return self.target / self.cost

    def fits(self) -> bool:
        """Whether one more stream at the expected rate fits (always, with none running:
        a worker that admits nothing never measures anything)."""
        return self.flows == 0 or self.load + self._expected <= self.capacity()

    def admit(self, flow: Flow) -> None:
        """Count `flow` at the expected rate from now (unless it already ended)."""
        with self._lock:
            if flow.ended or flow.active:
                return
            flow.active = True
            flow.rate = self._expected
            self.load += flow.rate
            self.flows += 1

    def ended(self, flow: Flow) -> None:
        with self._lock:
            if not flow.active:
                return
            flow.active = False
            self.load = max(0.0, self.load - flow.rate)
            self.flows -= 1
            if flow.own and flow.gap > 0:
                self.observed(1.0 / flow.gap)

    def observed(self, rate: float) -> None:
        """A stream's rate, as soon as it has its own and again when it ends: what new
        streams are expected at (the median of the last `RECENT`)."""
        self._recent.append(rate)
        self._expected = statistics.median(self._recent)

    def measure(self) -> None:
        """Called by the monitor, in the hub's thread, about once a second: the cost per
        token over the last interval, when it relayed enough tokens to tell; measures
        older than `WINDOWS` seconds are forgotten (with none left, the capacity is
        unbounded again and the lag gate brakes alone)."""
        cpu, tokens, now = time.thread_time(), self.tokens, time.monotonic()
        last_cpu, last_tokens, _ = self._measured
        self._measured = (cpu, tokens, now)
        relayed, spent = tokens - last_tokens, cpu - last_cpu
        LOAD.labels("load").set(self.load)
        costs = self._costs
        while costs and costs[0][0] < now - WINDOWS:
            costs.popleft()
        if relayed >= MIN_TOKENS:
            costs.append((now, spent / relayed))
        self.cost = min(cost for _, cost in costs) if costs else None
        if self.cost is not None:
            COST.set(self.cost)
        LOAD.labels("capacity").set(self.capacity())
