"""The interviewer's generations are admitted and counted like every stream, and the rules'
report is said as the finished text it is (issue 31, items 10 and 11), through the
Procfile's gunicorn + gevent and the real SDK against the local upstream."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from tests.helpers import sse_client
from tests.helpers.env import relay_env
from tests.helpers.fakes import FakeUpstream, Script
from tests.helpers.server import Server

ANSWER = "I rewrote the release pipeline myself and releases fell from 2 hours to 20 minutes."


def _counter(metrics: str, name: str) -> float:
    return sum(float(v) for v in re.findall(rf"^{name}\{{[^}}]*\}} ([0-9.e+]+)$", metrics, re.M))


def test_one_interview_starts_as_many_streams_as_it_finishes(
    upstream_server: FakeUpstream, upstream: FakeUpstream, tmp_path: Path
) -> None:
    srv = Server(relay_env(upstream_server, HISTORY="on", RUBRIC="model",
                           DATABASE_URL=f"sqlite:///{tmp_path / 'h.db'}",
                           OFFLINE_TOKENS_PER_SECOND="5"))  # fmt: skip
    try:
        # The model's report does not fit: the rules' report is said, under the model's name.
        upstream.script = Script(tokens=["What did you change?"], completion="not json")
        with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=60) as client:
            created = client.post("/api/interviews", json={"language": "en", "questions": 1,
                                                           "follow_ups": False}).json()  # fmt: skip
            sse_client.messages(client.get(created["next"]["stream"]).content)
            upstream.script = Script(tokens=["Good."], completion="not json")
            answered = client.post(f"{created['url']}/answers", json={"turn": 0, "answer": ANSWER})
            feedback = answered.json()["feedback"]
            done = sse_client.messages(client.get(feedback).content)[-1].json()
            assert done["next"]["kind"] == "report"
            began = client.get(done["next"]["stream"])
            report = sse_client.messages(began.content)
            metrics = client.get("/metrics").text
        texts = [e for e in report if e.event == "message"]
        # Said at once, not recited at OFFLINE_TOKENS_PER_SECOND (665 events over 17 s).
        assert len(texts) == 1, len(texts)
        markdown = texts[0].json()["text"]
        assert not re.search(r"(?<!of )\b1 answers", markdown), markdown
        assert report[-1].json()["report"]["source"] == "rules"
        started = _counter(metrics, "interview_app_streams_started_total")
        finished = _counter(metrics, "interview_app_streams_finished_total")
        assert started == finished == 3, (started, finished)  # question, feedback, report
    finally:
        srv.stop()
    lines = [json.loads(line) for line in srv.output().splitlines() if line.startswith("{")]
    fallbacks = [line for line in lines if "rubric_fallback" in line]
    assert fallbacks and all(line["request_id"] for line in fallbacks), fallbacks
