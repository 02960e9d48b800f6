"""Shared fixtures: a real local upstream, an app pointed at it, Redis, a browser."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from interview_app import create_app
from interview_app.llm.openai_backend import OpenAIBackend
from tests.helpers.env import ARGS, CHROMIUM, MakeBackend, openai_settings
from tests.helpers.fakes import FakeUpstream
from tests.helpers.logs import Records
from tests.helpers.postgres import PostgresServer
from tests.helpers.redis_server import RedisServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # Imported here: only the tests that drive a browser need Playwright.
    from playwright.sync_api import sync_playwright

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
        app.extensions["interview_app"].llm.close()
        history = app.extensions["interview_app"].history
        if history is not None:
            history.engine.dispose()


@pytest.fixture
def client(make_client: Callable[..., FlaskClient]) -> FlaskClient:
    return make_client()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    if redis_server.process is None:  # a test stopped it; bring it back
        redis_server.start()
    redis_server.flush()
    yield redis_server.url


@pytest.fixture
def app_logs() -> Iterator[Records]:
    """The app's own log records (its logger does not propagate, so `caplog` misses them)."""
    handler = Records()
    logger = logging.getLogger("interview_app")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.cleanup()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A fresh, migrated database: a SQLite file, or one on the real PostgreSQL server."""
    from interview_app.history.db import migrate, normalize

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'history.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        url = server.create_database(f"t_{abs(hash(request.node.nodeid)) % 10**12}")
    migrate(normalize(url))
    return url
