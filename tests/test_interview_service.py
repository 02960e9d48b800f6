"""The interview service through the Procfile's gunicorn + gevent: answers posted at the same
moment, and the interviewer's streams admitted and drained like every other stream."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from tests.helpers import sse_client
from tests.helpers.server import Server
from tests.test_lifecycle import Reader

JSON = {"Content-Type": "application/json"}
STRONG = (
    "In short, I cut checkout errors by 60%. Our payment page failed often and my task was "
    "to fix it. I traced the failures and I rewrote the retry logic. As a result, errors "
    "fell from 5% to 2%."
)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    return {"DATABASE_URL": url, "SECRET_KEY": "served", "RATE_LIMIT_PER_MINUTE": "0",
            "MAX_STREAMS_PER_CLIENT": "0", **extra}  # fmt: skip


def _call(server: Server, method: str, path: str, body: Any = None, cookie: str = "") -> Any:
    conn = server.connection()
    headers = {**JSON, "Cookie": cookie} if cookie else JSON
    conn.request(method, path, None if body is None else json.dumps(body), headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def _interview(server: Server) -> tuple[dict[str, Any], str]:
    response, data = _call(server, "POST", "/api/interviews", {"language": "en", "questions": 1})
    assert response.status == 201, data
    cookie = response.getheader("Set-Cookie").split(";")[0]
    return json.loads(data), cookie


def test_two_answers_posted_at_the_same_moment_land_once(tmp_path: Path) -> None:
    server = Server(_env(tmp_path, OFFLINE_TOKENS_PER_SECOND="0"))
    try:
        for _ in range(5):
            created, cookie = _interview(server)
            _call(server, "GET", created["next"]["stream"], cookie=cookie)  # heard
            barrier = threading.Barrier(2)
            results: list[tuple[int, dict[str, Any]]] = []

            def post(
                created: dict[str, Any] = created,
                cookie: str = cookie,
                barrier: threading.Barrier = barrier,
                results: list[tuple[int, dict[str, Any]]] = results,
            ) -> None:
                conn = server.connection()
                body = json.dumps({"answer": STRONG, "turn": 0})
                barrier.wait()
                conn.request("POST", f"{created['url']}/answers", body, {**JSON, "Cookie": cookie})
                response = conn.getresponse()
                results.append((response.status, json.loads(response.read())))
                conn.close()

            threads = [threading.Thread(target=post) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert sorted(status for status, _ in results) == [201, 409], results
            refused = next(body for status, body in results if status == 409)
            # Busy while the first is coached, or (the offline coach at full speed) finished.
            assert refused["error"]["code"] in ("interview_busy", "interview_finished")
            _, state = _call(server, "GET", created["url"], cookie=cookie)
            assert [t["answer"] for t in json.loads(state)["turns"]] == [STRONG]
    finally:
        server.stop()


def test_the_interviewers_streams_count_against_the_workers_capacity(tmp_path: Path) -> None:
    # Regression: a question being asked held no quota ticket, so a full worker took more.
    server = Server(_env(tmp_path, MAX_STREAMS_PER_WORKER="1", OFFLINE_TOKENS_PER_SECOND="2"))
    try:
        _interview(server)  # its first question streams slowly, holding the one slot
        response, data = _call(
            server, "POST", "/api/streams", {"kind": "answer", "question": "Why us?"}
        )
        assert response.status == 503 and json.loads(data)["error"]["code"] == "server_busy"
        response, data = _call(server, "POST", "/api/interviews", {"language": "en"})
        assert response.status == 503 and json.loads(data)["error"]["code"] == "server_busy"
    finally:
        server.stop()


def test_an_interviewer_still_speaking_at_sigterm_ends_with_server_restarting(
    tmp_path: Path,
) -> None:
    # Regression: a question being asked was not drained: its reader was cut at exit.
    server = Server(_env(tmp_path, OFFLINE_TOKENS_PER_SECOND="2", SHUTDOWN_DRAIN_SECONDS="1"))
    created, cookie = _interview(server)
    reader = Reader(server, "GET", created["next"]["stream"], {"Cookie": cookie})
    assert reader.first.wait(10)
    assert server.stop() == 0
    reader.join(10)
    last = reader.events()[-1]
    assert last.event == "error" and last.json()["code"] == "server_restarting", last.data
    assert sse_client.text_of(reader.data)
