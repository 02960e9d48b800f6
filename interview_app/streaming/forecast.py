"""Admission by forecast: a new stream opens while the token load of the streams already
running, plus its own, stays under what the worker can relay.

Every admitted stream is a `Flow`: its token rate is observed as it relays (an EWMA of
the time between its tokens); until it has `OWN_AFTER` tokens of its own it counts as
the median of the last `RECENT` rates seen, each stream's taken when it first has one
of its own and again when it ends (`FIRST_RATE` before any). The worker knows its cost
per token: the hub's CPU time (`time.thread_time()` read in the hub's own thread by the
monitor, so recognition threads and the like are not counted) over the tokens relayed,
measured each second that relayed `MIN_TOKENS` or more, the lowest of the measures of
the last `WINDOWS` seconds. Its capacity is `target` (a share of one core) over that
cost; with no measure that recent, the capacity is unbounded and the loop-lag gate
(`hub.py`) brakes alone.

Why the lowest recent cost: the cost per token falls as the load grows (a busy relay
reads several tokens a wake-up: 120-130 us a token at 2,000 tokens a second here, 74 us
at 25,000 in the bench's CPU row), and a second spent accepting a burst spends its CPU
on requests, not tokens. Read from every second, the cost let 117-180 of a burst of
1,000 streams run and refused the rest after their wait, while the same worker relayed
992 of them on time with the forecast off. A least-squares fit of CPU on tokens, streams
opened and streams ended was tried instead: under steady load the three move together
and it could not tell them apart. Why recent: measures were kept until ten newer ones
replaced them, and the only seconds that measured were those busy with half a core or
more, so a cost read while 5,000 slow streams (2 tokens a second) were being accepted
(about 600 us a token, their requests' CPU) held the streams admitted after it to too
few ever to make a second busy again: 472 of 5,000 ran, the rest were refused. Why a
stream's own rate as soon as it has one: those streams ran 30 s, and each new one was
counted at 20 tokens a second, ten times its rate, until the first of them ended.

Why: 1,000 streams started at once were all admitted and every one stuttered (added
latency p99 2.9-6.4 s against Node's 0.13-0.21 s, issue 35) though our CPU per token was
lower: a stream that starts a second later is fine, one that stops mid-sentence is not.
The loop-lag gate reads how late the hub is *now*; a burst's streams are admitted before
their tokens arrive, so by the time the hub is late it has admitted too many. The
forecast counts tokens that have not arrived yet. Written here because no library
forecasts an event loop's load; the arithmetic is a few lines.

On by default (`HUB_TARGET_UTILISATION=0.85`) since it is paired with one new connection
a turn of the loop (`MAX_ACCEPT=1`, gunicorn.conf.py): alone, the connections it held
were accepted 100 at a time and their requests stalled the running streams anyway
(1,000-stream burst, added latency p99 323 / 736 ms on `/api/answer` / `/api/feedback`)
and 14-20% were refused after 6 s at the gate; `MAX_ACCEPT=1` alone kept the pace but
left the burst unaccepted, without headers, for up to 9.6 s. Together, with 15 s at the
gate, medians of three (docs/benchmarks-burst.md): 1,000 streams in 0.5 s all complete,
added latency p50 / p99 7.0 / 95 ms on `/api/answer` and 8.2 / 63 ms on `/api/feedback`
(Node 24 / 107 ms), first byte p99 1.5 s (Node 7.3 s). What it costs: the first token,
p99 8.9 s against Node's 7.3 s (500 streams: 3.6 against 2.3 s), since a cost per token
read while streams are being opened includes their requests' CPU (a second of 14
openings and 3,384 tokens: 137 us a token, against about 100 us for the relay alone),
and so admits fewer streams than the worker could carry. Why 0.85 and not 0.7: at 0.7,
300 streams started over 5 s at 20 tokens a second, which one worker carries (first
token p99 0.35 s with the forecast off), waited 0.6-1.2 s for their first token (at
0.85: 0.19-0.28 s), while 1,000 streams in 0.5 s kept their pace at either (three runs
each alternated, apart from the bench's: p50 / p99 4-6 / 52-81 ms at 0.7, 8-10 / 65-95
ms at 0.85). And CPU per token in
the bench's CPU row, which overloads the worker (three runs alternated, medians 91 us
before issue 35, 91 at 0.7 and 100 at 0.85, each spreading 80-120 us from run to run),
where tokens no longer queue behind stalls and travel one to a write.
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

FIRST_RATE = 20.0  # tokens a second a stream counts as before any rate is known
OWN_AFTER = 5  # tokens a stream relays before its own rate replaces the median
ALPHA = 0.2  # weight of the newest interval in a stream's EWMA
WINDOWS = 10.0  # seconds a measure of the cost per token is kept (the lowest is used)
MIN_TOKENS = 1000  # tokens in a second for that second to measure the cost
RECENT = 128  # streams' rates (each when first its own and when it ended) in the median


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
        self._measured = (0.0, 0)  # (hub CPU time, tokens) when last measured

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
                self._observe(1.0 / flow.gap)

    def observed(self, rate: float) -> None:
        """A stream's rate, as soon as it has its own and again when it ends: what new
        streams are expected at (the median of the last `RECENT`)."""
        with self._lock:
            self._observe(rate)

    def _observe(self, rate: float) -> None:
        self._recent.append(rate)
        self._expected = statistics.median(self._recent)

    def measure(self) -> None:
        """Called by the monitor, in the hub's thread, about once a second: the cost per
        token over the last interval, when it relayed enough tokens to tell; measures
        older than `WINDOWS` seconds are forgotten (with none left, the capacity is
        unbounded again and the lag gate brakes alone)."""
        cpu, tokens, now = time.thread_time(), self.tokens, time.monotonic()
        last_cpu, last_tokens = self._measured
        self._measured = (cpu, tokens)
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
