"""The OpenAI adapter through the real SDK and real HTTP against the local upstream."""

from __future__ import annotations

import socket

import pytest

from interview_app.coaching.request import CoachingRequest as Request
from interview_app.llm.port import StreamFailure, UpstreamError
from tests.helpers.env import API_KEY, MakeBackend
from tests.helpers.fakes import FakeUpstream, Script

REQ = Request("answer", "Why do you want this job?", None, "en", None)


TRICKY = ["줄\n바꿈", "\r\n", "data: [DONE]", "id: 9\n\n", "😀", " ", "event: done\r"]


def test_text_round_trips_byte_for_byte(upstream: FakeUpstream, backend: MakeBackend) -> None:
    upstream.script = Script(tokens=TRICKY)
    completion = backend(upstream).open(REQ)
    assert "".join(completion.texts()) == "".join(TRICKY)
    summary = completion.summary()
    assert summary["finish_reason"] == "stop"
    assert summary["usage"] == {"prompt_tokens": 10, "completion_tokens": 7, "total_tokens": 17}
    assert summary["backend"] == "openai" and summary["model"] == "fake-model"


def test_request_carries_model_key_and_stream_options(
    upstream: FakeUpstream, backend: MakeBackend
) -> None:
    upstream.script = Script(tokens=["x"])
    list(backend(upstream).open(REQ).texts())
    body = upstream.requests[-1]
    assert body["model"] == "fake-model" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert upstream.headers[-1]["authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize(
    ("status", "retry_after", "expected_status", "code", "expected_retry"),
    [
        (401, None, 502, "upstream_misconfigured", None),
        (403, None, 502, "upstream_misconfigured", None),
        (429, "7", 503, "upstream_busy", 7),
        (429, None, 503, "upstream_busy", 5),
        (503, "2", 503, "upstream_busy", 2),
        (500, None, 502, "upstream_error", None),
        (404, None, 502, "upstream_error", None),
    ],
)
def test_status_errors_map_to_our_statuses(
    upstream: FakeUpstream,
    status: int,
    retry_after: str | None,
    expected_status: int,
    code: str,
    expected_retry: int | None,
    backend: MakeBackend,
) -> None:
    upstream.script = Script(status=status, retry_after=retry_after)
    with pytest.raises(UpstreamError) as info:
        backend(upstream).open(REQ)
    assert (info.value.status, info.value.code) == (expected_status, code)
    assert info.value.retry_after == expected_retry
    assert API_KEY not in info.value.message


def test_unreachable_upstream_is_502(upstream: FakeUpstream, backend: MakeBackend) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connection refused
        with pytest.raises(UpstreamError) as info:
            backend(upstream, openai_base_url=f"http://127.0.0.1:{port}/v1").open(REQ)
    assert (info.value.status, info.value.code) == (502, "upstream_unreachable")


def test_slow_headers_are_504(upstream: FakeUpstream, backend: MakeBackend) -> None:
    upstream.script = Script(header_delay=1.0)
    with pytest.raises(UpstreamError) as info:
        backend(upstream, upstream_read_timeout_seconds=0.3).open(REQ)
    assert (info.value.status, info.value.code) == (504, "upstream_timeout")


def test_dropped_mid_stream_is_a_retryable_failure(
    upstream: FakeUpstream, backend: MakeBackend
) -> None:
    upstream.script = Script(tokens=["a"] * 5, drop_after=2, interval=0.01)
    completion = backend(upstream).open(REQ)
    got = []
    with pytest.raises(StreamFailure) as info:
        got.extend(completion.texts())
    assert "".join(got) == "aa"
    assert info.value.code == "upstream_disconnected" and info.value.retryable


def test_silence_past_read_timeout_fails(upstream: FakeUpstream, backend: MakeBackend) -> None:
    upstream.script = Script(tokens=["a"] * 5, silence_after=1)
    completion = backend(upstream, upstream_read_timeout_seconds=0.3).open(REQ)
    with pytest.raises(StreamFailure) as info:
        list(completion.texts())
    assert info.value.code == "upstream_timeout"
    completion.close()


def test_close_mid_stream_closes_the_upstream_connection(
    upstream: FakeUpstream, backend: MakeBackend
) -> None:
    upstream.script = Script(tokens=["a"] * 100, interval=0.05)
    completion = backend(upstream).open(REQ)
    iterator = completion.texts()
    next(iterator)
    assert upstream.open_streams == 1
    completion.close()
    assert upstream.wait_for(lambda: upstream.open_streams == 0, 2)
    assert upstream.client_disconnects == 1


def test_a_held_stream_kept_its_upstream_request_and_its_prompt_alive(
    upstream: FakeUpstream, backend: MakeBackend
) -> None:
    """The body reader kept the httpx request (headers, the whole prompt) for the life
    of the stream: about 5 KB of every held stream (docs/benchmarks-analysis.md)."""
    import gc

    import httpx2

    upstream.script = Script(tokens=["a"] * 100, interval=0.05)
    completion = backend(upstream).open(REQ)
    iterator = completion.texts()
    assert next(iterator) == "a"
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, httpx2.Request)]
    completion.close()


def test_a_bursts_first_request_failed_on_the_sdks_lazy_import_out_of_descriptors() -> None:
    """Regression: the SDK imported its resource modules at the first request, and when a
    burst had used up the worker's descriptors that import failed (a 500, EMFILE)."""
    import subprocess
    import sys

    from tests.helpers.server import ROOT

    probe = (
        "import sys\n"
        "from interview_app.llm.openai_backend import OpenAIBackend\n"
        "from interview_app.settings import Settings\n"
        "OpenAIBackend(Settings(openai_api_key='k', openai_base_url='http://127.0.0.1:9/v1'))\n"
        "print('openai.resources.chat' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True).stdout  # fmt: skip
    assert out.strip().splitlines()[-1] == "True"
