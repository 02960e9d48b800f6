"""Prometheus metrics, multiprocess-safe under gunicorn.

gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at a fresh folder before the
workers fork, so each worker writes its own files and `/metrics` on any worker
adds them up; without it (tests, `flask run`) the default registry is used.
Counters on the hot path are bumped once per stream, not once per token.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator

from flask import Blueprint, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

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

bp = Blueprint("metrics", __name__)


class _ProcessCollector(Collector):
    """This worker's file descriptors, threads and greenlets: what a leak would grow."""

    def collect(self) -> Iterator[Metric]:
        pid = str(os.getpid())
        fds = GaugeMetricFamily("interview_app_open_fds", "Open file descriptors.", labels=["pid"])
        fds.add_metric(
            [pid], len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0
        )
        yield fds
        threads = GaugeMetricFamily("interview_app_threads", "Live threads.", labels=["pid"])
        threads.add_metric([pid], threading.active_count())
        yield threads
        try:
            from greenlet import greenlet
        except ImportError:  # pragma: no cover - greenlet comes with gevent
            return
        count = sum(1 for o in gc.get_objects() if isinstance(o, greenlet) and not o.dead)
        live = GaugeMetricFamily("interview_app_greenlets", "Live greenlets.", labels=["pid"])
        live.add_metric([pid], count)
        yield live


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_Default())
    registry.register(_ProcessCollector())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


class _Default(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
