"""The history database at start: the embedded SQLite file migrates itself (once, under a
lock, however many workers start); a schema that is behind is said once and in /healthz."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from interview_app import create_app
from interview_app.history.db import make_engine, prepare, schema
from interview_app.settings import Settings
from interview_app.web.services import services
from tests.helpers import sse_client
from tests.helpers.logs import Records
from tests.helpers.postgres import PostgresServer
from tests.helpers.server import Server

ANSWER = {"question": "Tell me about a conflict.", "answer": "I listened first, then I fixed it."}


def test_the_web_command_alone_keeps_history_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    # Regression: the Procfile's web line without its release line lost every attempt
    # (`OperationalError: no such table`) and nothing said why.
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    server = Server({"DATABASE_URL": url, "OFFLINE_TOKENS_PER_SECOND": "0"})
    try:
        conn = server.connection()
        try:
            conn.request("GET", "/healthz")
            assert json.loads(conn.getresponse().read())["database"] == "ok"
            headers = {"Content-Type": "application/json"}
            conn.request("POST", "/api/feedback", json.dumps(ANSWER), headers)
            done = sse_client.messages(conn.getresponse().read())[-1]
            assert done.event == "done" and done.json()["saved"] is True, done.data
        finally:
            conn.close()
    finally:
        server.stop()
    assert "not saved" not in server.output(), server.output()


def _prepare(url: str) -> str:
    return prepare(url, make_engine(url), auto_migrate=True)


def test_workers_starting_together_migrate_the_file_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'together.db'}"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        assert pool.map(_prepare, [url] * 4) == ["ok"] * 4
    assert schema(make_engine(url)) == "ok"


def test_a_schema_behind_is_said_at_start_and_in_healthz(
    postgres: PostgresServer, tmp_path: Path, app_logs: Records
) -> None:
    # PostgreSQL is migrated by the release command, never by a worker; so is a SQLite file
    # with DATABASE_AUTO_MIGRATE off.
    for url, auto in (
        (postgres.create_database("t_behind"), True),
        (f"sqlite:///{tmp_path / 'manual.db'}", False),
    ):
        settings = Settings(database_url=url, database_auto_migrate=auto, log_json=False)
        app = create_app(settings)
        assert app.test_client().get("/healthz").get_json()["database"] == "behind"
        services(app).history_or_off().engine.dispose()
        said = [r.getMessage() for r in app_logs.records if "behind" in r.getMessage()]
        assert said and "python -m interview_app.history.migrate" in said[-1]
        app_logs.records.clear()


def test_healthz_says_when_the_database_is_down_or_off(tmp_path: Path) -> None:
    down = Settings(database_url="postgresql://nobody@127.0.0.1:1/none", log_json=False)
    app = create_app(down)
    assert app.test_client().get("/healthz").get_json()["database"] == "down"
    services(app).history_or_off().engine.dispose()
    off = Settings(history=False, log_json=False)
    assert create_app(off).test_client().get("/healthz").get_json()["database"] == "off"


def test_the_release_command_warned_of_unpredictable_behaviour(tmp_path: Path) -> None:
    """`python -m interview_app.history.db` printed runpy's "RuntimeWarning ... found in
    sys.modules ... unpredictable behaviour" on every start: the package's import had
    imported `db` already. The release command now runs a module nothing imports."""
    import os
    import subprocess
    import sys

    from tests.helpers.server import ROOT

    procfile = (ROOT / "Procfile").read_text()
    command = next(line.split(":", 1)[1].split() for line in procfile.splitlines()
                   if line.startswith("release:"))  # fmt: skip
    assert command[:2] == ["python", "-m"]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "PYTHONWARNINGS": ""}
    argv = [sys.executable, "-W", "error::RuntimeWarning", *command[1:]]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "RuntimeWarning" not in done.stderr and "migrated" in done.stderr


def test_a_worker_starting_while_another_held_the_file_said_the_database_was_down(
    tmp_path: Path,
) -> None:
    # Regression (a CI run): four workers starting together on a fresh file; one found the
    # file locked by another's first connection (switching it to WAL) or its migration, gave
    # up after SQLite's 10 ms busy wait and said "down" for its whole life.
    import sqlite3
    import threading

    path = tmp_path / "held.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        url = f"sqlite:///{path}"
        assert prepare(url, make_engine(url), auto_migrate=True) == "ok"
    finally:
        release.join()
        holder.close()
