"""Server-Sent Events framing (WHATWG HTML, "Server-sent events"), pure and table-tested.

Rules that shape this module:
- A field line ends at LF, CR or CRLF, so a value holding any of them must be
  split into several `data:` lines; `str.splitlines()` is wrong here because it
  also splits on U+2028 and friends, which SSE treats as ordinary text.
- `event` and `id` are single-line fields: a line break in them would start a new
  field, so they are refused. An `id` holding NUL is ignored by browsers.
- A comment line starts with `:` and is ignored by clients; we use it for
  heartbeats because an empty write is dropped by the servers.
The app only ever sends JSON in `data`, which has no raw line breaks, but the
encoder stays correct for any text. Every frame the app writes is made here:
`encode` for any message, and three fast paths for the shapes the relay writes
per token or per stream (`text_event`, `json_event`/`frame`, `retry`).
"""

from __future__ import annotations

import re

import orjson

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

PING = b": ping\n\n"


def encode(
    data: str | None = None,
    *,
    event: str | None = None,
    id: int | str | None = None,
    retry: int | None = None,
    comment: str | None = None,
) -> bytes:
    """Encode one SSE message as UTF-8 bytes ending in a blank line."""
    lines: list[str] = []
    if comment is not None:
        lines.extend(":" + (" " + part if part else "") for part in _LINE_BREAK.split(comment))
    if id is not None:
        ident = str(id)
        if _LINE_BREAK.search(ident) or "\0" in ident:
            raise ValueError("an SSE id cannot hold a line break or NUL")
        lines.append(f"id: {ident}")
    if event is not None:
        if _LINE_BREAK.search(event):
            raise ValueError("an SSE event name cannot hold a line break")
        lines.append(f"event: {event}")
    if retry is not None:
        if retry < 0:
            raise ValueError("retry must be >= 0")
        lines.append(f"retry: {int(retry)}")
    if data is not None:
        lines.extend("data: " + part for part in _LINE_BREAK.split(data))
    return ("\n".join(lines) + "\n\n").encode()


def frame(data: bytes, *, event: str | bytes | None = None, id: int | None = None) -> bytes:
    """A message whose `data` is one line of JSON already encoded (no line breaks)."""
    head = b""
    if id is not None:
        head = b"id: %d\n" % id
    if event:
        head += b"event: " + (event.encode() if isinstance(event, str) else event) + b"\n"
    return head + b"data: " + data + b"\n\n"


def json_event(payload: object, *, event: str | None = None, id: int | None = None) -> bytes:
    """Encode `payload` as one JSON `data:` line: the hot path, so it skips `encode`."""
    # orjson escapes CR and LF inside strings, so the JSON is always one line.
    return frame(orjson.dumps(payload), event=event, id=id)


def retry(ms: int) -> bytes:
    """The `retry:` field alone: the reconnect delay, sent first on every stream."""
    return b"retry: %d\n\n" % ms


def text_event(text: str, id: int) -> bytes:
    """The frame for one text delta: `id: N` and `data: {"text": ...}`."""
    return b'id: %d\ndata: {"text":%b}\n\n' % (id, orjson.dumps(text))
