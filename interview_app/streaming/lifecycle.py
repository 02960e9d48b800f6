"""Graceful shutdown: on SIGTERM, let streams finish, then end the rest cleanly.

gunicorn.conf.py calls `drain()` in a new thread when the worker gets SIGTERM;
gunicorn itself stops accepting and waits `graceful_timeout` (25 s) for open
connections. Here: new streams are refused with 503 at once; running
generations get `SHUTDOWN_DRAIN_SECONDS` to finish, and any still running then
end with a retryable `server_restarting` error event, so every reader sees a
clear ending and the worker exits well before Heroku's SIGKILL at 30 s. With
Redis, a reader of a stream generated elsewhere is let go without an ending, so
EventSource reconnects to another instance and resumes there.
"""

from __future__ import annotations

import logging
import threading
import time

from interview_app.problems import RESTARTING
from interview_app.streaming.quotas import Quotas

log = logging.getLogger(__name__)


class Lifecycle:
    """The worker's shutdown state."""

    def __init__(self, quotas: Quotas, drain_seconds: float) -> None:
        self.quotas = quotas
        self.drain_seconds = drain_seconds
        self.stopping = threading.Event()

    def drain(self) -> None:
        """Stop taking streams, wait for running ones, end what is left."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        deadline = time.monotonic() + self.drain_seconds
        log.info("draining %d streams", len(self.quotas.active))
        while self.quotas.active and time.monotonic() < deadline:
            time.sleep(0.1)
        left = self.quotas.streams()
        for stream in left:
            try:
                stream.cancel(RESTARTING)
            except Exception:
                log.exception("could not end a stream on shutdown")
        log.info("drained; %d streams ended early", len(left))
