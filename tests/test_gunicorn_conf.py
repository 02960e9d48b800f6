"""gunicorn.conf.py's worker hooks, in a worker it starts (gunicorn + gevent, as deployed)."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers.server import Server


def _probe(env: dict[str, str]) -> dict[str, Any]:
    server = Server(env, app="tests.helpers.gc_probe:app", health="/")
    try:
        conn = server.connection()
        conn.request("GET", "/")
        found: dict[str, Any] = json.loads(conn.getresponse().read())
        conn.close()
    finally:
        server.stop()
    return found


def test_the_worker_freezes_what_it_imported_and_collects_less_often() -> None:
    found = _probe({})
    # Everything loaded before serving is out of the collector's walks ...
    assert found["frozen"] > 10_000, found
    # ... and the youngest generation waits for 20,000 allocations, not 700.
    assert found["threshold"][0] == 20_000, found


def test_a_burst_of_connections_landed_on_running_streams_a_hundred_at_a_time() -> None:
    # Regression (bench.burst): one worker kept gevent's 100 accepts per wake-up, and each
    # accepted request ran its few ms of CPU before the running streams' next tokens
    # (added latency p99 1.3 s on /api/feedback; 63 ms one at a time).
    assert _probe({})["max_accept"] == 1
    assert _probe({"MAX_ACCEPT": "4"})["max_accept"] == 4
