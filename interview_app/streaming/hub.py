"""How late the worker's event loop runs, and a gate that opens new streams only while it
runs on time.

Under gevent every stream of a worker shares one hub: CPU-bound work on it (a burst of
streams being opened, a history write) delays the tokens of every stream already
running. The monitor is a greenlet that asks to sleep `INTERVAL` and records how late
it wakes (`interview_app_hub_lag_seconds`, a histogram operators keep); the gate reads
the last wake-up's lateness. (It read a decaying maximum, which remembered one late
wake-up for several ticks: at 100 streams, where the hub is late only now and then, that
held openings back for nothing; the bound also went from 10 to 25 ms. Over four
alternating runs of the curve against the seed's Node stack, TTFB p99 at 100 streams went
from 111-119 ms to 80-91 ms (Node 73-84), at 500 from 343-369 to 272-302 ms (Node
476-977), and 1,000 streams met Node's latency in two runs of four instead of none:
docs/benchmarks-analysis.md.)

The gate is admission by lag rather than by count, as CoDel does for queues: a new
stream's CPU-bound opening (building and sending its upstream request) waits while the
hub is late, at most `max_wait` seconds, and at most `per_tick` openings are let
through per tick, so a burst is spread over the ticks instead of landing on the hub
at once. Waiting openings queue in arrival order and the monitor lets them through at
each tick while the hub is on time: a waiter costs one Event and no CPU. (The first
gate had each waiter poll every 5 ms: a burst of 1,000 waiters woke 200,000 times a
second, about 1.5 s of CPU in the 1,000-stream curve, taken from the streams it was
meant to protect.) The wait for the upstream's first byte is never counted: the gate
is released as soon as the request is sent. Written here because no library measures
gevent's loop lag; the histogram is prometheus-client's.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from prometheus_client import Gauge, Histogram

from interview_app import problems
from interview_app.problems import Refused
from interview_app.streaming.forecast import Flow, Forecast

T = TypeVar("T")
INTERVAL = 0.01  # how long the monitor asks to sleep
BUSY_RETRY_SECONDS = 2  # Retry-After of an opening refused past the gate's wait
QUEUED_AFTER = 0.25  # seconds held before the stream begins while it waits (`queued`)
UNREFUSED_MAX_WAIT = 6.0  # the longest an opening that is never refused waits its turn
MEASURE_TICKS = 100  # ticks between two measures of the cost per token (about a second)

HUB_LAG = Histogram(
    "interview_app_hub_lag_seconds",
    "How late the worker's event loop woke a greenlet that asked to sleep 10 ms.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

HUB_LAG_LONGEST = Gauge(
    "interview_app_hub_lag_longest_seconds",
    "The longest the worker's event loop was late, since it started (a stall).",
    multiprocess_mode="max",
)


class Hub:
    """The monitor (`start`) and the opening gate (`wait_turn`)."""

    def __init__(
        self, bound: float, max_wait: float, per_tick: int = 4, forecast: Forecast | None = None
    ) -> None:
        self.bound = bound  # the lag above which new openings wait; 0 turns the gate off
        self.max_wait = max_wait
        self.per_tick = per_tick
        # The admitted streams' token load against the worker's capacity (forecast.py).
        self.forecast = forecast or Forecast(0.0)
        self.longest = 0.0  # the longest the hub was late, since start
        self.lag = 0.0  # how late the last tick woke, seconds
        self.ticks = 0
        self._started = False
        self._lock = threading.Lock()
        self._tick = -1  # the tick the count below is for
        self._passed = 0  # openings let through in that tick
        self._waiting: deque[tuple[threading.Event, Flow | None]] = deque()  # arrival order

    def start(self) -> None:
        """Run the monitor in this process (once): under gevent, a greenlet."""
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._run, name="hub-monitor", daemon=True).start()

    def _run(self) -> None:
        while True:
            began = time.perf_counter()
            time.sleep(INTERVAL)
            late = max(0.0, time.perf_counter() - began - INTERVAL)
            self.lag = late
            if late > self.longest:
                self.longest = late
                HUB_LAG_LONGEST.set(late)
            self.ticks += 1
            HUB_LAG.observe(late)
            if self.ticks % MEASURE_TICKS == 0:
                self.forecast.measure()  # in the hub's own thread: its CPU time
            self._release()

    def _room(self) -> bool:
        """Whether this tick lets one more opening through (and counts it if so)."""
        if self._tick != self.ticks:
            self._tick, self._passed = self.ticks, 0
        if self._passed >= self.per_tick:
            return False
        self._passed += 1
        return True

    def _release(self) -> None:
        """At a tick: let the longest waiters through while the hub runs on time and the
        next one's forecast load fits."""
        forecast = self.forecast
        with self._lock:
            while self._waiting and self._waiting[0][1] is not None and self._waiting[0][1].ended:
                self._waiting.popleft()[0].set()  # its reader left: it fails at once, unopened
            while (self._waiting and self.lag <= self.bound and forecast.fits()
                   and self._room()):  # fmt: skip
                turn, flow = self._waiting.popleft()
                if flow is not None:
                    forecast.admit(flow)
                turn.set()

    def admit(
        self,
        opening: threading.BoundedSemaphore,
        open_: Callable[[], T],
        flow: Flow | None = None,
        *,
        refuse: bool = True,
        queued: Callable[[], None] | None = None,
    ) -> T:
        """`open_()` once its turn has come (`wait_turn`) and one of the worker's
        MAX_OPENING_STREAMS places (`opening`) is free: how every generation is opened,
        a candidate's and the interviewer's alike. `flow` counts its tokens from then."""
        self.wait_turn(flow, refuse=refuse, queued=queued)
        with opening:
            return open_()

    def wait_turn(
        self,
        flow: Flow | None = None,
        *,
        refuse: bool = True,
        queued: Callable[[], None] | None = None,
    ) -> float:
        """Wait, at most `max_wait`, until the hub runs on time, the forecast load has room
        for one more stream and a tick has room for this opening (after those that came
        first); returns the seconds waited. Past `max_wait`: `Refused` (`server_busy`, a
        retry may land on a worker with room) rather than one more stream for all to
        share the stutter of; unless not `refuse` (the interviewer's next words, in an
        interview whose turn is already saved: refused, it would stand still), when it
        goes anyway, counted, after at most `UNREFUSED_MAX_WAIT`. `queued` is called once
        it has waited `QUEUED_AFTER`."""
        if self.bound <= 0 or not self._started:
            if flow is not None:
                self.forecast.admit(flow)
            return 0.0
        with self._lock:
            if (not self._waiting and self.lag <= self.bound and self.forecast.fits()
                    and self._room()):  # fmt: skip
                if flow is not None:
                    self.forecast.admit(flow)
                return 0.0
            turn = threading.Event()
            self._waiting.append((turn, flow))
        began = time.monotonic()
        # Not refusable, it goes after the earlier, shorter wait: a caller holds its request
        # (an interview's first question) until then, and it goes anyway.
        limit = self.max_wait if refuse else min(self.max_wait, UNREFUSED_MAX_WAIT)
        # A hold of a tick or two keeps a prompt refusal of the upstream an HTTP status; a
        # longer one begins the stream (`queued`) so that its reader has its headers.
        if queued is not None and limit > QUEUED_AFTER and not turn.wait(QUEUED_AFTER):
            queued()
        if not turn.wait(max(0.0, limit - (time.monotonic() - began))):
            with self._lock:
                if (turn, flow) in self._waiting:  # not let through meanwhile
                    self._waiting.remove((turn, flow))
                    if refuse:
                        raise Refused(problems.SERVER_BUSY, retry_after=BUSY_RETRY_SECONDS)
                    if flow is not None:
                        self.forecast.admit(flow)
        return time.monotonic() - began
