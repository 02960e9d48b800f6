"""Cheap unique ids for requests and quota tickets."""

from __future__ import annotations

import itertools
import os

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
