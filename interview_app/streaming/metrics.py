"""The stream counters, bumped once per stream (never per token) by the relay and the API.

prometheus-client's multiprocess mode adds them up across workers; `web/metrics.py`
serves them.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

STREAMS_ACTIVE = Gauge(
    "interview_app_streams_active", "Streams being generated now.", multiprocess_mode="livesum"
)
STREAMS_STARTED = Counter(
    "interview_app_streams_started_total", "Streams started.", ["kind", "backend"]
)
STREAMS_FINISHED = Counter(
    "interview_app_streams_finished_total", "Streams finished, by outcome.", ["outcome"]
)
TIME_TO_FIRST_TOKEN = Histogram(
    "interview_app_time_to_first_token_seconds",
    "From the request to the first text relayed.",
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30),
)
TOKENS_RELAYED = Counter("interview_app_tokens_relayed_total", "Text deltas relayed.")
UPSTREAM_ERRORS = Counter(
    "interview_app_upstream_errors_total", "Upstream failures, by kind.", ["kind"]
)
CLIENT_DISCONNECTS = Counter(
    "interview_app_client_disconnects_total", "Readers that left before the stream ended."
)
PRODUCERS = Gauge(
    "interview_app_producers",
    "Generations running in a greenlet of their own (stored streams).",
    multiprocess_mode="livesum",
)


class OncePer:
    """Lets one log line through per `seconds`: a burst of the same failure logs once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._next = 0.0
        self.suppressed = 0

    def ready(self) -> bool:
        """True at most once per `seconds`; counts the calls it turned down."""
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.seconds
            return True
        self.suppressed += 1
        return False
