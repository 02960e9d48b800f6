"""Reading and writing attempts. Every query that reads a candidate's data filters by
their identity here, in the repository itself, so no view can forget it.

Saves are group-committed: the first save to arrive waits `batch_seconds` (20 ms by
default, `HISTORY_BATCH_MS`), then writes every attempt that arrived meanwhile in one
transaction, and each waiting save returns its own result. A stream's save was a
transaction of its own: a connection checked out, three statements, a commit, about a
fifth of the worker's CPU for a one-token feedback stream (py-spy, issue 23); streams
that end together now share one. Written here rather than taken from a library because
none does group commit over SQLAlchemy for a caller that must hear its own row's fate.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from prometheus_client import Histogram
from sqlalchemy import (
    Engine,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    update,
)

from interview_app.coaching import review as spacing
from interview_app.coaching.judgement import Rubric, most_missing, rubrics, weak_parts, weakest
from interview_app.coaching.questions import category_of, question_key
from interview_app.history.db import Database, HistoryUnavailable, Schema, schema, sessions
from interview_app.history.models import Attempt, Interview, Recording, Review, Share

log = logging.getLogger(__name__)

BATCH_ATTEMPTS = Histogram(
    "interview_app_history_batch_attempts",
    "Attempts written per history transaction (group commit, HISTORY_BATCH_MS).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
Keep = Literal["kept", "no_attempt", "identity_full", "server_full"]
_SUMMARY = ("id", "created_at", "kind", "question", "language", "score", "outcome")


__all__ = ["History", "HistoryUnavailable", "clean", "new_attempt_id", "real_id"]


def clean(value: Any) -> Any:
    """`value` with every U+0000 replaced by U+FFFD, in strings, lists and dicts.

    PostgreSQL's text and JSON refuse NUL; SQLite keeps it. Both keep the same text
    this way, and a candidate's stray NUL never costs them the attempt.
    """
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    return value


def real_id(value: str | None) -> bool:
    """Whether `value` could be one of our ids or cursors (NUL never is: no lookup)."""
    return value is None or "\x00" not in value


def new_attempt_id() -> str:
    """An unguessable attempt id."""
    return secrets.token_urlsafe(16)


def _summary(a: Attempt) -> dict[str, Any]:
    out = {name: getattr(a, name) for name in _SUMMARY}
    out["created_at"] = a.created_at.isoformat()
    return out


def _full(a: Attempt, previous_id: str | None) -> dict[str, Any]:
    out = _summary(a)
    out.update(
        answer=a.answer,
        role=a.role,
        category=a.category,
        text=a.text,
        analysis=a.analysis,
        backend=a.backend,
        model=a.model,
        usage=a.usage,
        ttft_ms=a.ttft_ms,
        duration_ms=a.duration_ms,
        previous_id=previous_id,
        interview_id=a.interview_id,
        delivery=a.delivery,
    )
    return out


def _pace(rows: list[Attempt]) -> list[dict[str, Any]]:
    """Per ISO week and language, the mean pace of spoken answers (words or syllables a
    minute, by language)."""
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in rows:
        rate = (row.delivery or {}).get("rate") or {}
        if isinstance(rate.get("value"), int | float):
            year, number, _ = row.created_at.isocalendar()
            groups[(f"{year}-W{number:02d}", row.language)].append(float(rate["value"]))
    return [
        {"week": week, "language": language, "rate": round(sum(v) / len(v), 1),
         "unit": "syllables_per_minute" if language == "ko" else "words_per_minute",
         "answers": len(v)}
        for (week, language), v in sorted(groups.items())
    ]  # fmt: skip


_KEY = ("identity", "question_key", "language")
_WHERE = [getattr(Review, k) == bindparam(f"k_{k}") for k in _KEY]
# Built once with bound parameters: SQLAlchemy then reuses their compiled form, where a
# statement built per save was compiled per save (a feedback's save cost 3x as much).
_FIND = select(
    Review.repetitions, Review.interval_days, Review.ease, Review.due_at, Review.last_score
).where(*_WHERE)
_FIELDS = ("question", "repetitions", "interval_days", "ease", "due_at", "last_score",
           "updated_at")  # fmt: skip
_MOVE = update(Review).where(*_WHERE).values({f: bindparam(f) for f in _FIELDS})


def _schedule(conn: Any, values: dict[str, Any]) -> None:
    """Move the attempt's question in its identity's review queue (same transaction)."""
    key = {f"k_{k}": values[k] for k in _KEY}
    row = conn.execute(_FIND, key).first()
    before = spacing.Schedule() if row is None else spacing.Schedule(*row)
    now = values["created_at"]
    nxt = spacing.after(before, int(values["score"]), now)
    fields = {"question": values["question"], "repetitions": nxt.repetitions,
              "interval_days": nxt.interval_days, "ease": nxt.ease, "due_at": nxt.due_at,
              "last_score": nxt.last_score, "updated_at": now}  # fmt: skip
    if row is None:
        conn.execute(insert(Review), [{**{k: values[k] for k in _KEY}, **fields}])
    else:
        conn.execute(_MOVE, {**key, **fields})


class _Save:
    """One attempt waiting for its batch, and what became of it."""

    __slots__ = ("values", "written", "saved", "error")

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.written = threading.Event()  # gevent's under a gevent worker (patched)
        self.saved = False
        self.error: BaseException | None = None


def _insert_all(conn: Any, batch: list[_Save]) -> list[_Save]:
    """Insert `batch`; the attempts not kept because their interview was deleted meanwhile.

    An interview's feedback may end after its candidate deleted the interview (or
    everything): its attempt must not outlive the deletion. The rows go in first, then
    the interviews they name are read under a row lock; a deletion that came first is
    seen, and one that comes after waits for this commit and then deletes these rows
    too (PostgreSQL). SQLite's write lock, held from the insert on, orders the two.
    """
    # A Core insert of many rows: one statement, none of the ORM's unit-of-work bookkeeping.
    conn.execute(insert(Attempt), [s.values for s in batch])
    named = {s.values["interview_id"] for s in batch if s.values.get("interview_id")}
    gone: list[_Save] = []
    if named:
        live = set(
            conn.execute(
                select(Interview.id).where(Interview.id.in_(named)).with_for_update()
            ).scalars()
        )
        gone = [s for s in batch if s.values.get("interview_id") not in (None, *live)]
        if gone:
            conn.execute(delete(Attempt).where(Attempt.id.in_([s.values["id"] for s in gone])))
    for s in batch:
        if s.values["kind"] == "feedback" and s.values["score"] is not None and s not in gone:
            _schedule(conn, s.values)  # in order: one question twice in a batch moves twice
    return gone


class History:
    """Attempts in the database, per identity."""

    def __init__(self, engine: Engine, retention_days: int, batch_seconds: float = 0.02) -> None:
        self.engine = engine
        self.retention_days = retention_days
        self.batch_seconds = batch_seconds
        self._sessions = sessions(engine)
        self._db = Database(engine)
        self._purged = 0.0
        self._lock = threading.Lock()
        self._waiting: list[_Save] = []
        self._leading = False

    def health(self) -> Schema:
        """The database as `/healthz` reports it: ok, behind (needs migrating) or down."""
        try:
            self._db.run(lambda: None)
        except HistoryUnavailable:
            return "down"
        return schema(self.engine)

    def save(self, identity: str, attempt_id: str, record: dict[str, Any]) -> bool:
        """Write one attempt; False (and a warning, no candidate text) if the database failed."""
        analysis = record.get("analysis")
        values = clean(
            {
                "id": attempt_id,
                "identity": identity,
                "created_at": datetime.now(UTC),
                "kind": record["kind"],
                "question": record["question"],
                "question_key": question_key(record["question"]),
                "category": category_of(record["question"]),
                "answer": record.get("answer"),
                "role": record.get("role"),
                "language": record["language"],
                "text": record["text"],
                "analysis": analysis,
                "score": analysis.get("score") if analysis else None,
                "backend": record["backend"],
                "model": record["model"],
                "usage": record.get("usage"),
                "ttft_ms": record.get("ttft_ms"),
                "duration_ms": record["duration_ms"],
                "outcome": record["outcome"],
                "interview_id": record.get("interview_id"),
                "delivery": record.get("delivery"),
            }
        )

        mine = _Save(values)
        with self._lock:
            self._waiting.append(mine)
            lead, self._leading = not self._leading, True
        if lead:
            try:
                if self.batch_seconds > 0:
                    time.sleep(self.batch_seconds)  # yields: saves of streams ending now join
            finally:  # even if this greenlet is killed while it waits: the others are written
                with self._lock:
                    batch, self._waiting, self._leading = self._waiting, [], False
                self._write(batch)
        else:
            mine.written.wait()
        if mine.error is not None:
            raise mine.error
        return mine.saved

    def _write(self, batch: list[_Save]) -> None:
        """Write `batch` in one transaction. If the database refused it, or it raised
        unexpectedly, each attempt alone, so one faulty attempt costs only its own save (an
        unexpected exception reaches its own caller). A database that is down or locked is
        not asked again per attempt: the whole batch is unsaved, each with its warning.
        Every waiting save is woken, whatever happens here."""
        try:
            gone = self._db.run(lambda: self._transaction(batch))
        except Exception as exc:
            down = isinstance(exc, HistoryUnavailable) and not exc.refused
            if len(batch) > 1 and not down:
                for s in batch:
                    self._write([s])
            elif isinstance(exc, HistoryUnavailable):
                for _ in batch:
                    log.warning("attempt not saved: database failed", extra={"error": str(exc)})
            else:
                batch[0].error = exc
        else:
            BATCH_ATTEMPTS.observe(len(batch))
            for s in batch:
                s.saved = s not in gone
        finally:
            for s in batch:
                s.written.set()
        if any(s.saved for s in batch):
            self._purge_hourly()  # after the others were woken: only the leader waits for it

    def _transaction(self, batch: list[_Save]) -> list[_Save]:
        with self.engine.begin() as conn:
            return _insert_all(conn, batch)

    def _purge_hourly(self) -> None:
        if time.monotonic() - self._purged > 3600:
            # Retention, at most hourly, on the write path's tail (never the token path).
            self._purged = time.monotonic()
            try:
                self.purge()
            except HistoryUnavailable:
                pass

    def _run(self, work: Any) -> Any:
        def unit() -> Any:
            with self._sessions.begin() as session:
                return work(session)

        return self._db.run(unit)

    def page(
        self, identity: str, limit: int, before: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """This identity's attempts, newest first, and the cursor of the next page."""
        if not real_id(before):
            return [], None

        def work(session: Any) -> tuple[list[dict[str, Any]], str | None]:
            query = select(Attempt).where(Attempt.identity == identity)
            if before:
                mark = session.scalar(
                    select(Attempt).where(Attempt.identity == identity, Attempt.id == before)
                )
                if mark is None:
                    return [], None
                query = query.where(
                    (Attempt.created_at < mark.created_at)
                    | ((Attempt.created_at == mark.created_at) & (Attempt.id < mark.id))
                )
            rows = session.scalars(
                query.order_by(Attempt.created_at.desc(), Attempt.id.desc()).limit(limit + 1)
            ).all()
            more = len(rows) > limit
            rows = rows[:limit]
            return [_summary(r) for r in rows], (rows[-1].id if more and rows else None)

        result: tuple[list[dict[str, Any]], str | None] = self._run(work)
        return result

    def get(self, identity: str, attempt_id: str) -> dict[str, Any] | None:
        """One attempt of this identity, with its previous attempt at the same question."""
        if not real_id(attempt_id):
            return None

        def work(session: Any) -> dict[str, Any] | None:
            row = session.scalar(
                select(Attempt).where(Attempt.identity == identity, Attempt.id == attempt_id)
            )
            if row is None:
                return None
            previous = session.scalar(
                select(Attempt.id)
                .where(
                    Attempt.identity == identity,
                    Attempt.question_key == row.question_key,
                    (Attempt.created_at < row.created_at)
                    | ((Attempt.created_at == row.created_at) & (Attempt.id < row.id)),
                )
                .order_by(Attempt.created_at.desc(), Attempt.id.desc())
                .limit(1)
            )
            full = _full(row, previous)
            full["has_recording"] = (
                session.scalar(
                    select(Recording.attempt_id).where(
                        Recording.identity == identity, Recording.attempt_id == attempt_id
                    )
                )
                is not None
            )
            return full

        found: dict[str, Any] | None = self._run(work)
        return found

    def keep_recording(
        self,
        identity: str,
        attempt_id: str,
        content_type: str,
        data: bytes,
        *,
        per_identity: int | None = None,
        in_all: int | None = None,
    ) -> Keep:
        """Keep the audio of this identity's attempt (replacing any), unless it would take
        this identity past `per_identity` bytes of kept audio or the server past `in_all`."""
        if not real_id(attempt_id):
            return "no_attempt"

        def work(session: Any) -> Keep:
            owned = session.scalar(
                select(Attempt.id).where(Attempt.identity == identity, Attempt.id == attempt_id)
            )
            if owned is None:
                return "no_attempt"
            others = Recording.attempt_id != attempt_id
            size = func.coalesce(func.sum(func.length(Recording.data)), 0)
            if per_identity is not None:
                mine = session.scalar(select(size).where(Recording.identity == identity, others))
                if mine + len(data) > per_identity:
                    return "identity_full"
            if in_all is not None:
                if session.scalar(select(size).where(others)) + len(data) > in_all:
                    return "server_full"
            session.execute(delete(Recording).where(Recording.attempt_id == attempt_id))
            session.add(
                Recording(
                    attempt_id=attempt_id,
                    identity=identity,
                    created_at=datetime.now(UTC),
                    content_type=content_type,
                    data=data,
                )
            )
            return "kept"

        kept: Keep = self._run(work)
        return kept

    def recording(self, identity: str, attempt_id: str) -> tuple[str, int] | None:
        """The kept audio of this identity's attempt: (content type, size in bytes), or None.
        Its bytes are read a piece at a time (`recording_piece`), never whole."""
        if not real_id(attempt_id):
            return None

        def work(session: Any) -> tuple[str, int] | None:
            row = session.execute(
                select(Recording.content_type, func.length(Recording.data)).where(
                    Recording.identity == identity, Recording.attempt_id == attempt_id
                )
            ).first()
            return None if row is None else (row[0], int(row[1]))

        found: tuple[str, int] | None = self._run(work)
        return found

    def recording_piece(self, identity: str, attempt_id: str, offset: int, size: int) -> bytes:
        """`size` bytes of the kept audio from `offset` (b"" past its end or once deleted)."""

        mine = (Recording.identity == identity, Recording.attempt_id == attempt_id)
        if self.engine.dialect.name == "sqlite":
            # SQLite's substr() loads the whole blob for every piece; its incremental blob
            # reader reads only the piece's pages.
            def blob() -> bytes:
                # One transaction: the row found by identity is the row read, whatever is
                # deleted or kept meanwhile.
                with self.engine.begin() as conn:
                    rowid = conn.scalar(select(literal_column("rowid")).where(*mine))
                    if rowid is None:
                        return b""
                    raw: Any = conn.connection.driver_connection
                    try:
                        with raw.blobopen("recordings", "data", rowid, readonly=True) as found:
                            if offset >= len(found):
                                return b""
                            found.seek(offset)
                            return bytes(found.read(size))
                    except sqlite3.Error as exc:
                        raise HistoryUnavailable(f"recording not read: {exc}") from None

            piece: bytes = self._db.run(blob)
            return piece

        def work(session: Any) -> bytes:
            # substring of an uncompressed TOASTed bytea reads only the chunks it needs
            # (audio does not compress, so PostgreSQL keeps it uncompressed).
            found = session.scalar(
                select(func.substr(Recording.data, offset + 1, size)).where(*mine)
            )
            return bytes(found or b"")

        sliced: bytes = self._run(work)
        return sliced

    def delete(self, identity: str, attempt_id: str) -> bool:
        """Delete one attempt of this identity; False if it has none with that id."""
        if not real_id(attempt_id):
            return False

        def work(session: Any) -> bool:
            session.execute(
                delete(Recording).where(
                    Recording.identity == identity, Recording.attempt_id == attempt_id
                )
            )
            done = session.execute(
                delete(Attempt).where(Attempt.identity == identity, Attempt.id == attempt_id)
            )
            return bool(done.rowcount)

        deleted: bool = self._run(work)
        return deleted

    def delete_all(self, identity: str) -> int:
        """Delete every attempt and mock interview of this identity (rows deleted, not
        flagged); how many attempts went."""

        def work(session: Any) -> int:
            # Interviews first: a save in flight locks its interview's row, then the review
            # row; taking them in the same order, neither waits on the other (deadlock).
            session.execute(delete(Interview).where(Interview.identity == identity))
            session.execute(delete(Review).where(Review.identity == identity))
            session.execute(delete(Share).where(Share.identity == identity))
            session.execute(delete(Recording).where(Recording.identity == identity))
            return int(
                session.execute(delete(Attempt).where(Attempt.identity == identity)).rowcount
            )

        count: int = self._run(work)
        return count

    def export(self, identity: str) -> list[dict[str, Any]]:
        """Every attempt of this identity, oldest first, with everything kept."""

        def work(session: Any) -> list[dict[str, Any]]:
            rows = session.scalars(
                select(Attempt)
                .where(Attempt.identity == identity)
                .order_by(Attempt.created_at, Attempt.id)
            ).all()
            return [_full(r, None) for r in rows]

        rows: list[dict[str, Any]] = self._run(work)
        return rows

    def review(self, identity: str, now: datetime | None = None) -> dict[str, Any]:
        """This identity's review queue: what is due (with why), when the next is, and the
        parts that keep going missing."""
        now = now or datetime.now(UTC)

        def work(session: Any) -> tuple[list[Review], list[Any]]:
            reviews = list(session.scalars(select(Review).where(Review.identity == identity)))
            # Only what the reasons read: not each attempt's whole text.
            attempts = list(
                session.execute(
                    select(Attempt.question_key, Attempt.language, Attempt.analysis)
                    .where(
                        Attempt.identity == identity,
                        Attempt.kind == "feedback",
                        Attempt.score.is_not(None),
                    )  # fmt: skip
                    .order_by(Attempt.created_at.desc(), Attempt.id.desc())
                    .limit(200)
                )
            )
            return reviews, attempts

        reviews, attempts = self._run(work)
        by_question: dict[tuple[str, str], list[Rubric | None]] = defaultdict(list)
        newest_first = rubrics(a.analysis for a in attempts)
        for a, rubric in zip(attempts, newest_first, strict=True):
            by_question[(a.question_key, a.language)].append(rubric)

        def due_at(r: Review) -> datetime:
            return r.due_at if r.due_at.tzinfo else r.due_at.replace(tzinfo=UTC)

        due = [r for r in reviews if due_at(r) <= now]
        later = [due_at(r) for r in reviews if due_at(r) > now]
        return {
            "due": [
                {
                    "question": r.question,
                    "question_key": r.question_key,
                    "language": r.language,
                    "due_at": due_at(r).isoformat(),
                    "last_score": r.last_score,
                    "reason": spacing.reason(
                        by_question[(r.question_key, r.language)],
                        "ko" if r.language == "ko" else "en",
                    ),
                }
                for r in sorted(due, key=due_at)
            ],
            "next_due_at": min(later).isoformat() if later else None,
            "weak_parts": [w.as_dict() for w in weak_parts(newest_first)],
        }

    def progress(self, identity: str) -> dict[str, Any]:
        """Per ISO week and category: attempts, mean score, the part most often missing; and
        the weakest part of the last answers."""

        def work(session: Any) -> list[Attempt]:
            return list(
                session.scalars(
                    select(Attempt)
                    .where(Attempt.identity == identity, Attempt.kind == "feedback")
                    .order_by(Attempt.created_at)
                ).all()
            )

        rows: list[Attempt] = self._run(work)
        groups: dict[tuple[str, str], list[Attempt]] = defaultdict(list)
        for row in rows:
            year, number, _ = row.created_at.isocalendar()
            # An interviewer's own question is no bank question, but not the candidate's either
            # (charted as "Your own" before).
            own = row.category == "custom" and row.interview_id is not None
            groups[(f"{year}-W{number:02d}", "interview" if own else row.category)].append(row)
        out = []
        for (week, category), group in sorted(groups.items()):
            scores = [r.score for r in group if r.score is not None]
            out.append(
                {
                    "week": week,
                    "category": category,
                    "attempts": len(group),
                    "mean_score": round(sum(scores) / len(scores), 2) if scores else None,
                    "most_missing": most_missing(rubrics(r.analysis for r in group)),
                }
            )
        # The same reading of "what is weak" as the review queue's (`judgement.weak_parts`).
        weak = weakest(rubrics(r.analysis for r in reversed(rows)))
        return {"progress": out, "weakest": weak.part if weak else None, "pace": _pace(rows)}

    def purge(self, now: datetime | None = None) -> int:
        """Delete every attempt and mock interview older than the retention period; how many
        attempts went."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.retention_days)

        def work(session: Any) -> int:
            # A recording goes with its attempt, whenever it was kept.
            old = select(Attempt.id).where(Attempt.created_at < cutoff)
            session.execute(delete(Recording).where(Recording.attempt_id.in_(old)))
            session.execute(
                delete(Recording).where(~exists().where(Attempt.id == Recording.attempt_id))
            )
            session.execute(delete(Review).where(Review.updated_at < cutoff))
            session.execute(delete(Share).where(Share.created_at < cutoff))
            session.execute(delete(Interview).where(Interview.created_at < cutoff))
            return int(session.execute(delete(Attempt).where(Attempt.created_at < cutoff)).rowcount)

        count: int = self._run(work)
        return count
