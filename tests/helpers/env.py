"""Settings and environments that point the app at the local upstream, and the browser's flags."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from interview_app.llm.openai_backend import OpenAIBackend
from interview_app.settings import Settings
from tests.helpers.fakes import FakeUpstream

API_KEY = "sk-test-DO-NOT-LEAK-4242"
MakeBackend = Callable[..., OpenAIBackend]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def relay_env(upstream: FakeUpstream, **extra: str) -> dict[str, str]:
    """Environment for the real server (gunicorn) relaying the fake upstream, limits off."""
    return {
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": upstream.url,
        "OPENAI_MODEL": "fake-model",
        "OPENAI_MAX_RETRIES": "0",
        "RATE_LIMIT_PER_MINUTE": "0",
        "MAX_STREAMS_PER_CLIENT": "0",
        # One upstream request per stream unless a test asks for the model's rubric.
        "RUBRIC": "rules",
        # History tests turn it on with a database of their own.
        "HISTORY": "off",
        **extra,
    }


def openai_settings(upstream: FakeUpstream, **overrides: Any) -> Settings:
    """Settings for the openai backend against the fake upstream, fast timeouts."""
    base = Settings(
        openai_api_key=API_KEY,
        openai_base_url=upstream.url,
        openai_model="fake-model",
        openai_max_retries=0,
        llm_backend="openai",
        sse_heartbeat_seconds=0.2,
        upstream_read_timeout_seconds=2.0,
        upstream_connect_timeout_seconds=2.0,
        stream_grace_seconds=1.0,
        log_json=False,
        rate_limit_per_minute=0,
        max_streams_per_client=0,
        history=False,
    )
    return replace(base, **overrides)
