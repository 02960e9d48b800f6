"""interview_app: interview coaching streamed over Server-Sent Events."""

from __future__ import annotations

import logging

from flask import Flask

from interview_app import errors
from interview_app.api import Gauge, bp
from interview_app.llm import LLM, OpenAIBackend
from interview_app.offline import OfflineBackend
from interview_app.page import page
from interview_app.settings import Settings
from interview_app.streams import MemoryStore

log = logging.getLogger(__name__)


def _backend(settings: Settings) -> LLM:
    if settings.llm_backend == "openai":
        return OpenAIBackend(settings)
    return OfflineBackend(settings.offline_tokens_per_second)


def create_app(settings: Settings | None = None, *, llm: LLM | None = None) -> Flask:
    """Build the app from `settings` (default: the environment) and an optional LLM."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["interview_app.settings"] = settings
    app.extensions["interview_app.llm"] = llm or _backend(settings)
    app.extensions["interview_app.store"] = MemoryStore(
        settings.stream_ttl_seconds, settings.stream_grace_seconds
    )
    app.extensions["interview_app.gauge"] = Gauge(settings.max_streams_per_worker)
    errors.register(app)
    app.register_blueprint(bp)
    app.register_blueprint(page)
    log.info("interview_app ready: backend=%s", app.extensions["interview_app.llm"].name)
    return app
