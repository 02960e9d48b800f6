"""Cheap unique ids for requests and quota tickets."""

from __future__ import annotations

import itertools
import os
from contextvars import ContextVar

_ids = itertools.count()
_prefix = ("", -1)


def new_id() -> str:
    """A 32-hex-digit id unique across processes: a random per-process prefix and a counter.

    Cheaper than uuid4() per request, which showed up in a worker's profile at a
    thousand streams.
    """
    global _prefix
    if _prefix[1] != os.getpid():
        _prefix = (os.urandom(6).hex(), os.getpid())
    return f"{_prefix[0]}{next(_ids):020x}"


# The request a log line belongs to, for work that outlives the request's context (a
# stored stream's producer greenlet); the log filter reads it where Flask's `g` is gone.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
