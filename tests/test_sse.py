from __future__ import annotations

import pytest

from interview_app.streaming import sse
from tests.helpers import sse_client

ENCODE_CASES = [
    ({"data": "hello"}, b"data: hello\n\n"),
    ({"data": ""}, b"data: \n\n"),
    ({"data": "a\nb"}, b"data: a\ndata: b\n\n"),
    ({"data": "a\r\nb"}, b"data: a\ndata: b\n\n"),
    ({"data": "a\rb"}, b"data: a\ndata: b\n\n"),
    ({"data": "a\n"}, b"data: a\ndata: \n\n"),
    ({"data": "a\u2028b"}, "data: a\u2028b\n\n".encode()),
    ({"data": "data: x"}, b"data: data: x\n\n"),
    ({"data": "x", "event": "done"}, b"event: done\ndata: x\n\n"),
    ({"data": "x", "id": 7}, b"id: 7\ndata: x\n\n"),
    ({"retry": 3000}, b"retry: 3000\n\n"),
    ({"comment": "ping"}, b": ping\n\n"),
    ({"comment": "a\nb"}, b": a\n: b\n\n"),
    ({"data": "안녕 😀", "id": 1, "event": "e"}, "id: 1\nevent: e\ndata: 안녕 😀\n\n".encode()),
]


@pytest.mark.parametrize(("kwargs", "expected"), ENCODE_CASES)
def test_encode(kwargs: dict[str, object], expected: bytes) -> None:
    assert sse.encode(**kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs", [{"id": "a\nb"}, {"id": "a\0"}, {"event": "x\ry"}, {"retry": -1}]
)
def test_encode_refuses_fields_that_would_break_the_frame(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        sse.encode(data="x", **kwargs)  # type: ignore[arg-type]


TEXT_CASES = [
    ("plain", b'id: 1\ndata: {"text":"plain"}\n\n'),
    ("line\nbreak", b'id: 1\ndata: {"text":"line\\nbreak"}\n\n'),
    ("cr\rlf\r\n", b'id: 1\ndata: {"text":"cr\\rlf\\r\\n"}\n\n'),
    ("한국어", 'id: 1\ndata: {"text":"한국어"}\n\n'.encode()),
    ('"quoted"', b'id: 1\ndata: {"text":"\\"quoted\\""}\n\n'),
]


@pytest.mark.parametrize(("text", "expected"), TEXT_CASES)
def test_text_event_exact_bytes(text: str, expected: bytes) -> None:
    assert sse.text_event(text, 1) == expected


ROUND_TRIP = [
    "",
    "\n",
    "\r\n\r\n",
    "\r",
    "data: injected\n\nid: 99\n\nevent: done\n",
    ": not a comment",
    "retry: 1",
    "면접 답변 😀 \u2028 \u2029 \x85 \x00",
    "trailing newline\n",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_text_event_round_trips_through_a_parser(text: str) -> None:
    events = sse_client.parse(sse.text_event(text, 3))
    assert len(events) == 1
    assert events[0].id == "3"
    assert events[0].json() == {"text": text}


def test_json_event_with_event_and_id() -> None:
    frame = sse.json_event({"finish_reason": "stop"}, event="done", id=12)
    assert frame == b'id: 12\nevent: done\ndata: {"finish_reason":"stop"}\n\n'


def test_ping_is_a_comment() -> None:
    (event,) = sse_client.parse(sse.PING)
    assert event.comments == ["ping"] and event.data == ""
