"""gunicorn.conf.py's worker hooks, in a worker it starts (gunicorn + gevent, as deployed)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
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


def test_max_accept_says_how_many_new_connections_a_worker_takes_per_turn() -> None:
    # 1 by default, as gunicorn gives several workers: gevent's 100 let a burst land on
    # the running streams in lumps (docs/benchmarks-burst.md).
    assert _probe({})["max_accept"] == 1
    assert _probe({"MAX_ACCEPT": "100"})["max_accept"] == 100


def _metrics_folders(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.glob("interview_app-metrics-*"))


def test_the_metrics_folder_was_left_behind_at_every_start(tmp_path: Path) -> None:
    server = Server({"TMPDIR": str(tmp_path), "HISTORY": "off"})
    try:
        assert _metrics_folders(tmp_path), "no metrics folder"
        # A reload runs the configuration again, with the folder already set: it is
        # still the master's own, and still removed when it exits.
        server.process.send_signal(signal.SIGHUP)
        time.sleep(2)
        server.wait_ready()
        assert len(_metrics_folders(tmp_path)) == 1
    finally:
        assert server.stop() == 0
    assert _metrics_folders(tmp_path) == []


def test_an_operators_metrics_folder_is_never_removed(tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    server = Server({"PROMETHEUS_MULTIPROC_DIR": str(folder), "HISTORY": "off"})
    assert server.stop() == 0
    assert folder.is_dir()
