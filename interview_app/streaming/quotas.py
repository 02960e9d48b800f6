"""Who may start a stream: per-client rate and concurrency, and this worker's capacity.

- Rate (`RATE_LIMIT_PER_MINUTE` new streams per client): the `limits` library
  (the engine of Flask-Limiter, by the same maintainers), moving window, stored in
  Redis when `REDIS_URL` is set so every instance counts together. Called
  directly rather than through Flask-Limiter's decorators because the limit
  applies to "starting a stream" across three views, after validation (a bad
  request does not spend the candidate's quota) and before the upstream call.
- Concurrency (`MAX_STREAMS_PER_CLIENT`): no maintained library counts open
  streams across processes, so it is hand-written here: a Redis sorted set per
  client changed by one Lua script, or a dict without Redis. Members are tickets
  and scores their lease's expiry: the instance holding a ticket renews it every
  third of `STREAM_LEASE_SECONDS`, so a killed worker's tickets (or one whose
  release failed while Redis was down) free themselves within one lease.
- Capacity (`MAX_STREAMS_PER_WORKER`): past it, 503 with Retry-After rather than
  slowing every stream down. The same registry lets shutdown find open streams.
  The open-files limit lowers it (`descriptor_streams`): a stream holds two
  descriptors (its reader and the upstream), and a worker that runs out of them
  stops accepting (gevent backs off `accept` for up to a second at a time), so every
  new client, `/metrics` included, waited in the listen backlog until streams ended
  (16.7 s at RLIMIT_NOFILE=128 with 150 streams). Refused with 503 first, they never do.

Order and atomicity: a worker slot is reserved under the lock before any Redis
round trip (so concurrent admissions cannot all pass the check and then all
insert), then the per-client slot is taken, and only then is a rate-limit token
spent: a request refused for too many open streams costs the candidate nothing.
Every refusal gives back what was taken before it.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import limits
import limits.storage
import limits.strategies
import redis

from interview_app import problems
from interview_app.ids import new_id
from interview_app.problems import Refused

# Descriptors kept for the listener, logs, the database, Redis and the gevent hub.
RESERVED_FDS = 24


def descriptor_streams() -> int:
    """How many streams this process's open-files limit carries: a third of what is not
    reserved, each stream's upstream socket beside its reader's connection (gunicorn's
    `worker_connections` takes the other two thirds: connections being refused and every
    other request, `/metrics` among them, fit in what streams leave)."""
    import resource

    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft == resource.RLIM_INFINITY:
        return 1 << 30
    return max(1, (soft - RESERVED_FDS) // 3)


# ARGV: now, ticket, limit, lease seconds. Scores are lease expiries.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1] + ARGV[4], ARGV[2])
redis.call('EXPIRE', KEYS[1], math.ceil(ARGV[4] * 2))
return 1
"""


class Cancellable(Protocol):
    """What shutdown ends with a reason: a stored stream, or a direct stream's generation."""

    def cancel(self, problem: problems.Problem) -> None:
        """End it now, telling its readers `problem`."""
        ...


class Ticket:
    """The right to run one stream; `release()` once, when it ends."""

    def __init__(self, quotas: Quotas, client: str, ticket_id: str) -> None:
        self._quotas = quotas
        self.client = client
        self.id = ticket_id
        self._released = False
        self.holds_slot = False  # a per-client slot (a follow-on ticket holds none)
        self.stream: Cancellable | None = None

    def release(self, outcome: str = "") -> None:
        """Give the ticket back (once; later calls do nothing)."""
        if not self._released:
            self._released = True
            self._quotas.release(self, slot=self.holds_slot)


