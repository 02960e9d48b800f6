"""Mock interview sessions in the database, per identity, changed without lost updates.

A session's turns live in one JSON document (`state`); every change is a
compare-and-set on `version`, so two answers posted at once cannot both land:
the second sees the version moved and is refused.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, Engine, select, update
from sqlalchemy.exc import SQLAlchemyError

from interview_app.history.db import sessions
from interview_app.history.models import Interview
from interview_app.history.repository import HistoryUnavailable


class Interviews:
    """Interview sessions, read and changed only by their identity."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessions(engine)

    def create(self, identity: str, status: str, state: dict[str, Any]) -> str:
        """A new session; its unguessable id."""
        interview_id = secrets.token_urlsafe(16)
        row = Interview(
            id=interview_id,
            identity=identity,
            created_at=datetime.now(UTC),
            version=1,
            status=status,
            state=state,
        )
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except SQLAlchemyError as exc:
            raise HistoryUnavailable(type(exc).__name__) from None
        return interview_id

    def get(self, identity: str, interview_id: str) -> tuple[int, str, dict[str, Any]] | None:
        """(version, status, state) of this identity's session, or None."""
        try:
            with self._sessions.begin() as session:
                row = session.scalar(
                    select(Interview).where(
                        Interview.identity == identity, Interview.id == interview_id
                    )
                )
                return None if row is None else (row.version, row.status, dict(row.state))
        except SQLAlchemyError as exc:
            raise HistoryUnavailable(type(exc).__name__) from None

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
            try:
                with self._sessions.begin() as session:
                    done: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                        update(Interview)
                        .where(
                            Interview.identity == identity,
                            Interview.id == interview_id,
                            Interview.version == version,
                        )
                        .values(version=version + 1, status=new_status, state=new_state)
                    )
            except SQLAlchemyError as exc:
                raise HistoryUnavailable(type(exc).__name__) from None
            if done.rowcount:
                return new_status, new_state
        raise HistoryUnavailable("too many concurrent changes")
