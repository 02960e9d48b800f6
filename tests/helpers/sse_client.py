"""A strict SSE parser for tests, following the WHATWG event-stream rules."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_LINE = re.compile(r"\r\n|\r|\n")


@dataclass
class Event:
    """One dispatched event, or a comment / retry-only block (`kind`)."""

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None
    comments: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.data)


def parse(raw: bytes | str) -> list[Event]:
    """Every block of the stream, in order (comment-only blocks included)."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    events: list[Event] = []
    current = Event()
    data: list[str] = []
    touched = False
    for line in _LINE.split(text):
        if line == "":
            if touched:
                current.data = "\n".join(data)
                events.append(current)
            current, data, touched = Event(), [], False
            continue
        touched = True
        if line.startswith(":"):
            current.comments.append(line[1:].lstrip(" "))
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            current.event = value
        elif name == "id":
            current.id = value
        elif name == "retry":
            current.retry = int(value)
        else:
            raise AssertionError(f"unknown field line {line!r}")
    return events


def messages(raw: bytes | str) -> list[Event]:
    """Only the events that carry data (what EventSource would dispatch)."""
    return [e for e in parse(raw) if e.data or e.event != "message"]


def text_of(raw: bytes | str) -> str:
    """The concatenated `text` of every message event."""
    return "".join(e.json()["text"] for e in messages(raw) if e.event == "message")
