"""Stream buffers in Redis, so any worker on any machine can serve any stream.

Layout, per stream id:
- `ia:s:<id>:ev`, a Redis Stream whose entry ids are `0-<n>`, n being our SSE id,
  so `Last-Event-ID: N` maps to `XREAD ... 0-N` with no translation table;
- `ia:s:<id>:meta`, a hash: `n` (last id), `ended`, `readers`, `idle_since`.

Appends go through one Lua script, so numbering and the "nothing after the first
terminal event" rule hold across instances: a `DELETE` or an abandon decided on
another machine ends the stream for the producer too, which learns it on its next
append (or from the janitor, which also closes its upstream).

Every key has a TTL at every moment: the meta hash gets one in the same
transaction that creates it, the events key on the append that creates it (a
worker that dies mid-generation leaves nothing behind for longer than
`_RUNNING_TTL`), and readers' bookkeeping only touches a meta hash that still
exists, so it can never re-create one without a TTL. A finished stream's keys
expire `STREAM_TTL_SECONDS` after its last event.

Leases: the instance that generates a stream holds `ia:s:<id>:lease`, a key
that expires `STREAM_LEASE_SECONDS` after it was last renewed (from creation on,
renewed by the janitor while it generates). A reader that finds nothing new and
the lease gone (the worker was killed, or Redis lost it) ends the stream for
everyone with a retryable `stream_lost` error event; one that finds the stream
itself gone (Redis restarted empty) ends with the same event. So no reader waits
on pings for a generation that no longer exists.

Only the instance that runs a generation sweeps it (grace period). Redis errors
surface as `StoreUnavailable`.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

import orjson
import redis

from interview_app.problems import ABANDONED, CANCELLED, INTERNAL, STREAM_LOST, Problem
from interview_app.streaming.sse import frame
from interview_app.streaming.store import Janitor, Stop, StoreUnavailable

_APPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'ended') == '1' then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('XADD', KEYS[2], '0-' .. n, 'e', ARGV[1], 'd', ARGV[2])
if n == 1 then redis.call('EXPIRE', KEYS[2], ARGV[5]) end
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], 'ended', '1')
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
return n
"""

# Readers' bookkeeping, only on a stream that still exists (never re-creates the hash).
_TOUCH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'readers', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'idle_since', ARGV[2]) end
return 1
"""

# A generation that never ends (a crashed producer) is still forgotten eventually.
_RUNNING_TTL = 3600


class RedisStream:
    """A view of one stream in Redis; cheap to create, holds no connection."""

    def __init__(self, store: RedisStore, stream_id: str) -> None:
        self.store = store
        self.id = stream_id
        self.meta_key = f"ia:s:{stream_id}:meta"
        self.events_key = f"ia:s:{stream_id}:ev"
        self.lease_key = f"ia:s:{stream_id}:lease"
        self._stop: Stop | None = None
        self.created_at = time.time()
        self.producing = True  # this instance renews the lease (when it created it)

    def _append(self, event: str, data: bytes, terminal: bool) -> bool:
        try:
            n = self.store.append_script(
                keys=[self.meta_key, self.events_key],
                args=[
                    event,
                    data,
                    "1" if terminal else "0",
                    int(self.store.ttl) or 1,
                    _RUNNING_TTL,
                ],
            )
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from None
        return int(n) > 0

    def append_text(self, text: str) -> bool:
        return self._append("", b'{"text":' + orjson.dumps(text) + b"}", False)

    def append_event(self, event: str, payload: dict[str, Any]) -> bool:
        return self._append(event, orjson.dumps(payload), False)

    def finish(self, event: str, payload: dict[str, Any]) -> bool:
        return self._append(event, orjson.dumps(payload), True)

    def read(self, after: int, timeout: float) -> tuple[list[bytes], bool]:
        try:
            reply: Any = self.store.redis.xread(
                {self.events_key: f"0-{after}"}, count=1000, block=max(1, int(timeout * 1000))
            )
            if not reply:
                return self._quiet(after)
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from None
        return self._frames(reply)

    def _quiet(self, after: int) -> tuple[list[bytes], bool]:
        """Nothing new: check that the stream and its generator still exist."""
        pipe = self.store.redis.pipeline(transaction=False)
        pipe.hmget(self.meta_key, ["n", "ended"])
        pipe.exists(self.lease_key)
        (_, ended), leased = pipe.execute()
        if ended == b"1":
            # Ended since our read (another reader may just have written the ending):
            # what is left, the ending included, is read before this reader ends.
            rest: Any = self.store.redis.xread({self.events_key: f"0-{after}"}, count=1000)
            return self._frames(rest) if rest else ([], True)
        if ended is None:
            # Redis forgot the stream (restarted empty, or it expired).
            return [frame(orjson.dumps(STREAM_LOST.event()), event="error", id=after + 1)], True
        if not leased:
            # Its generator is gone: end it for every reader (the first ending wins).
            self.finish("error", STREAM_LOST.event())
            reply: Any = self.store.redis.xread({self.events_key: f"0-{after}"}, count=1000)
            return self._frames(reply) if reply else ([], True)
        return [], False

    def _frames(self, reply: Any) -> tuple[list[bytes], bool]:
        frames = []
        ended = False
        for entry_id, fields in reply[0][1]:
            n = int(entry_id.split(b"-")[1])
            event = fields[b"e"]
            frames.append(frame(fields[b"d"], event=event, id=n))
            ended = event in (b"done", b"error")
        return frames, ended

    def done_generating(self) -> None:
        """The producer stopped: stop renewing the lease, and let it go now."""
        self.producing = False
        try:
            self.store.redis.delete(self.lease_key)
        except redis.RedisError:
            pass  # it lapses on its own

    def size(self) -> tuple[int, bool]:
        try:
            n, ended = self.store.redis.hmget(self.meta_key, ["n", "ended"])
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from None
        return int(n or 0), ended == b"1"

    def _touch(self, readers: int, idle_since: str) -> None:
        try:
            self.store.touch_script(keys=[self.meta_key], args=[readers, idle_since])
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from None

    def attach(self) -> None:
        self._touch(1, "")

    def detach(self) -> None:
        try:
            self._touch(-1, repr(time.time()))
        except StoreUnavailable:
            pass  # the janitor treats a missing detach as a reader; the TTL still applies

    def idle_for(self, now: float) -> float:
        """Seconds with no reader attached (0 while one is)."""
        readers, since = self.store.redis.hmget(self.meta_key, ["readers", "idle_since"])
        if int(readers or 0) > 0:
            return 0.0
        return now - float(since or now)

    def generating(self) -> bool:
        """Whether generation has started here (`on_cancel` was called)."""
        return self._stop is not None

    def on_cancel(self, stop: Stop) -> None:
        # Generation starts: the grace period counts from here (see MemoryStream).
        self._stop = stop
        try:
            self._touch(0, repr(time.time()))
        except StoreUnavailable:
            pass  # the producer's first append will report the outage

    def cancel(self, problem: Problem) -> None:
        try:
            self.finish("error", problem.event())
        finally:
            self.stop(problem)

    def stop(self, problem: Problem) -> None:
        """Stop this instance's producer of the stream, if it runs here."""
        if self._stop is not None:
            self._stop(problem)


