"""A WSGI app that reports the worker's garbage-collector settings and how many connections
its server accepts at once, for the test of gunicorn.conf.py's worker hooks (it is served
by our gunicorn config, as deployed)."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable
from typing import Any


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    from gevent.server import StreamServer

    found = {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}
    body = json.dumps({**found, "max_accept": StreamServer.max_accept})
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode()]
