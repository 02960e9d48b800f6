"""Everything one app's routes use, built once by `Coach.init_app`, in one typed object.

It lives in `app.extensions["interview_app"]` (Flask's convention for an
extension's state), and `services()` is the one way to read it: no string keys
and casts scattered over the blueprints.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import redis
from flask import Flask, current_app

from interview_app.generations import Generations
from interview_app.history.repository import History
from interview_app.interviews.service import InterviewService
from interview_app.llm.port import LLM
from interview_app.problems import HISTORY_OFF, Refused
from interview_app.settings import Settings
from interview_app.speech.recognizers import Recognizer
from interview_app.speech.voice import ModelVoice
from interview_app.streaming.hub import Hub
from interview_app.streaming.lifecycle import Lifecycle
from interview_app.streaming.quotas import Quotas
from interview_app.streaming.store import Store
from interview_app.web.body import BodyReader

KEY = "interview_app"


@dataclass(frozen=True)
class Services:
    """One app's interview_app: where it is mounted and the services it runs."""

    url_prefix: str
    page: bool
    settings: Settings
    llm: LLM
    redis: redis.Redis | None
    store: Store
    quotas: Quotas
    lifecycle: Lifecycle
    opening: threading.BoundedSemaphore  # upstream requests being opened at once
    hub: Hub  # the event loop's lag, and the gate that opens streams only while on time
    generations: Generations  # how every generation opens and is kept
    body: BodyReader
    secret: str | bytes  # signs the identity cookie
    history: History | None  # None: history is off
    interviews: InterviewService | None  # None: history is off (interviews live there)
    recognizer: Recognizer | None  # None: STT=off
    voice: ModelVoice | None  # None: TTS is the browser's, or off
    transcriptions: threading.BoundedSemaphore  # MAX_TRANSCRIPTIONS at once per worker
    # Live transcriptions of this worker, by id: their audio inboxes (without Redis).
    live: dict[str, Any] = field(default_factory=dict)

    def history_or_off(self) -> History:
        """The history, or 404 `history_off` without a database."""
        if self.history is None:
            raise Refused(HISTORY_OFF)
        return self.history

    def interviews_or_off(self) -> InterviewService:
        """The interviews, or 404 `history_off` without a database."""
        if self.interviews is None:
            raise Refused(HISTORY_OFF)
        return self.interviews


def services(app: Flask | None = None) -> Services:
    """This app's services (the current app's by default)."""
    found: Services = (app or current_app).extensions[KEY]
    return found
