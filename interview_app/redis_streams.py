"""Stream buffers in Redis, so any worker on any machine can serve any stream.

Layout, per stream id:
- `ia:s:<id>:ev`, a Redis Stream whose entry ids are `0-<n>`, n being our SSE id,
  so `Last-Event-ID: N` maps to `XREAD ... 0-N` with no translation table;
- `ia:s:<id>:meta`, a hash: `n` (last id), `ended`, `readers`, `idle_since`.

Appends go through one Lua script, so numbering and the "nothing after the first
terminal event" rule hold across instances: a `DELETE` or an abandon decided on
another machine ends the stream for the producer too, which learns it on its next
append (or from the janitor, which also closes its upstream).

Only the instance that runs a generation sweeps it (grace period); Redis expires
everything after `STREAM_TTL_SECONDS`. Redis errors surface as `StoreUnavailable`.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
import redis

from interview_app.streams import ABANDONED, Janitor, StoreUnavailable

_APPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'ended') == '1' then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('XADD', KEYS[2], '0-' .. n, 'e', ARGV[1], 'd', ARGV[2])
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], 'ended', '1')
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
return n
"""

# A generation that never ends (a crashed producer) is still forgotten eventually.
_RUNNING_TTL = 3600


def _frame(n: int, event: bytes, data: bytes) -> bytes:
    head = b"id: %d\n" % n
    if event:
        head += b"event: " + event + b"\n"
    return head + b"data: " + data + b"\n\n"


class RedisStream:
    """A view of one stream in Redis; cheap to create, holds no connection."""

    def __init__(self, store: RedisStore, stream_id: str) -> None:
        self.store = store
        self.id = stream_id
        self._meta = f"ia:s:{stream_id}:meta"
        self._events = f"ia:s:{stream_id}:ev"
        self._cancel: Callable[[], None] | None = None

    def _append(self, event: str, data: bytes, terminal: bool) -> bool:
        try:
            n = self.store.append_script(
                keys=[self._meta, self._events],
                args=[event, data, "1" if terminal else "0", int(self.store.ttl) or 1],
            )
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from None
        return int(n) > 0

    def append_text(self, text: str) -> bool:
        return self._append("", b'{"text":' + orjson.dumps(text) + b"}", False)

    def finish(self, event: str, payload: dict[str, Any]) -> bool:
        return self._append(event, orjson.dumps(payload), True)

    def read(self, after: int, timeout: float) -> tuple[list[bytes], bool]:
        try:
            reply: Any = self.store.redis.xread(
                {self._events: f"0-{after}"}, count=1000, block=max(1, int(timeout * 1000))
            )
            if not reply:
                return [], self.size()[1]
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from None
        frames = []
        ended = False
        for entry_id, fields in reply[0][1]:
            n = int(entry_id.split(b"-")[1])
            event = fields[b"e"]
            frames.append(_frame(n, event, fields[b"d"]))
            ended = event in (b"done", b"error")
        return frames, ended

    def size(self) -> tuple[int, bool]:
        try:
            n, ended = self.store.redis.hmget(self._meta, ["n", "ended"])
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from None
        return int(n or 0), ended == b"1"

    def attach(self) -> None:
        try:
            self.store.redis.hincrby(self._meta, "readers", 1)
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from None

    def detach(self) -> None:
        try:
            pipe = self.store.redis.pipeline()
            pipe.hincrby(self._meta, "readers", -1)
            pipe.hset(self._meta, "idle_since", time.time())
            pipe.execute()
        except redis.RedisError:
            pass  # the janitor treats a missing detach as a reader; TTL still applies

    def idle_for(self, now: float) -> float:
        readers, since = self.store.redis.hmget(self._meta, ["readers", "idle_since"])
        if int(readers or 0) > 0:
            return 0.0
        return now - float(since or now)

    def on_cancel(self, callback: Callable[[], None]) -> None:
        # Generation starts: the grace period counts from here (see MemoryStream).
        self._cancel = callback
        try:
            self.store.redis.hset(self._meta, "idle_since", time.time())
        except redis.RedisError:
            pass  # the producer's first append will report the outage

    def cancel(self, payload: dict[str, Any]) -> None:
        try:
            self.finish("error", payload)
        finally:
            if self._cancel is not None:
                self._cancel()


class RedisStore:
    """Streams in Redis; this instance sweeps the generations it runs."""

    def __init__(self, client: redis.Redis, ttl: float, grace: float) -> None:
        self.redis = client
        self.ttl = ttl
        self.grace = grace
        self.append_script = client.register_script(_APPEND)
        self._local: dict[str, RedisStream] = {}
        self._lock = threading.Lock()
        self._janitor = Janitor(self.sweep, grace / 4)

    def create(self) -> RedisStream:
        stream = RedisStream(self, secrets.token_urlsafe(16))
        try:
            self.redis.hset(
                stream._meta, mapping={"n": 0, "ended": 0, "readers": 0, "idle_since": time.time()}
            )
            self.redis.expire(stream._meta, _RUNNING_TTL)
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from None
        with self._lock:
            self._local[stream.id] = stream
        self._janitor.ensure_started()
        return stream

    def get(self, stream_id: str) -> RedisStream | None:
        with self._lock:
            local = self._local.get(stream_id)
        if local is not None:
            return local
        stream = RedisStream(self, stream_id)
        try:
            exists = self.redis.exists(stream._meta)
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from None
        return stream if exists else None

    def is_local(self, stream_id: str) -> bool:
        """Whether this instance generates the stream."""
        with self._lock:
            return stream_id in self._local

    def running(self) -> list[RedisStream]:
        """The generations this instance runs."""
        with self._lock:
            return list(self._local.values())

    def sweep(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        for stream in self.running():
            if stream._cancel is None:
                continue  # still opening the upstream
            try:
                _, ended = stream.size()
                if not ended and stream.idle_for(now) > self.grace:
                    stream.cancel(ABANDONED)
                    ended = True
            except (StoreUnavailable, redis.RedisError):
                continue  # Redis is down: try again next sweep
            if ended:
                if stream._cancel is not None:
                    stream._cancel()  # ended elsewhere (DELETE on another instance)
                with self._lock:
                    self._local.pop(stream.id, None)
