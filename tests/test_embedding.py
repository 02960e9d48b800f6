"""The same stream contract standalone and embedded in a host app under /coach, both ways
(`Coach` extension and `DispatcherMiddleware`), each through gunicorn + gevent; the
host's own routes keep their behaviour. The page under the prefix: test_page.py."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import sse_client
from tests.helpers.embedding import EMBEDS, Deployment, start
from tests.helpers.fakes import FakeUpstream, Script

QUESTION = {"kind": "answer", "question": "Tell me about a time you failed."}


@pytest.fixture(scope="module", params=EMBEDS)
def deployment(
    request: pytest.FixtureRequest,
    upstream_server: FakeUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    from interview_app.history.db import migrate

    url = f"sqlite:///{tmp_path_factory.mktemp('embed') / 'history.db'}"
    migrate(url)
    deployed = start(request.param, upstream_server, url)
    yield deployed
    deployed.server.stop()
    log = deployed.server.output()
    assert "Traceback" not in log, log
    assert "not gevent" not in log


# The tests about a host app, on the two deployments that have one.
hosts = pytest.mark.parametrize("deployment", EMBEDS[1:], indirect=True)


def _tokens(n: int) -> list[str]:
    return [f"w{i} " for i in range(n)]


def test_a_stream_is_created_and_read_under_the_mount(
    deployment: Deployment, upstream: FakeUpstream
) -> None:
    tokens = _tokens(12)
    upstream.script = Script(tokens=tokens, interval=0.005)
    with deployment.client() as client:
        created = client.post(f"{deployment.prefix}/api/streams", json=QUESTION)
        assert created.status_code == 201, created.text
        url = created.json()["url"]
        assert re.fullmatch(rf"{deployment.prefix}/api/streams/[\w-]+", url)
        assert created.headers["location"] == url
        read = client.get(url)
    assert read.status_code == 200
    assert read.headers["content-type"].startswith("text/event-stream")
    assert read.headers["x-request-id"] and "content-security-policy" in read.headers
    blocks = sse_client.parse(read.content)
    assert blocks[0].retry == deployment.retry_ms
    events = sse_client.messages(read.content)
    assert [e.id for e in events] == [str(i) for i in range(1, len(events) + 1)]
    assert sse_client.text_of(read.content) == "".join(tokens)
    assert events[-1].event == "done"


def test_a_stream_resumes_after_the_last_event_id_under_the_mount(
    deployment: Deployment, upstream: FakeUpstream
) -> None:
    tokens = _tokens(10)
    upstream.script = Script(tokens=tokens, interval=0.005)
    with deployment.client() as client:
        url = client.post(f"{deployment.prefix}/api/streams", json=QUESTION).json()["url"]
        whole = sse_client.messages(client.get(url).content)
        rest = client.get(url, headers={"Last-Event-ID": "4"})
        ended = client.get(url, headers={"Last-Event-ID": whole[-1].id or ""})
    resumed = sse_client.messages(rest.content)
    assert [e.id for e in resumed] == [e.id for e in whole[4:]]
    assert sse_client.text_of(rest.content) == "".join(tokens[4:])
    assert ended.status_code == 204  # what stops EventSource reconnecting


def test_the_direct_stream_works_under_the_mount(
    deployment: Deployment, upstream: FakeUpstream
) -> None:
    upstream.script = Script(tokens=["안녕", "하세요"], interval=0.005)
    with deployment.client() as client:
        read = client.post(f"{deployment.prefix}/api/answer", json={"question": "자기소개"})
    assert read.status_code == 200
    assert sse_client.text_of(read.content) == "안녕하세요"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/api/streams", b"{", 400, "invalid_json"),
        ("POST", "/api/streams", b'{"kind": "poem"}', 400, "invalid_field"),
        ("GET", "/api/streams/no-such-stream", None, 404, "stream_not_found"),
        ("GET", "/api/no-such-route", None, 404, "not_found"),
        ("GET", "/api/streams", None, 405, "method_not_allowed"),
    ],
)
def test_errors_have_our_json_shape_under_the_mount(
    deployment: Deployment, method: str, path: str, body: bytes | None, status: int, code: str
) -> None:
    with deployment.client() as client:
        response = client.request(
            method,
            deployment.prefix + path,
            content=body,
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.headers["x-request-id"]
    if status == 405:
        assert "POST" in response.headers["allow"]


def test_the_page_and_its_files_load_under_the_mount(deployment: Deployment) -> None:
    with deployment.client() as client:
        page = client.get(f"{deployment.prefix}/")
        assert page.status_code == 200
        assert f'data-base="{deployment.prefix}"' in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        files = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert len(files) >= 8
        for path in files:
            assert path.startswith(f"{deployment.prefix}/"), path
            assert client.get(path).status_code == 200, path


def test_history_and_interviews_answer_urls_under_the_mount(
    deployment: Deployment, upstream: FakeUpstream
) -> None:
    upstream.script = Script(tokens=["Good ", "start."], interval=0.005)
    with deployment.client() as client:
        feedback = {
            "kind": "feedback",
            "question": "Tell me about a time you failed.",
            "answer": "I missed a deadline, so I rebuilt the plan and we shipped 3 days early.",
        }
        url = client.post(f"{deployment.prefix}/api/streams", json=feedback).json()["url"]
        done = sse_client.messages(client.get(url).content)[-1]
        assert done.event == "done" and done.json()["saved"] is True
        cookie = next(c for c in client.cookies.jar if c.name == "ia_identity")
        assert cookie.path == (deployment.prefix or "/")
        listed = client.get(f"{deployment.prefix}/api/attempts").json()
        assert [a["id"] for a in listed["attempts"]] == [done.json()["attempt_id"]]

        setup = {"questions": 1, "follow_ups": False}
        created = client.post(f"{deployment.prefix}/api/interviews", json=setup)
        assert created.status_code == 201, created.text
        session = created.json()
        assert session["url"] == created.headers["location"]
        assert session["url"] == f"{deployment.prefix}/api/interviews/{session['id']}"
        assert session["next"]["stream"].startswith(f"{deployment.prefix}/api/streams/")
        asked = client.get(session["next"]["stream"])
        assert sse_client.messages(asked.content)[-1].event == "done"
        state = client.get(session["url"]).json()
        assert state["current"]["stream"] == session["next"]["stream"]
        assert state["turns"][0]["stream"] == session["next"]["stream"]

        upstream.script = Script(tokens=["Fine."], interval=0.005)
        answered = client.post(f"{session['url']}/answers", json={"answer": "I led it.", "turn": 0})
        assert answered.status_code == 201, answered.text
        coached = answered.json()["feedback"]
        assert coached.startswith(f"{deployment.prefix}/api/streams/")
        after = sse_client.messages(client.get(coached).content)[-1]
        # Made in the background after the request: still under the mount.
        report = after.json()["next"]
        assert report["kind"] == "report"
        assert report["stream"].startswith(f"{deployment.prefix}/api/streams/")
        assert sse_client.messages(client.get(report["stream"]).content)[-1].event == "done"
        printable = client.get(f"{deployment.prefix}/interviews/{session['id']}/report")
    assert printable.status_code == 200
    assert f'href="{deployment.prefix}/"' in printable.text  # back to the practice page
    assert f'href="{deployment.prefix}/static/report.css"' in printable.text


@hosts
def test_the_hosts_own_routes_keep_their_behaviour(deployment: Deployment) -> None:
    with deployment.client() as client:
        hello = client.get("/hello")
        assert hello.json() == {"hello": "host", "request_id": "host-request"}
        home = client.get("/")
        missing = client.get("/no-such-page")
    for response in (hello, home, missing):
        assert response.headers["x-host"] == "yes"
        for ours in ("content-security-policy", "x-request-id", "set-cookie"):
            assert ours not in response.headers, (response.url, ours)
    assert "The host's own home page" in home.text
    assert missing.status_code == 404 and missing.text == "<h1>host: no such page</h1>"


@hosts
def test_sigterm_drains_our_streams_however_we_are_mounted(
    deployment: Deployment, upstream_server: FakeUpstream, upstream: FakeUpstream, tmp_path: Path
) -> None:
    """Our gunicorn.conf.py finds the drain in a host app too (a fresh server: it stops)."""
    from interview_app.history.db import migrate

    url = f"sqlite:///{tmp_path / 'drain.db'}"
    migrate(url)
    fresh = start(deployment.embed, upstream_server, url, SHUTDOWN_DRAIN_SECONDS="1")
    upstream.script = Script(tokens=["x "] * 1000, interval=0.05)
    received: list[bytes] = []
    first = threading.Event()

    def read() -> None:
        with (
            fresh.client() as client,
            client.stream(
                "POST", f"{fresh.prefix}/api/answer", json={"question": "Why?"}
            ) as response,
        ):
            for chunk in response.iter_bytes():
                received.append(chunk)
                first.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert first.wait(10)
    assert fresh.server.stop() == 0
    reader.join(10)
    last = sse_client.messages(b"".join(received))[-1]
    assert last.event == "error" and last.json()["code"] == "server_restarting"
    assert "Worker graceful timeout" not in fresh.server.output()
