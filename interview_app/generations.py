"""Every generation is opened and recorded here: a candidate's coaching streams, an
answer's feedback in a mock interview, and the interviewer's questions, follow-ups and
reports.

Opening one means, for each: refused while the worker stops; a quota ticket (rate,
streams per client and per worker); the loop-lag gate and one of `MAX_OPENING_STREAMS`
places (`streaming/hub.py`); the upstream opened in a greenlet of its own, so a refusal
within a second is still an HTTP status and a slow server's stream begins with pings;
the started-streams counter. A coaching stream is then kept in the candidate's history
when it ends (the attempt), and `then` may add to its `done` (an interview deciding
its next turn).

Before this module the web layer opened the candidate's streams and lent the interview
service an `Opener` callback for feedback and a `gate` for the interviewer's: two ways
to open, one of which skipped the counter (a probe saw streams started 1, finished 3).
Both now call one `Generations`, built once per app by the extension; the web layer
only says who is asking (`Caller`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from interview_app import problems
from interview_app.coaching.request import CoachingRequest
from interview_app.history.repository import History, new_attempt_id
from interview_app.ids import REQUEST_ID
from interview_app.llm.completions import Opening, Pending
from interview_app.llm.port import LLM, Completion, UpstreamError
from interview_app.problems import Refused
from interview_app.streaming import metrics, relay
from interview_app.streaming.hub import Hub
from interview_app.streaming.lifecycle import Lifecycle
from interview_app.streaming.metrics import OncePer
from interview_app.streaming.quotas import Quotas, Ticket
from interview_app.streaming.store import StoreUnavailable, Stream

log = logging.getLogger("interview_app.web.api")
_busy_log = OncePer(10.0)

# How long an open waits for the upstream's answer before its stream begins without it.
OPEN_GRACE_SECONDS = 1.0


@dataclass(frozen=True)
class Caller:
    """Who asks, captured while their request is on (background work has none)."""

    identity: str
    client: str  # the address quotas count by
    root: str  # where we are mounted, for URLs made after the request
    request_id: str | None = None


@dataclass
class Opened:
    """An admitted request with its upstream open: what a view streams from."""

    generation: relay.Generation
    ticket: Ticket
    stream: Stream | None


def _log_failed_open(exc: BaseException) -> None:
    """The log line and metric of an upstream that failed to open."""
    if isinstance(exc, Refused):
        # The gate's wait ran out (hub.py): a burst of these is one event, logged once.
        if _busy_log.ready():
            log.warning("at capacity: openings refused after waiting their turn")
    elif not isinstance(exc, UpstreamError):
        log.exception("opening the upstream failed", exc_info=exc)
    elif exc.problem is problems.CANCELLED:
        pass  # the reader left before the upstream was asked: nothing failed
    elif exc.problem is problems.SERVER_BUSY:  # out of descriptors
        # Out of descriptors: a burst of these is one event, logged once.
        if _busy_log.ready():
            log.warning("at capacity: no file descriptor for the upstream")
    else:
        metrics.UPSTREAM_ERRORS.labels(exc.code).inc()
        log.warning("upstream failed to open", extra={"code": exc.code})


def _problem_of(exc: BaseException) -> problems.Problem:
    return exc.problem if isinstance(exc, UpstreamError | Refused) else problems.INTERNAL


class Generations:
    """Opens every generation of one app, and keeps the candidate's in their history."""

    def __init__(
        self,
        llm: LLM,
        quotas: Quotas,
        hub: Hub,
        opening: threading.BoundedSemaphore,
        lifecycle: Lifecycle,
        history: History | None,
        heartbeat: float,
    ) -> None:
        self.llm = llm
        self.quotas = quotas
        self.hub = hub
        self.opening = opening  # upstream requests being opened at once
        self.lifecycle = lifecycle
        self.history = history
        self._heartbeat = heartbeat

    def admit(self, client: str) -> Ticket:
        """A place for one more stream of `client`, or `Refused` (restarting, 429, 503)."""
        if self.lifecycle.stopping.is_set():
            raise Refused(problems.RESTARTING)
        return self.quotas.admit(client)

    def open(
        self,
        req: CoachingRequest,
        who: Caller,
        make_stream: Callable[[], Stream] | None = None,
        *,
        save: bool = True,
        interview_id: str | None = None,
        then: relay.Recorder | None = None,
    ) -> Opened:
        """Admit `who`, make the stream (if stored) and open the upstream for `req`."""
        started = time.monotonic()
        ticket = self.admit(who.client)
        llm = self.llm
        stream = None
        opening: Opening | None = None
        flow = self.hub.forecast.flow()  # its share of the worker's token load

        def open_upstream(this: Opening) -> Completion:
            REQUEST_ID.set(who.request_id)  # its log lines name the request, in its greenlet

            def open_now() -> Completion:
                if this.abandoned:
                    # The reader left while it waited its turn: the model server is not asked.
                    raise UpstreamError(problems.CANCELLED)
                return llm.open(req)

            # A burst of new streams must not starve the tokens of running ones: each
            # waits while the worker's loop runs late (streaming/hub.py), and at most
            # MAX_OPENING_STREAMS upstream requests are being opened at once.
            return self.hub.admit(self.opening, open_now, flow, queued=this.queued)

        try:
            # The stream first: if the store is down, no upstream request is spent.
            if make_stream is not None:
                stream = make_stream()
            # The open runs in a thread of its own: a refusal within the grace is still an
            # HTTP status; past it the stream begins (headers, `retry:`, pings) and waits.
            opening = Opening(open_upstream)
            completion = opening.result(min(OPEN_GRACE_SECONDS, self._heartbeat))
        except UpstreamError as exc:
            ticket.release()
            flow.end()
            _log_failed_open(exc)
            if stream is not None:
                # Nobody will read it (its id is never given out); ended, it expires.
                stream.finish("error", exc.problem.event())
            raise Refused(exc.problem, retry_after=exc.retry_after) from None
        except Refused as refused:  # the gate's wait ran out before the stream began
            ticket.release()
            flow.end()
            _log_failed_open(refused)
            if stream is not None:
                stream.finish("error", refused.problem.event())
            raise
        except BaseException:
            ticket.release()
            if opening is not None:
                opening.abandon()  # before its flow ends: a turn given meanwhile is not sent
            flow.end()
            if stream is not None:
                # Ended, it expires; unended, it would wait for a producer that never comes.
                try:
                    stream.finish("error", problems.INTERNAL.event())
                except StoreUnavailable:
                    pass  # its keys expire on their own TTL
            raise
        if completion is None:
            assert opening is not None
            completion = Pending(
                opening, _problem_of, _log_failed_open, getattr(llm, "idle_ticks", True)
            )
        metrics.STREAMS_STARTED.labels(req.kind, llm.name).inc()
        recorder = self._recorder(req, who, save, interview_id, then)
        generation = relay.Generation(completion, ticket.release, started, recorder, flow)
        # What shutdown ends: the stored stream (its readers hear why), or the generation.
        ticket.stream = stream if stream is not None else generation
        return Opened(generation, ticket, stream)

    def utterance(
        self,
        open_: Callable[[], Completion],
        kind: str,
        ticket: Ticket,
        recorder: relay.Recorder | None = None,
    ) -> relay.Generation:
        """One of the interviewer's generations (a question, a follow-up, the report),
        opened as every stream is (the gates, `MAX_OPENING_STREAMS`), counted as started
        and in the forecast load; `ticket` is the interview's, taken when the turn began,
        and held until it ends. A gate that refuses it is an `UpstreamError` (its
        stream says so)."""
        started = time.monotonic()
        flow = self.hub.forecast.flow()
        try:
            completion = self.hub.admit(self.opening, open_, flow, refuse=False)
        except Refused as refused:
            flow.end()
            raise UpstreamError(refused.problem, retry_after=refused.retry_after) from None
        except BaseException:
            flow.end()
            raise
        metrics.STREAMS_STARTED.labels(kind, self.llm.name).inc()
        return relay.Generation(completion, ticket.release, started, recorder, flow)

    def _recorder(
        self,
        req: CoachingRequest,
        who: Caller,
        save: bool,
        interview_id: str | None,
        then: relay.Recorder | None,
    ) -> relay.Recorder | None:
        """What keeps this stream in the candidate's history when it ends (None: history
        off); `then` runs after it (an interview deciding its next turn) and adds its
        fields."""
        history, llm = self.history, self.llm
        if history is None:
            return then
        if not save:
            return lambda *_: {"saved": False}
        attempt_id = new_attempt_id()

        def record(
            outcome: str,
            summary: dict[str, Any] | None,
            text: str,
            ttft: float | None,
            duration: float,
        ) -> dict[str, Any]:
            summary = summary or {}
            saved = history.save(
                who.identity,
                attempt_id,
                {
                    "kind": req.kind,
                    "question": req.question,
                    "answer": req.answer,
                    "role": req.role,
                    "language": req.language,
                    "text": text,
                    "analysis": summary.get("analysis"),
                    "backend": llm.name,
                    "model": summary.get("model") or llm.model,
                    "usage": summary.get("usage"),
                    "ttft_ms": None if ttft is None else round(ttft * 1000, 1),
                    "duration_ms": round(duration * 1000, 1),
                    "outcome": outcome,
                    "interview_id": interview_id,
                    "delivery": req.delivery,
                },
            )
            fields: dict[str, Any] = (
                {"attempt_id": attempt_id, "saved": True} if saved else {"saved": False}
            )
            if then is not None:
                fields.update(then(outcome, {**summary, **fields}, text, ttft, duration))
            return fields

        return record
