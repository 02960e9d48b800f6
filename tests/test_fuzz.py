"""Property-based fuzz of every endpoint: never a 5xx, never a hang, one error shape."""

from __future__ import annotations

import json
import tempfile
from typing import Any
from urllib.parse import quote

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interview_app import create_app
from interview_app.settings import Settings

APP = create_app(
    Settings(
        offline_tokens_per_second=0,
        rate_limit_per_minute=0,
        max_streams_per_client=0,
        log_json=False,
        history=False,
    )
)

PATHS = [
    "/",
    "/healthz",
    "/metrics",
    "/api/answer",
    "/api/feedback",
    "/api/streams",
    "/api/questions",
    "/vendor/purify.min.js",
    "/static/js/main.js",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["answer", "feedback", "x", ""]) | json_values,
        "question": st.text(max_size=1100) | json_values,
        "answer": st.text(max_size=200) | json_values,
        "language": st.sampled_from(["ko", "en", "fr", ""]) | json_values,
        "role": st.text(max_size=300) | json_values,
    },
)
bodies = (
    fields.map(lambda d: json.dumps(d).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=300)
    | st.text(max_size=200).map(str.encode)
)
content_types = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/vnd.api+json",
    ]
)
paths = st.sampled_from(PATHS) | st.text(
    alphabet=st.characters(codec="ascii", exclude_characters="?#"), max_size=40
).map(lambda s: "/api/streams/" + s)
methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
last_ids = st.none() | st.sampled_from(["0", "1", "-1", "abc", "99999999999999999999", ""])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=methods, path=paths, body=bodies, content_type=content_types, last_id=last_ids)
def test_any_request_gets_a_proper_answer(
    method: str, path: str, body: bytes, content_type: str | None, last_id: str | None
) -> None:
    client: FlaskClient = APP.test_client()
    headers: dict[str, Any] = {}
    if content_type:
        headers["Content-Type"] = content_type
    if last_id is not None:
        headers["Last-Event-ID"] = last_id
    response = client.open(path, method=method, data=body, headers=headers)
    data = response.get_data()  # the offline backend at full speed: a stream ends at once
    response.close()
    assert response.status_code < 500, (response.status_code, data[:300])
    if response.status_code >= 400 and method != "HEAD":
        payload = json.loads(data)
        assert set(payload) == {"error"}
        assert set(payload["error"]) == {"code", "message"}
        assert isinstance(payload["error"]["code"], str) and payload["error"]["message"]
    if response.mimetype == "text/event-stream" and method != "HEAD":
        events = [e for e in data.split(b"\n\n") if e.startswith((b"id:", b"event:"))]
        terminal = [e for e in events if b"event: done" in e or b"event: error" in e]
        assert len(terminal) == 1


# --- With history on: the history and interview APIs, queries and setups ---------------
# Removed when the interpreter exits (TemporaryDirectory's finalizer).
_FOLDER = tempfile.TemporaryDirectory(prefix="fuzz-")
HISTORY_APP = create_app(
    Settings(
        offline_tokens_per_second=0,
        rate_limit_per_minute=0,
        max_streams_per_client=0,
        log_json=False,
        database_url=f"sqlite:///{_FOLDER.name}/fuzz.db",
        secret_key="fuzz",
    )
)
digits = st.text(alphabet=st.characters(categories=["Nd", "No"]), max_size=4)
query_values = digits | st.text(max_size=6) | st.sampled_from(["²", "١٢", "0", "101", "-1"])
setups = st.fixed_dictionaries(
    {},
    optional={
        "language": st.sampled_from(["ko", "en"]) | json_values,
        "categories": st.lists(json_values, max_size=3) | json_values,
        "questions": json_values,
        "answer_seconds": json_values,
        "follow_ups": json_values,
        "role": json_values,
        "job_posting": json_values,
        "resume": json_values,
        "focus": json_values,
    },
)
answers = st.fixed_dictionaries(
    {}, optional={"answer": json_values, "turn": json_values, "seconds": json_values}
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(limit=query_values, before=query_values, form=query_values, setup=setups, reply=answers)
def test_history_and_interviews_never_answer_5xx(
    limit: str, before: str, form: str, setup: dict[str, Any], reply: dict[str, Any]
) -> None:
    client: FlaskClient = HISTORY_APP.test_client()
    for url in (
        f"/api/attempts?limit={quote(limit)}&before={quote(before)}",
        f"/api/attempts/export?format={quote(form)}",
        f"/api/attempts/{quote(before) or 'x'}",
    ):
        response = client.get(url)
        assert response.status_code < 500, (url, response.get_data()[:300])
    created = client.post("/api/interviews", json=setup)
    assert created.status_code < 500, (setup, created.get_data()[:300])
    if created.status_code == 201:
        url = created.get_json()["url"]
        answered = client.post(f"{url}/answers", json=reply)
        assert answered.status_code < 500, (reply, answered.get_data()[:300])
        assert client.delete(url).status_code == 204
