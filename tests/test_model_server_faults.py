"""What running against a real model server (llama-cpp-python's) found, reproduced by the
local OpenAI-compatible server behaving the same way, through the real SDK."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from interview_app.coaching import rubric
from tests.helpers import sse_client
from tests.helpers.fakes import FakeUpstream, Script
from tests.helpers.rubrics import BODY, model_rubric

KO_BODY = {
    "question": "실패했던 경험을 말해 주세요.",
    "answer": "제가 일정을 다시 짜서 출시를 지켰고, 이탈률이 3% 줄었습니다.",
    "language": "ko",
}


def _event(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj).encode()


def _chunk(content: str | None, finish: str | None = None) -> dict[str, Any]:
    delta = {} if content is None else {"content": content}
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def events(client: FlaskClient, path: str = "/api/answer", **body: Any) -> list[Any]:
    body = body or {"question": "Why us?"}
    return sse_client.messages(client.post(path, json=body).get_data())


# --- 9. A stream the server cut short is not complete --------------------------------


def test_a_bare_done_without_a_finish_reason_is_upstream_incomplete(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    # llama.cpp's server ends a running stream this way when another request takes its slot.
    upstream.script = Script(raw=[_event(_chunk("Half an ")) + b"\n\n", b"data: [DONE]\n\n"])
    got = events(make_client())
    assert got[-1].event == "error" and got[-1].json()["code"] == "upstream_incomplete"
    assert "".join(e.json()["text"] for e in got if e.event == "message") == "Half an "


# --- 10. CR-only line endings ----------------------------------------------------------


@pytest.mark.parametrize("end", [b"\r", b"\r\n"])
def test_cr_line_endings_from_the_upstream_are_parsed(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream, end: bytes
) -> None:
    lines = [_event(_chunk("Good ")), _event(_chunk("start.")), _event(_chunk(None, "stop"))]
    raw = [line + end + end for line in lines] + [b"data: [DONE]" + end + end]
    upstream.script = Script(raw=[b"".join(raw[:2])[:7], b"".join(raw[:2])[7:], *raw[2:]])
    got = events(make_client())
    assert got[-1].event == "done", got[-1].data
    assert "".join(e.json()["text"] for e in got if e.event == "message") == "Good start."


# --- 11. A refusal of structured output the way servers really refuse it ---------------


def test_a_500_naming_response_format_switches_to_json_mode_once(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    client = make_client(rubric="model", rubric_timeout_seconds=2)
    upstream.script = Script(
        tokens=["Good."],
        completion_status=500,
        completion_error='Either "json_schema" or "grammar" can be specified, but not both',
    )
    assert events(client, "/api/feedback", **BODY)[-1].json()["analysis"]["source"] == "rules"
    upstream.script = Script(tokens=["Good."], completion=model_rubric())
    assert events(client, "/api/feedback", **BODY)[-1].json()["analysis"]["source"] == "model"
    formats = [c["response_format"]["type"] for c in upstream.completions]
    assert formats == ["json_schema", "json_object"]  # remembered for this server


def test_a_500_that_does_not_name_the_format_is_a_failure_not_a_refusal(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    client = make_client(rubric="model", rubric_timeout_seconds=2)
    upstream.script = Script(tokens=["Good."], completion_status=500, completion_error="oom")
    events(client, "/api/feedback", **BODY)
    upstream.script = Script(tokens=["Good."], completion=model_rubric())
    events(client, "/api/feedback", **BODY)
    assert [c["response_format"]["type"] for c in upstream.completions] == ["json_schema"] * 2


# --- 12. On a server that runs one request at a time, the feedback comes first ---------


def test_the_feedback_is_not_held_behind_its_rubric_on_a_one_slot_server(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    client = make_client(rubric="model", rubric_timeout_seconds=5)
    upstream.script = Script(
        tokens=["Good ", "start."], interval=0.05, serial=True, completion_delay=2.0,
        completion=model_rubric(), header_delay=0.3,
    )  # fmt: skip
    began = time.monotonic()
    response = client.post("/api/feedback", json=BODY, buffered=False)
    first = None
    for chunk in response.response:
        if first is None and b'"text"' in chunk:
            first = time.monotonic() - began
    response.close()
    assert first is not None and first < 1.0, f"the first words waited {first:.1f} s"
    assert upstream.order == ["stream", "structured"]
    # The rubric was asked for only once the feedback's first words were on their way.
    asked = next(at for kind, at in upstream.arrivals if kind == "structured")
    assert upstream.first_token_at is not None and asked >= upstream.first_token_at


# --- 13. A request we give up on is cancelled at the server ----------------------------


def test_a_rubric_given_up_on_is_closed_at_the_server(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    # A long read timeout: only our giving up may close it.
    client = make_client(
        rubric="model", rubric_timeout_seconds=0.3, upstream_read_timeout_seconds=30
    )
    upstream.script = Script(tokens=["Good."], completion=model_rubric(), completion_delay=10)
    began = time.monotonic()
    assert events(client, "/api/feedback", **BODY)[-1].json()["analysis"]["source"] == "rules"
    assert upstream.wait_for(lambda: upstream.cancelled_completions == 1, 3)
    assert time.monotonic() - began < 4  # not the server's 10 s


# --- 14. Junk from a small model is not a rubric ---------------------------------------


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        (BODY, model_rubric(verdict='}, "')),
        (BODY, model_rubric(verdict="I")),
        (BODY, model_rubric(verdict="true")),
        (BODY, model_rubric(verdict="x" * 300)),
        (KO_BODY, model_rubric(verdict="A good answer with a clear result.")),
        (
            BODY,
            model_rubric(
                score=1,
                star=dict.fromkeys(  # every part, a number and "I"
                    ("situation", "task", "action", "result"), True
                ),
            ),
        ),
        (
            BODY,
            model_rubric(
                score=5, star={"situation": True, "task": True, "action": False, "result": True}
            ),
        ),  # fmt: skip
    ],
)
def test_a_junk_rubric_gives_way_to_the_rules(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream, body: Any, reply: str
) -> None:
    client = make_client(rubric="model", rubric_timeout_seconds=2)
    upstream.script = Script(tokens=["Good."], completion=reply)
    assert events(client, "/api/feedback", **body)[-1].json()["analysis"]["source"] == "rules"


def test_the_schema_bounds_the_score() -> None:
    assert rubric.SCHEMA["properties"]["score"] == {"type": "integer", "minimum": 1, "maximum": 5}


def test_a_sound_korean_rubric_is_used(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    client = make_client(rubric="model", rubric_timeout_seconds=2)
    upstream.script = Script(tokens=["좋습니다."], completion=model_rubric(
        verdict="행동과 결과가 분명한 좋은 답변입니다.",
        evidence=dict.fromkeys(("situation", "task", "action", "result")),
    ))  # fmt: skip
    analysis = events(client, "/api/feedback", **KO_BODY)[-1].json()["analysis"]
    assert analysis["source"] == "model" and analysis["verdict"].startswith("행동과")
