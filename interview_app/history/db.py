"""The database: an engine from `DATABASE_URL` (or a SQLite file), and its migrations.

PostgreSQL goes through psycopg 3, which cooperates with gevent by itself (from
3.1.14 on, it waits on sockets through the patched `select`/`selectors`), so a
query blocks only its own greenlet. SQLite calls block the hub briefly: one short
write per stream keeps that small. A write lock held by another process must not
hold the hub for SQLite's whole busy timeout (every stream of the worker would stop),
so SQLite waits at most `SQLITE_BUSY_MS` inside a call and `Database.run` retries in
sleeps that yield, up to the same overall deadline. A SQLite file deleted (or
replaced) under the running app is reported as the database being down, never as
saves that vanish. `synchronous=NORMAL` (safe in WAL mode: no
corruption, and nothing lost when the app crashes or restarts; the last commits can
be lost only if the machine itself loses power) spares each commit an fsync, which
would hold every stream of the worker while the disk syncs. Migrations are
Alembic's (`migrations/`), run by the Procfile's `release:` phase on Heroku and by
`scripts/serve` locally (`python -m interview_app.history.migrate`). The embedded SQLite
default also migrates itself when the app starts (`prepare`), under a file lock so
that workers starting together migrate once, so the web command alone keeps history.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

from filelock import FileLock
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")
SQLITE_BUSY_MS = 10  # the longest SQLite may hold the hub waiting for another's lock
Schema = Literal["ok", "behind", "down"]
MIGRATE_COMMAND = "python -m interview_app.history.migrate"

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "migrations"


def normalize(url: str) -> str:
    """Heroku's `postgres://` (and plain `postgresql://`) as SQLAlchemy's psycopg 3 URL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def default_url(instance: Path) -> str:
    """The embedded default: a SQLite file in Flask's instance folder."""
    instance.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance / 'interview_app.db'}"


def resolve(configured: str | None, instance: Path) -> str:
    """The database to use: `DATABASE_URL` when set, else the SQLite file in `instance`."""
    return normalize(configured) if configured else default_url(instance)


class HistoryUnavailable(Exception):
    """The database cannot be reached or answered too slowly, or refused this write
    (`refused`: it answered, so the same work in smaller parts may still succeed)."""

    def __init__(self, reason: str, *, refused: bool = False) -> None:
        super().__init__(reason)
        self.refused = refused


def make_engine(url: str, *, timeout: float = 2.0) -> Engine:
    """An engine that gives up quickly: a slow database must never hold a stream."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})

        @event.listens_for(engine, "connect")
        def _wal(dbapi: object, _record: object) -> None:
            cursor = dbapi.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            cursor.execute("PRAGMA synchronous=NORMAL")  # no fsync per commit (see above)
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
            cursor.close()

        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=20,
        pool_timeout=timeout,
        connect_args={
            "connect_timeout": max(1, int(timeout)),
            "options": f"-c statement_timeout={int(timeout * 1000)}",
        },
    )


def _locked(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text


class Database:
    """Runs units of work on one engine: SQLite lock waits that yield, a vanished file seen."""

    def __init__(self, engine: Engine, *, lock_wait: float = 2.0) -> None:
        self.engine = engine
        self.lock_wait = lock_wait
        database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
        self.path = database if database and database != ":memory:" else None
        self.inode = self._inode()

    def _inode(self) -> int | None:
        if self.path is None:
            return None
        try:
            return os.stat(self.path).st_ino
        except FileNotFoundError:
            return None

    def run(self, work: Callable[[], T]) -> T:
        """`work()`; `HistoryUnavailable` if the database failed, was locked too long, or its
        file is gone."""
        if self.path is not None:
            inode = self._inode()
            if inode is None or (self.inode is not None and inode != self.inode):
                raise HistoryUnavailable("the database file is gone")
            self.inode = inode
        try:
            return _while_locked(work, self.lock_wait)
        except OperationalError as exc:
            raise HistoryUnavailable(type(exc).__name__) from None
        except SQLAlchemyError as exc:
            raise HistoryUnavailable(type(exc).__name__, refused=True) from None


def _while_locked(work: Callable[[], T], wait: float) -> T:
    """`work()`, asked again while another process holds the SQLite file's lock, for at most
    `wait` seconds; any other failure, or the lock held past it, is raised."""
    deadline = time.monotonic() + wait
    pause = 0.005
    while True:
        try:
            return work()
        except OperationalError as exc:
            if not _locked(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)  # yields to every other stream while the lock is held
        pause = min(pause * 2, 0.1)


def sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions for units of work: open per request or per write, closed in `finally`."""
    return sessionmaker(engine, expire_on_commit=False)


def _config(url: str | None = None) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema (Alembic `upgrade head`)."""
    from alembic import command

    command.upgrade(_config(url), "head")  # type: ignore[arg-type]


@functools.cache
def code_heads() -> frozenset[str]:
    """The schema revisions this code expects (the heads of `migrations/`)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(_config()).get_heads())  # type: ignore[arg-type]


def schema(engine: Engine, *, lock_wait: float = 0.0) -> Schema:
    """Whether the database's schema is this code's (`ok`), older (`behind`), or unreachable;
    a SQLite file locked by another process is waited for up to `lock_wait` seconds."""
    from alembic.runtime.migration import MigrationContext

    def heads() -> set[str]:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())

    try:
        current = _while_locked(heads, lock_wait)
    except SQLAlchemyError:
        return "down"
    return "ok" if current == code_heads() else "behind"


START_LOCK_WAIT = 30.0  # at start a worker may wait for another's first connection or migration


def prepare(url: str, engine: Engine, *, auto_migrate: bool) -> Schema:
    """At start: migrate the embedded SQLite file (once, whichever worker comes first);
    elsewhere say clearly, once, when the schema is behind and which command migrates it."""
    path = url.removeprefix("sqlite:///")
    if auto_migrate and url.startswith("sqlite:///") and path and path != ":memory:":
        # Several workers start at once: one migrates, the others wait, then see it done. The
        # first look is under the lock too: a fresh file is locked while the first connection
        # switches it to WAL, and a worker that looked then read "down" (a CI run).
        with FileLock(f"{path}.migrate.lock", timeout=60):
            found = schema(engine, lock_wait=START_LOCK_WAIT)
            if found == "behind":
                migrate(url)
                log.info("migrated the practice-history database")
                found = schema(engine, lock_wait=START_LOCK_WAIT)
    else:
        found = schema(engine, lock_wait=START_LOCK_WAIT if url.startswith("sqlite") else 0.0)
    if found == "behind":
        log.warning(
            "the practice-history database is behind this code: nothing will be saved until "
            f"it is migrated. Run `{MIGRATE_COMMAND}` (the Procfile's release command), or "
            "`flask --app yourapp interview-app migrate` in a host app."
        )
    elif found == "down":
        log.warning("the practice-history database is unreachable at start")
    return found


def main() -> None:
    """`python -m interview_app.history.migrate`: migrate the configured database."""
    from interview_app.settings import Settings

    url = resolve(Settings.from_env().database_url, ROOT / "instance")
    migrate(url)
    print(f"migrated {url.split('@')[-1]}", file=sys.stderr)  # noqa: T201