class Quotas:
    """Admission control for new streams."""

    def __init__(
        self,
        *,
        per_minute: int,
        per_client: int,
        per_worker: int,
        redis_client: redis.Redis | None,
        redis_url: str | None,
        lease: float = 10.0,
    ) -> None:
        self.per_client = per_client
        self.per_worker = per_worker
        self.active: dict[str, Ticket] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._redis = redis_client
        self.lease = lease
        self._acquire = redis_client.register_script(_ACQUIRE) if redis_client else None
        self._renewer: threading.Thread | None = None
        self._rate = limits.parse(f"{per_minute}/minute") if per_minute else None
        storage = limits.storage.storage_from_string(redis_url or "memory://")
        self._limiter = limits.strategies.MovingWindowRateLimiter(storage)

    def admit(self, client: str) -> Ticket:
        """A ticket for `client`, or `Refused` (429 or 503) saying when to retry."""
        ticket = Ticket(self, client, new_id())
        with self._lock:
            if len(self.active) >= self.per_worker:
                raise Refused(problems.SERVER_BUSY)
            self.active[ticket.id] = ticket  # reserved now; released on any refusal below
        try:
            if self.per_client:
                ticket.holds_slot = self._take_slot(client, ticket.id)
                if not ticket.holds_slot:
                    raise Refused(
                        problems.TOO_MANY_STREAMS.saying(
                            f"You already have {self.per_client} answers streaming. "
                            "Wait for one to finish or stop it."
                        )
                    )
            self._check_rate(client)
        except BaseException:
            ticket.release()
            raise
        return ticket

    def follow_on(self, client: str) -> Ticket:
        """A ticket for a stream that continues one already admitted (the interviewer's next
        question after an answer's feedback): it counts against this worker's capacity and
        is drained on shutdown like any other, but is never refused, since refusing it would
        leave the interview with nobody to ask its question."""
        ticket = Ticket(self, client, new_id())
        with self._lock:
            self.active[ticket.id] = ticket
        return ticket

    def _check_rate(self, client: str) -> None:
        if self._rate is None:
            return
        try:
            allowed = self._limiter.hit(self._rate, "stream", client)
            if allowed:
                return
            reset, _ = self._limiter.get_window_stats(self._rate, "stream", client)
        except redis.RedisError as exc:
            raise Refused(problems.STORE_DOWN) from exc
        raise Refused(
            problems.RATE_LIMITED.saying(
                f"Too many new answers: the limit is {self._rate.amount} a minute."
            ),
            retry_after=max(1, int(reset - time.time()) + 1),
        )

    def _take_slot(self, client: str, ticket_id: str) -> bool:
        if self._acquire is None:
            with self._lock:
                if self._counts.get(client, 0) >= self.per_client:
                    return False
                self._counts[client] = self._counts.get(client, 0) + 1
                return True
        try:
            taken = self._acquire(
                keys=[f"ia:c:{client}"],
                args=[time.time(), ticket_id, self.per_client, self.lease],
            )
        except redis.RedisError as exc:
            raise Refused(problems.STORE_DOWN) from exc
        if taken:
            self._ensure_renewing()
        return bool(taken)

    def _ensure_renewing(self) -> None:
        with self._lock:
            if self._renewer is None:
                self._renewer = threading.Thread(target=self._renew_forever, daemon=True)
                self._renewer.start()

    def _renew_forever(self) -> None:
        while True:
            time.sleep(self.lease / 3)
            try:
                self.renew()
            except redis.RedisError:
                pass  # the leases may lapse; admissions report Redis being down

    def renew(self) -> None:
        """Extend the leases of this worker's tickets in Redis (one round trip)."""
        with self._lock:
            held = list(self.active.values())
        if not held or self._redis is None:
            return
        expiry = time.time() + self.lease
        pipe = self._redis.pipeline(transaction=False)
        for ticket in held:
            key = f"ia:c:{ticket.client}"
            pipe.zadd(key, {ticket.id: expiry}, xx=True)
            pipe.expire(key, int(self.lease * 2) + 1)
        pipe.execute()

    def release(self, ticket: Ticket, *, slot: bool = True) -> None:
        """Free the ticket's worker slot and (if it holds one) its per-client slot."""
        # The shared count first: a ticket gone from `active` is gone everywhere.
        if self._redis is not None and self.per_client and slot:
            try:
                self._redis.zrem(f"ia:c:{ticket.client}", ticket.id)
            except redis.RedisError:
                pass  # the ticket ages out of the set
        with self._lock:
            self.active.pop(ticket.id, None)
            if self._acquire is None and self.per_client and slot:
                left = self._counts.get(ticket.client, 1) - 1
                if left > 0:
                    self._counts[ticket.client] = left
                else:
                    self._counts.pop(ticket.client, None)

    def streams(self) -> list[Cancellable]:
        """The streams this worker is generating."""
        with self._lock:
            return [t.stream for t in self.active.values() if t.stream is not None]
