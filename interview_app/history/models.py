"""The tables: one row per attempt (a feedback or a model answer the candidate asked for)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The declarative base of every table (Alembic's `target_metadata`)."""


class Attempt(Base):
    """One practice attempt, owned by one anonymous identity."""

    __tablename__ = "attempts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    identity: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text)
    question_key: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    answer: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    score: Mapped[int | None] = mapped_column(Integer)
    backend: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(200))
    usage: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ttft_ms: Mapped[float | None] = mapped_column(Float)
    duration_ms: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(40))
    interview_id: Mapped[str | None] = mapped_column(String(32))
    # How a spoken answer was said (pace, pauses, fillers); None for a typed one.
    delivery: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_attempts_identity_created", "identity", "created_at"),
        Index("ix_attempts_identity_question", "identity", "question_key"),
        Index("ix_attempts_created", "created_at"),
    )


class Interview(Base):
    """One mock interview session: its setup, its turns so far and its report."""

    __tablename__ = "interviews"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    identity: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)  # bumped by every change: no lost update
    status: Mapped[str] = mapped_column(String(20))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (Index("ix_interviews_identity_created", "identity", "created_at"),)


class Recording(Base):
    """The audio of an attempt, kept only when the candidate opted in for that attempt."""

    __tablename__ = "recordings"

    attempt_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    identity: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        Index("ix_recordings_identity", "identity"),
        Index("ix_recordings_created", "created_at"),
    )


class Review(Base):
    """One question's place in an identity's review queue (`coaching/review.py`)."""

    __tablename__ = "reviews"

    identity: Mapped[str] = mapped_column(String(64), primary_key=True)
    question_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    repetitions: Mapped[int] = mapped_column(Integer)
    interval_days: Mapped[float] = mapped_column(Float)
    ease: Mapped[float] = mapped_column(Float)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_score: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_reviews_identity_due", "identity", "due_at"),)


class Share(Base):
    """A read-only link to a finished interview's report, revocable, with an expiry."""

    __tablename__ = "shares"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # signed into the link
    interview_id: Mapped[str] = mapped_column(String(32))
    identity: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_shares_interview", "identity", "interview_id"),)
