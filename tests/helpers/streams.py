"""Stored-stream helpers over Flask's test client: create a stream, read part of it."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.helpers import sse_client

BODY = {"kind": "feedback", "question": "Why you?", "answer": "Because I care."}


def create(client: FlaskClient, body: dict[str, object] = BODY) -> str:
    response = client.post("/api/streams", json=body)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert response.headers["Location"] == data["url"] == f"/api/streams/{data['id']}"
    return str(data["url"])


def read_some(client: FlaskClient, url: str, events: int) -> bytes:
    """Read until `events` events arrived, then drop the connection."""
    response = client.get(url, buffered=False)
    seen = b""
    while len(sse_client.messages(seen)) < events:
        seen += next(response.response)
    response.close()
    return seen
