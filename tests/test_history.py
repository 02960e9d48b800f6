"""Practice history on a real database (a SQLite file and a real PostgreSQL server),
through the app and the real SDK against the local upstream."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, text

from interview_app.history.db import migrate, normalize
from tests.helpers import sse_client
from tests.helpers.fakes import FakeUpstream, Script
from tests.helpers.logs import Records
from tests.helpers.postgres import PostgresServer
from tests.helpers.server import ROOT

Q = "Tell me about a time you failed."
ANSWER = "I re-planned the sprint, and we shipped on the new date with churn down by 3%."
FEEDBACK = {"question": Q, "answer": ANSWER}


@pytest.fixture
def make(make_client: Callable[..., FlaskClient], database_url: str) -> Callable[..., FlaskClient]:
    """Clients of one app on the test database; each client is a browser of its own."""
    clients: list[FlaskClient] = []

    def new(**overrides: Any) -> FlaskClient:
        if not clients or overrides:
            client = make_client(history=True, database_url=database_url, **overrides)
        else:
            client = clients[0].application.test_client()
        clients.append(client)
        return client

    return new


def done_of(client: FlaskClient, path: str = "/api/feedback", **body: Any) -> dict[str, Any]:
    events = sse_client.messages(client.post(path, json={**FEEDBACK, **body}).get_data())
    assert events[-1].event == "done", events[-1]
    payload: dict[str, Any] = events[-1].json()
    return payload


def rows(database_url: str) -> int:
    engine = create_engine(normalize(database_url))
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM attempts")).scalar_one()
    engine.dispose()
    return int(count)


def test_every_stream_is_kept_with_everything(
    make: Callable[..., FlaskClient], upstream: FakeUpstream, database_url: str
) -> None:
    upstream.script = Script(tokens=["Good", " start", "."])
    client = make()
    done = done_of(client)
    assert done["saved"] is True and len(done["attempt_id"]) >= 20
    listed = client.get("/api/attempts").get_json()
    assert listed["next"] is None
    [summary] = listed["attempts"]
    assert summary["id"] == done["attempt_id"] and summary["kind"] == "feedback"
    assert summary["question"] == Q and summary["outcome"] == "done"
    full = client.get(f"/api/attempts/{done['attempt_id']}").get_json()
    assert full["answer"] == ANSWER and full["text"] == "Good start."
    assert full["analysis"] == done["analysis"] and full["backend"] == "openai"
    assert full["model"] == "fake-model" and full["usage"]["completion_tokens"] == 3
    assert full["ttft_ms"] > 0 and full["duration_ms"] >= full["ttft_ms"]
    assert full["previous_id"] is None and full["score"] == done["analysis"]["score"]
    # A stored stream (the page's way) is kept too, even when nobody reads it to the end.
    created = client.post("/api/streams", json={"kind": "answer", "question": Q}).get_json()
    events = sse_client.messages(client.get(created["url"]).get_data())
    assert events[-1].json()["saved"] is True
    assert rows(database_url) == 2


def test_a_reader_who_left_still_gets_the_attempt_kept(
    make: Callable[..., FlaskClient], upstream: FakeUpstream, database_url: str
) -> None:
    upstream.script = Script(tokens=["x"] * 50, interval=0.02)
    client = make()
    response = client.post("/api/answer", json={"question": Q}, buffered=False)
    chunks = iter(response.response)
    next(chunks), next(chunks), next(chunks)
    response.close()
    [only] = client.get("/api/attempts").get_json()["attempts"]
    assert only["outcome"] == "client_left"
    assert rows(database_url) == 1


def test_another_identity_sees_and_deletes_nothing(
    make: Callable[..., FlaskClient], upstream: FakeUpstream, database_url: str
) -> None:
    upstream.script = Script(tokens=["mine"])
    alice, bob = make(), make()
    attempt = done_of(alice)["attempt_id"]
    assert bob.get("/api/attempts").get_json()["attempts"] == []
    for method in ("get", "delete"):
        response = getattr(bob, method)(f"/api/attempts/{attempt}")
        assert response.status_code == 404  # never 403: no existence leak
        assert response.get_json()["error"]["code"] == "attempt_not_found"
    bob.delete("/api/attempts")
    assert alice.get(f"/api/attempts/{attempt}").status_code == 200
    assert rows(database_url) == 1


def test_a_forged_or_tampered_cookie_gets_a_fresh_identity(
    make: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    upstream.script = Script(tokens=["mine"])
    alice = make()
    done_of(alice)
    cookie = alice.get_cookie("ia_identity")
    assert cookie is not None
    value = cookie.value
    mallory = make()
    for forged in (value[:-2] + "xx", value.split(".")[0], "anything"):
        mallory.set_cookie("ia_identity", forged)
        response = mallory.get("/api/attempts")
        assert response.get_json()["attempts"] == []
        assert response.headers.get("Set-Cookie", "").startswith("ia_identity=")  # a new one


def test_the_identity_cookie_is_signed_http_only_lax_and_a_year_long(
    make: Callable[..., FlaskClient],
) -> None:
    client = make()
    set_cookie = client.get("/api/attempts").headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert "Max-Age=31536000" in set_cookie and "Secure" not in set_cookie
    again = client.get("/api/attempts")
    assert "Set-Cookie" not in again.headers  # kept, not renewed on every request
    proxied = make(trusted_proxies=1).get(
        "/api/attempts", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"}
    )
    assert "Secure" in proxied.headers["Set-Cookie"]


def test_a_retry_links_to_the_previous_attempt_at_the_same_question(
    make: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    upstream.script = Script(tokens=["ok"])
    client = make()
    first = done_of(client, answer="We did it.")["attempt_id"]
    done_of(client, question="Why this job?")
    second = done_of(client, question=f"  {Q.upper()} ")["attempt_id"]  # spacing, case
    assert client.get(f"/api/attempts/{second}").get_json()["previous_id"] == first
    assert client.get(f"/api/attempts/{first}").get_json()["previous_id"] is None


def test_pages_of_attempts_newest_first(
    make: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    upstream.script = Script(tokens=["ok"])
    client = make()
    made = [done_of(client, question=f"Q{i}?")["attempt_id"] for i in range(5)]
    page = client.get("/api/attempts?limit=2").get_json()
    assert [a["id"] for a in page["attempts"]] == made[::-1][:2]
    page2 = client.get(f"/api/attempts?limit=2&before={page['next']}").get_json()
    assert [a["id"] for a in page2["attempts"]] == made[::-1][2:4]
    page3 = client.get(f"/api/attempts?limit=2&before={page2['next']}").get_json()
    assert [a["id"] for a in page3["attempts"]] == made[:1] and page3["next"] is None
    for bad in ("0", "101", "x"):
        assert client.get(f"/api/attempts?limit={bad}").status_code == 400


def test_delete_one_and_delete_all_remove_rows(
    make: Callable[..., FlaskClient], upstream: FakeUpstream, database_url: str
) -> None:
    upstream.script = Script(tokens=["ok"])
    client, other = make(), make()
    first, _ = done_of(client)["attempt_id"], done_of(client)["attempt_id"]
    done_of(other)
    assert client.delete(f"/api/attempts/{first}").status_code == 204
    assert client.get(f"/api/attempts/{first}").status_code == 404
    assert rows(database_url) == 2
    assert client.delete("/api/attempts").status_code == 204
    assert client.get("/api/attempts").get_json()["attempts"] == []
    assert rows(database_url) == 1  # the other identity's attempt stays


def test_export_all_as_json_and_markdown(
    make: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    upstream.script = Script(tokens=["잘 ", "했습니다"])
    client = make()
    done_of(client, answer="제가 일정을 다시 짰습니다.")
    as_json = client.get("/api/attempts/export?format=json")
    assert as_json.headers["Content-Disposition"].startswith("attachment")
    [one] = json.loads(as_json.get_data())["attempts"]
    assert one["answer"] == "제가 일정을 다시 짰습니다." and one["text"] == "잘 했습니다"
    as_md = client.get("/api/attempts/export?format=md")
    assert as_md.mimetype == "text/markdown"
    assert "제가 일정을 다시 짰습니다." in as_md.get_data(as_text=True)
    assert client.get("/api/attempts/export?format=pdf").status_code == 400


def test_progress_per_week_and_category(
    make: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    upstream.script = Script(tokens=["ok"])
    client = make()
    done_of(client, answer="At my last job, my goal was to ship it. We worked hard.")
    done_of(client, answer="At my previous company I was responsible for it. Sales grew.")
    data = client.get("/api/progress").get_json()
    [row] = data["progress"]
    assert row["category"] == "behavioural" and row["attempts"] == 2
    assert row["week"] == "{}-W{:02d}".format(*datetime.now(UTC).isocalendar()[:2])
    assert row["most_missing"] == "action" and data["weakest"] == "action"
    assert 1 <= row["mean_score"] <= 2


def test_the_weakest_part_was_the_first_found_not_the_weightiest(
    make: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    """After four answers with no action of one's own, then four with no result, history and
    "Practise next" both named Task: missing as often as Result, but found first. They now
    read one `judgement.weak_parts` (the last four answers, ties by the scale's weight),
    where history had counted STAR parts over all time and the queue every part."""
    upstream.script = Script(tokens=["ok"])
    client = make()
    we = "At my last job we rewrote the deploy script as a team and deploys got much faster."
    mine = "At my last job I rewrote the deploy script myself and I set up alerts for it."
    for answer in [we] * 4 + [mine] * 4:
        done_of(client, answer=answer)
    weak = client.get("/api/review").get_json()["weak_parts"]
    weakest = client.get("/api/progress").get_json()["weakest"]
    assert (weakest, weak[0]) == ("result", {"part": "result", "missing_in": 4, "of": 4})


def test_save_false_and_history_off_record_nothing(
    make: Callable[..., FlaskClient],
    make_client: Callable[..., FlaskClient],
    upstream: FakeUpstream,
    database_url: str,
) -> None:
    upstream.script = Script(tokens=["ok"])
    client = make()
    done = done_of(client, save=False)
    assert done["saved"] is False and "attempt_id" not in done
    assert client.post("/api/feedback", json={**FEEDBACK, "save": "no"}).status_code == 400
    off = make_client(history=False, database_url=database_url)
    assert "saved" not in done_of(off)
    assert off.get("/api/attempts").status_code == 404
    assert rows(database_url) == 0


def test_the_database_down_never_breaks_a_stream(
    make_client: Callable[..., FlaskClient],
    upstream: FakeUpstream,
    postgres: PostgresServer,
    app_logs: Records,
) -> None:
    upstream.script = Script(tokens=["still", " here"])
    down = f"postgres://postgres@127.0.0.1:{postgres.port + 1}/nothing"  # nobody listens
    client = make_client(history=True, database_url=down)
    events = sse_client.messages(client.post("/api/feedback", json=FEEDBACK).get_data())
    assert sse_client.text_of(b"".join(sse_client_raw(events))) == "still here"
    assert events[-1].event == "done" and events[-1].json()["saved"] is False
    response = client.get("/api/attempts")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json()["error"]["code"] == "history_unavailable"
    assert ANSWER not in app_logs.text()  # candidate text never in a log line


def sse_client_raw(events: list[Any]) -> list[bytes]:
    return [b"data: " + e.data.encode() + b"\n\n" for e in events if e.event == "message"]


def test_retention_purges_attempts_older_than_the_setting(
    make: Callable[..., FlaskClient], upstream: FakeUpstream, database_url: str
) -> None:
    upstream.script = Script(tokens=["ok"])
    client = make(history_retention_days=30)
    old, new = done_of(client)["attempt_id"], done_of(client)["attempt_id"]
    engine = create_engine(normalize(database_url))
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE attempts SET created_at = :t WHERE id = :id"),
            {"t": datetime.now(UTC) - timedelta(days=31), "id": old},
        )
    engine.dispose()
    history = client.application.extensions["interview_app"].history
    assert history.purge() == 1
    assert [a["id"] for a in client.get("/api/attempts").get_json()["attempts"]] == [new]


# --- Schema -----------------------------------------------------------------------


def _schema(url: str) -> dict[str, Any]:
    engine = create_engine(normalize(url))
    found = inspect(engine)
    schema = {
        "columns": [
            (c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns("attempts")
        ],
        "indexes": sorted(
            (i["name"], tuple(i["column_names"])) for i in found.get_indexes("attempts")
        ),
    }
    engine.dispose()
    return schema


def test_fresh_and_upgraded_databases_end_in_the_same_schema(
    postgres: PostgresServer, tmp_path: Any
) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext

    from interview_app.history.db import MIGRATIONS
    from interview_app.history.models import Base

    for fresh_url, old_url in (
        (f"sqlite:///{tmp_path / 'fresh.db'}", f"sqlite:///{tmp_path / 'old.db'}"),
        (postgres.create_database("fresh"), postgres.create_database("old")),
    ):
        migrate(normalize(fresh_url))
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", normalize(old_url))
        command.upgrade(config, "head")
        command.downgrade(config, "base")  # an older database ...
        migrate(normalize(old_url))  # ... upgraded
        migrate(normalize(old_url))  # twice: nothing more to do
        assert _schema(fresh_url) == _schema(old_url)
        engine = create_engine(normalize(fresh_url))
        with engine.connect() as conn:  # the migrations and the models agree
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        engine.dispose()


# --- gevent -------------------------------------------------------------------------


def test_psycopg_yields_to_other_greenlets_under_gevent(postgres: PostgresServer) -> None:
    """Five 1-second queries in five greenlets, patched as gunicorn's gevent worker does:
    about 1 s if psycopg yields while it waits, 5 s if it blocked the hub."""
    script = textwrap.dedent(
        f"""
        from gevent import monkey
        monkey.patch_all()
        import time, gevent, psycopg
        def sleep():
            with psycopg.connect({postgres.admin_url!r}) as conn:
                conn.execute("SELECT pg_sleep(1)")
        ticks = []
        def tick():
            while True:
                ticks.append(time.monotonic())
                gevent.sleep(0.05)
        ticker = gevent.spawn(tick)
        started = time.monotonic()
        gevent.joinall([gevent.spawn(sleep) for _ in range(5)])
        took = time.monotonic() - started
        ticker.kill()
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        print(took, max(gaps))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    took, worst_gap = map(float, out.stdout.split())
    assert took < 2.5, f"the queries ran one after another ({took:.1f} s)"
    assert worst_gap < 0.5, f"the hub was blocked for {worst_gap:.2f} s"


# --- Deployment: the release phase, and many instances on one database ------------------


def test_the_procfile_release_phase_migrates_the_database(postgres: PostgresServer) -> None:
    import os

    from tests.helpers.server import procfile_command

    url = postgres.create_database("released")
    env = {
        **os.environ,
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "DATABASE_URL": url,
        "DYNO": "release.1",
        "SECRET_KEY": "s",
    }
    run = subprocess.run(
        procfile_command("release"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert _schema(url)["columns"][0][0] == "id"


def test_two_instances_on_one_postgres_share_history(
    upstream_server: FakeUpstream, upstream: FakeUpstream, postgres: PostgresServer, redis_url: str
) -> None:
    from tests.helpers.env import relay_env
    from tests.helpers.server import Server

    url = postgres.create_database("shared")
    migrate(normalize(url))
    env = relay_env(
        upstream_server, HISTORY="on", DATABASE_URL=url, REDIS_URL=redis_url, SECRET_KEY="k"
    )
    upstream.script = Script(tokens=["kept"])
    a, b = Server(env), Server(env)
    try:
        conn = a.connection()
        conn.request(
            "POST", "/api/feedback", json.dumps(FEEDBACK), {"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        cookie = (response.getheader("Set-Cookie") or "").split(";")[0]
        done = sse_client.messages(response.read())[-1].json()
        conn.close()
        assert done["saved"] is True and cookie.startswith("ia_identity=")
        conn = b.connection()
        conn.request("GET", "/api/attempts", headers={"Cookie": cookie})
        listed = json.loads(conn.getresponse().read())
        conn.close()
        assert [x["id"] for x in listed["attempts"]] == [done["attempt_id"]]
    finally:
        a.stop()
        b.stop()


def test_sqlite_commits_without_an_fsync_each_that_would_hold_the_hub(tmp_path: Any) -> None:
    from interview_app.history.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'sync.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 1  # NORMAL
    engine.dispose()


# --- Group commit: streams that end together share one transaction -------------------

RECORD = {"kind": "answer", "question": Q, "language": "en", "text": "t", "backend": "offline",
          "model": "m", "duration_ms": 1.0, "outcome": "done"}  # fmt: skip


def _metric(text: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


def test_streams_that_end_together_share_one_history_transaction_through_gunicorn(
    upstream_server: FakeUpstream, upstream: FakeUpstream, database_url: str
) -> None:
    """Each stream's save was a transaction of its own: about a fifth of a one-token
    feedback stream's CPU (issue 23). Twelve streams end together through gunicorn +
    gevent: each hears its own attempt saved, and fewer transactions wrote all twelve."""
    from tests.helpers.env import relay_env
    from tests.helpers.server import Server

    count = 12
    env = relay_env(
        upstream_server, HISTORY="on", DATABASE_URL=database_url, SECRET_KEY="k",
        HISTORY_BATCH_MS="300",
    )  # fmt: skip
    upstream.script = Script(tokens=["kept"])
    server = Server(env)
    try:
        start = threading.Barrier(count)
        dones: list[dict[str, Any]] = []

        def one() -> None:
            start.wait(30)
            conn = server.connection()
            conn.request("POST", "/api/feedback", json.dumps(FEEDBACK),
                         {"Content-Type": "application/json"})  # fmt: skip
            dones.append(sse_client.messages(conn.getresponse().read())[-1].json())
            conn.close()

        threads = [threading.Thread(target=one) for _ in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(dones) == count and all(d["saved"] is True for d in dones), dones
        assert len({d["attempt_id"] for d in dones}) == count
        assert rows(database_url) == count
        conn = server.connection()
        conn.request("GET", "/metrics")
        metrics = conn.getresponse().read().decode()
        conn.close()
        assert _metric(metrics, "interview_app_history_batch_attempts_sum") == count
        assert _metric(metrics, "interview_app_history_batch_attempts_count") < count / 2
    finally:
        server.stop()


def test_one_faulty_attempt_in_a_batch_cost_the_others_their_saves(database_url: str) -> None:
    """A transaction of many attempts that fails for one of them (here one attempt's
    analysis cannot be stored) is written again one attempt at a time: the faulty one is
    not saved (SQLite's driver reports it as refused, psycopg raises it to its caller,
    which `Generation.done` logs), the others are."""
    from interview_app.history.db import make_engine
    from interview_app.history.repository import History

    history = History(make_engine(normalize(database_url)), 90, batch_seconds=0.3)
    start = threading.Barrier(3)
    saved: dict[str, object] = {}
    bad = {**RECORD, "analysis": {"evidence": object()}}

    def one(attempt: str, record: dict[str, Any]) -> None:
        start.wait(10)
        try:
            saved[attempt] = history.save("me", attempt, record)
        except TypeError:
            saved[attempt] = "raised"

    threads = [threading.Thread(target=one, args=(f"a{i}", r))
               for i, r in enumerate([RECORD, bad, RECORD])]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert saved["a0"] is True and saved["a2"] is True and saved["a1"] in (False, "raised")
    assert rows(database_url) == 2
    history.engine.dispose()


def test_a_leader_killed_while_it_gathered_its_batch_left_the_others_waiting(
    tmp_path: Any,
) -> None:
    """The first save waits for others to join its batch; killed then (under gevent, as a
    worker may kill a greenlet), the batch is still written and every save returns."""
    url = f"sqlite:///{tmp_path / 'leader.db'}"
    migrate(url)
    script = textwrap.dedent(
        f"""
        from gevent import monkey
        monkey.patch_all()
        import gevent
        from sqlalchemy import text
        from interview_app.history.db import make_engine
        from interview_app.history.repository import History
        history = History(make_engine({url!r}), 90, batch_seconds=0.2)
        record = {RECORD!r}
        leader = gevent.spawn(history.save, "me", "a1", record)
        gevent.sleep(0.01)
        other = gevent.spawn(history.save, "me", "a2", record)
        gevent.sleep(0.01)
        leader.kill()
        other.join(5)
        with history.engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM attempts")).scalar_one()
        print(other.ready(), other.value, count)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "2"]
