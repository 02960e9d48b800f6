"""Mock interview sessions in the database, per identity, changed without lost updates.

A session's turns live in one JSON document (`state`); every change is a
compare-and-set on `version`, so two answers posted at once cannot both land:
the second sees the version moved and is refused.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Engine, delete, select, update

from interview_app.history.db import Database, HistoryUnavailable, sessions
from interview_app.history.models import Attempt, Interview, Recording, Review, Share
from interview_app.history.repository import clean, real_id


class Interviews:
    """Interview sessions, read and changed only by their identity."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessions(engine)
        self._db = Database(engine)

    def _run(self, work: Callable[[Any], Any]) -> Any:
        def unit() -> Any:
            with self._sessions.begin() as session:
                return work(session)

        return self._db.run(unit)

    def create(self, identity: str, status: str, state: dict[str, Any]) -> str:
        """A new session; its unguessable id."""
        interview_id = secrets.token_urlsafe(16)
        row = Interview(
            id=interview_id,
            identity=identity,
            created_at=datetime.now(UTC),
            version=1,
            status=status,
            state=clean(state),
        )
        self._run(lambda session: session.add(row))
        return interview_id

    def get(self, identity: str, interview_id: str) -> tuple[int, str, dict[str, Any]] | None:
        """(version, status, state) of this identity's session, or None."""
        if not real_id(interview_id):
            return None

        def work(session: Any) -> tuple[int, str, dict[str, Any]] | None:
            row = session.scalar(
                select(Interview).where(
                    Interview.identity == identity, Interview.id == interview_id
                )
            )
            return None if row is None else (row.version, row.status, dict(row.state))

        found: tuple[int, str, dict[str, Any]] | None = self._run(work)
        return found

    def delete(self, identity: str, interview_id: str) -> bool:
        """Delete this identity's interview and the attempts its answers made; False if none."""
        if not real_id(interview_id):
            return False

        def work(session: Any) -> bool:
            done = session.execute(
                delete(Interview).where(
                    Interview.identity == identity, Interview.id == interview_id
                )
            )
            if not done.rowcount:
                return False
            session.execute(delete(Share).where(Share.interview_id == interview_id))
            answered = select(Attempt.id).where(
                Attempt.identity == identity, Attempt.interview_id == interview_id
            )
            session.execute(delete(Recording).where(Recording.attempt_id.in_(answered)))
            # Its questions leave the review queue unless practised outside it too (with a
            # model they were written from the candidate's résumé and posting).
            asked = select(Attempt.question_key).where(
                Attempt.identity == identity, Attempt.interview_id == interview_id
            )
            elsewhere = select(Attempt.question_key).where(
                Attempt.identity == identity,
                (Attempt.interview_id != interview_id) | Attempt.interview_id.is_(None),
            )
            session.execute(
                delete(Review).where(
                    Review.identity == identity,
                    Review.question_key.in_(asked),
                    Review.question_key.not_in(elsewhere),
                )
            )
            session.execute(
                delete(Attempt).where(
                    Attempt.identity == identity, Attempt.interview_id == interview_id
                )
            )
            return True

        deleted: bool = self._run(work)
        return deleted

    def share(self, identity: str, interview_id: str, days: int) -> tuple[str, datetime] | None:
        """A new share of this identity's interview: (share id, expiry), or None if none."""
        if not real_id(interview_id):
            return None
        now = datetime.now(UTC)
        share = Share(id=secrets.token_urlsafe(16), interview_id=interview_id, identity=identity,
                      created_at=now, expires_at=now + timedelta(days=days))  # fmt: skip

        def work(session: Any) -> tuple[str, datetime] | None:
            owned = session.scalar(
                select(Interview.id).where(
                    Interview.identity == identity, Interview.id == interview_id
                )
            )
            if owned is None:
                return None
            session.add(share)
            return share.id, share.expires_at

        found: tuple[str, datetime] | None = self._run(work)
        return found

    def unshare(self, identity: str, interview_id: str) -> bool:
        """Revoke every link to this identity's interview; False if it has none such."""
        if not real_id(interview_id):
            return False

        def work(session: Any) -> bool:
            owned = session.scalar(
                select(Interview.id).where(
                    Interview.identity == identity, Interview.id == interview_id
                )
            )
            if owned is None:
                return False
            session.execute(
                delete(Share).where(Share.identity == identity, Share.interview_id == interview_id)
            )
            return True

        done: bool = self._run(work)
        return done

    def shared(self, share_id: str) -> tuple[datetime, str, dict[str, Any]] | None:
        """A share's expiry and its interview (status, state), for anyone with its link."""
        if not real_id(share_id):
            return None

        def work(session: Any) -> tuple[datetime, str, dict[str, Any]] | None:
            share = session.scalar(select(Share).where(Share.id == share_id))
            if share is None:
                return None
            row = session.scalar(select(Interview).where(Interview.id == share.interview_id))
            if row is None:
                return None
            expires = share.expires_at
            expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
            return expires, row.status, dict(row.state)

        found: tuple[datetime, str, dict[str, Any]] | None = self._run(work)
        return found

    def change(
        self,
        identity: str,
        interview_id: str,
        edit: Callable[[str, dict[str, Any]], tuple[str, dict[str, Any]] | None],
        attempts: int = 5,
    ) -> tuple[str, dict[str, Any]] | None:
        """Apply `edit(status, state) -> (status, state)` atomically; None if it declined.

        Retried on a concurrent change, so `edit` must decide from what it is given.
        """
        for _ in range(attempts):
            found = self.get(identity, interview_id)
            if found is None:
                return None
            version, status, state = found
            changed = edit(status, state)
            if changed is None:
                return None
            new_status, new_state = changed

            def work(
                session: Any,
                version: int = version,
                new_status: str = new_status,
                new_state: dict[str, Any] = new_state,
            ) -> CursorResult[Any]:
                done: CursorResult[Any] = session.execute(
                    update(Interview)
                    .where(
                        Interview.identity == identity,
                        Interview.id == interview_id,
                        Interview.version == version,
                    )
                    .values(version=version + 1, status=new_status, state=clean(new_state))
                )
                return done

            done: CursorResult[Any] = self._run(work)
            if done.rowcount:
                return new_status, new_state
        raise HistoryUnavailable("too many concurrent changes")
