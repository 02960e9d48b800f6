"""One way to open a generation (`interview_app/generations.py`): the candidate's streams
and the interviewer's are admitted by the same rules, on a real database."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from interview_app import create_app
from interview_app.history.db import migrate
from interview_app.settings import Settings
from interview_app.web.services import services


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    migrate(url)
    made = create_app(Settings(offline_tokens_per_second=0, rate_limit_per_minute=0,
                               max_streams_per_client=0, log_json=False, database_url=url,
                               secret_key="generations", max_opening_streams=1))  # fmt: skip
    yield made
    history = services(made).history
    assert history is not None
    history.engine.dispose()


def test_an_interview_began_while_the_worker_was_stopping(app: Flask) -> None:
    """The interview took its ticket from the quotas itself and skipped the check every
    other stream made: a worker draining for a restart began new interviews."""
    services(app).lifecycle.stopping.set()
    for path, body in (("/api/interviews", {"language": "en"}),
                       ("/api/answer", {"question": "Why this role?"})):  # fmt: skip
        refused = app.test_client().post(path, json=body)
        assert refused.status_code == 503, path
        assert refused.get_json()["error"]["code"] == "server_restarting"


def test_the_interviewers_question_waits_for_a_place_among_the_openings(app: Flask) -> None:
    """MAX_OPENING_STREAMS=1 and its one place taken: the interviewer's first question
    waits for it as a candidate's stream does, then opens."""
    found = services(app)
    assert found.generations.opening is found.opening
    found.opening.acquire()
    answered: list[int] = []
    began = threading.Thread(
        target=lambda: answered.append(
            app.test_client().post("/api/interviews", json={"language": "en"}).status_code
        )
    )
    began.start()
    began.join(1.0)
    assert began.is_alive() and not answered  # waiting for the opening place
    found.opening.release()
    began.join(10)
    assert answered == [201]