class RedisStore:
    """Streams in Redis; this instance sweeps the generations it runs."""

    def __init__(self, client: redis.Redis, ttl: float, grace: float, lease: float = 10.0) -> None:
        self.redis = client
        self.ttl = ttl
        self.grace = grace
        self.lease_ms = max(100, int(lease * 1000))
        self._renewed = 0.0
        self.append_script = client.register_script(_APPEND)
        self.touch_script = client.register_script(_TOUCH)
        self._local: dict[str, RedisStream] = {}
        self._lock = threading.Lock()
        self._janitor = Janitor(self.sweep, min(grace / 4, lease / 3))

    def create(self) -> RedisStream:
        stream = RedisStream(self, secrets.token_urlsafe(16))
        try:
            # One transaction: a worker that dies in between leaves no key without a TTL.
            pipe = self.redis.pipeline(transaction=True)
            meta = {"n": 0, "ended": 0, "readers": 0, "idle_since": time.time()}
            pipe.hset(stream.meta_key, mapping=meta)  # type: ignore[arg-type]
            pipe.expire(stream.meta_key, _RUNNING_TTL)
            pipe.set(stream.lease_key, 1, px=self.lease_ms)
            pipe.execute()
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from None
        with self._lock:
            self._local[stream.id] = stream
        self._janitor.ensure_started()
        return stream

    def get(self, stream_id: str) -> RedisStream | None:
        with self._lock:
            local = self._local.get(stream_id)
        if local is not None and local.producing:
            return local  # its producer runs here, and learns on its next append if Redis forgot it
        # A generation that ended here stays in `_local` until the next sweep: ask Redis,
        # which may have forgotten it (restarted empty) in the meantime.
        stream = RedisStream(self, stream_id)
        try:
            exists = self.redis.exists(stream.meta_key)
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

    def renew(self) -> None:
        """Extend the leases of the generations this instance runs (one round trip)."""
        producing = [s for s in self.running() if s.producing]
        if not producing:
            return
        pipe = self.redis.pipeline(transaction=False)
        for stream in producing:
            pipe.set(stream.lease_key, 1, px=self.lease_ms)
        pipe.execute()

    def sweep(self, now: float | None = None) -> None:
        """Renew leases, end this instance's abandoned generations, forget ended ones."""
        now = time.time() if now is None else now
        if time.monotonic() - self._renewed >= self.lease_ms / 3000:
            try:
                self.renew()
                self._renewed = time.monotonic()
            except redis.RedisError:
                pass  # Redis is down: the leases may lapse, and readers end those streams
        for stream in self.running():
            try:
                _, ended = stream.size()
                if ended:
                    stream.stop(CANCELLED)  # ended elsewhere (DELETE on another instance)
                elif not stream.generating():
                    if now - stream.created_at > 2 * self.ttl:
                        stream.cancel(INTERNAL)  # never started: its request died opening
                        ended = True
                elif stream.idle_for(now) > self.grace:
                    stream.cancel(ABANDONED)
                    ended = True
            except (StoreUnavailable, redis.RedisError):
                continue  # Redis is down: try again next sweep
            if ended or not stream.producing:
                with self._lock:
                    self._local.pop(stream.id, None)
