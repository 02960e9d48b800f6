"""gunicorn.conf.py's worker hooks, in a worker it starts (gunicorn + gevent, as deployed)."""

from __future__ import annotations

import json

from tests.helpers.server import Server


def test_the_worker_freezes_what_it_imported_and_collects_less_often() -> None:
    server = Server({}, app="tests.helpers.gc_probe:app", health="/")
    try:
        conn = server.connection()
        conn.request("GET", "/")
        found = json.loads(conn.getresponse().read())
        conn.close()
    finally:
        server.stop()
    # Everything loaded before serving is out of the collector's walks ...
    assert found["frozen"] > 10_000, found
    # ... and the youngest generation waits for 20,000 allocations, not 700.
    assert found["threshold"][0] == 20_000, found
