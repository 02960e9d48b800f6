"""Native work off the gevent hub: recognition runs in a real OS thread.

Under gunicorn's gevent worker `threading` is patched, so a "thread" is a greenlet
and a long native call in it would stop every stream of the worker. gevent's hub
keeps a pool of real threads for exactly this; the recognisers' native code
(CTranslate2, Kaldi through cffi) releases the GIL, so the hub keeps running while
they work. Without gevent (tests, a plain WSGI server) the call simply runs here.
gevent belongs to the server: this is the one module that asks whether it is there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def under_gevent() -> bool:
    """Whether this process runs under gevent's monkey-patching (a gunicorn gevent worker)."""
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return False
    return bool(monkey.is_module_patched("threading"))


def call(work: Callable[[], T]) -> T:
    """`work()` in a real thread when under gevent (the caller's greenlet waits), else here."""
    if not under_gevent():
        return work()
    import gevent

    def caught() -> tuple[bool, object]:
        # gevent's pool prints the traceback of anything raised in its thread to stderr
        # (13 lines for each refused upload): the exception is carried back instead and
        # raised here, where the caller handles it.
        try:
            return True, work()
        except Exception as exc:
            return False, exc

    ok, value = gevent.get_hub().threadpool.apply(caught)
    if not ok:
        assert isinstance(value, Exception)
        raise value
    return value  # type: ignore[no-any-return]
