"""Prometheus metrics, multiprocess-safe under gunicorn.

gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at a fresh folder before the
workers fork, so each worker writes its own files and `/metrics` on any worker
adds them up; without it (tests, `flask run`) the default registry is used.
Counters on the hot path are bumped once per stream, not once per token.

A scrape must cost little and never fail: nothing here walks the heap (counting
live greenlets with `gc.get_objects()` took 80 ms a scrape and stalled streams),
and when the worker is out of file descriptors the scrape answers with what it
can count without opening a file, instead of a 500. `METRICS_TOKEN`, when set,
is required as a bearer token.
"""

from __future__ import annotations

import errno
import hmac
import logging
import os
import resource
import threading
from collections.abc import Iterator

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from interview_app.problems import UNAUTHORIZED, Refused
from interview_app.streaming.metrics import OncePer
from interview_app.web.services import services

bp = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)
_degraded = OncePer(60.0)


def _open_fds() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except FileNotFoundError:
        return 0
    except OSError as exc:
        if exc.errno in (errno.EMFILE, errno.ENFILE):
            return resource.getrlimit(resource.RLIMIT_NOFILE)[0]  # all of them, then
        raise


class _ProcessCollector(Collector):
    """This worker's file descriptors and threads: what a leak would grow.

    Greenlets are not counted by walking the heap; the producers of stored streams,
    the only greenlets we start, are the `interview_app_producers` gauge.
    """

    def collect(self) -> Iterator[Metric]:
        pid = str(os.getpid())
        fds = GaugeMetricFamily("interview_app_open_fds", "Open file descriptors.", labels=["pid"])
        fds.add_metric([pid], _open_fds())
        yield fds
        threads = GaugeMetricFamily("interview_app_threads", "Live threads.", labels=["pid"])
        threads.add_metric([pid], threading.active_count())
        yield threads


def _authorized() -> bool:
    settings = services().settings
    if not settings.metrics_token:
        return True
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {settings.metrics_token}".encode())


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format."""
    if not _authorized():
        raise Refused(UNAUTHORIZED)
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Default())
    registry.register(_ProcessCollector())
    try:
        body = generate_latest(registry)
    except OSError as exc:
        if exc.errno not in (errno.EMFILE, errno.ENFILE):
            raise
        # Out of descriptors: the other workers' files cannot be opened now.
        if _degraded.ready():
            log.warning("metrics: out of file descriptors, answering this worker's only")
        fallback = CollectorRegistry()
        fallback.register(_ProcessCollector())
        body = generate_latest(fallback)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


class _Default(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
