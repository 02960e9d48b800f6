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
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

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
