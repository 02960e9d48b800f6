"""Shared fixtures: a real local upstream, settings that point at it, an app."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, sync_playwright

from interview_app import create_app
from interview_app.llm import OpenAIBackend
from interview_app.settings import Settings
from tests.fakes import FakeUpstream
from tests.redis_server import RedisServer

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


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[FakeUpstream]:
    server = FakeUpstream().start()
    yield server
    server.stop()


@pytest.fixture
def upstream(upstream_server: FakeUpstream) -> Iterator[FakeUpstream]:
    upstream_server.reset()
    yield upstream_server
    # Every test must leave no upstream stream open behind it.
    assert upstream_server.wait_for(lambda: upstream_server.open_streams == 0), (
        f"{upstream_server.open_streams} upstream streams left open"
    )


def relay_env(upstream: FakeUpstream, **extra: str) -> dict[str, str]:
    """Environment for the real server (gunicorn) relaying the fake upstream, limits off."""
    return {
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": upstream.url,
        "OPENAI_MODEL": "fake-model",
        "OPENAI_MAX_RETRIES": "0",
        "RATE_LIMIT_PER_MINUTE": "0",
        "MAX_STREAMS_PER_CLIENT": "0",
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
    )
    return replace(base, **overrides)


@pytest.fixture
def backend() -> Iterator[MakeBackend]:
    """Makes OpenAI backends against an upstream (`openai_settings`), closed afterwards."""
    made: list[OpenAIBackend] = []

    def make(upstream: FakeUpstream, **overrides: Any) -> OpenAIBackend:
        made.append(OpenAIBackend(openai_settings(upstream, **overrides)))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.fixture
def make_client(upstream: FakeUpstream) -> Iterator[Callable[..., FlaskClient]]:
    apps: list[Flask] = []

    def make(**overrides: Any) -> FlaskClient:
        app: Flask = create_app(openai_settings(upstream, **overrides))
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        app.extensions["interview_app.llm"].close()


@pytest.fixture
def client(make_client: Callable[..., FlaskClient]) -> FlaskClient:
    return make_client()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    if redis_server.process is None:  # a test stopped it; bring it back
        redis_server.start()
    redis_server.flush()
    yield redis_server.url
