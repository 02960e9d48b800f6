"""interview_app: interview coaching streamed over Server-Sent Events."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import redis
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from interview_app.history.db import default_url, make_engine, normalize
from interview_app.history.interviews import Interviews
from interview_app.history.repository import History
from interview_app.llm.offline import OfflineBackend
from interview_app.llm.openai_backend import OpenAIBackend
from interview_app.llm.port import LLM
from interview_app.settings import Settings
from interview_app.streaming.lifecycle import Lifecycle
from interview_app.streaming.memory import MemoryStore
from interview_app.streaming.quotas import Quotas
from interview_app.streaming.redis_store import RedisStore
from interview_app.streaming.store import Store
from interview_app.web import errors, identity, logs, metrics, security
from interview_app.web.api import bp
from interview_app.web.body import BodyReader
from interview_app.web.history import history_bp
from interview_app.web.interviews import interviews_bp
from interview_app.web.page import page

log = logging.getLogger(__name__)


def _backend(settings: Settings) -> LLM:
    if settings.llm_backend == "openai":
        return OpenAIBackend(settings)
    return OfflineBackend(settings.offline_tokens_per_second, settings.rubric)


def _redis(settings: Settings) -> redis.Redis | None:
    if not settings.redis_url:
        return None
    # Connects lazily: a Redis that is down at start-up fails requests clearly
    # (503) instead of the worker, and the pool reconnects when Redis returns.
    return redis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=2,
        socket_timeout=10,  # longer than the longest XREAD block (5 s)
        health_check_interval=15,
        max_connections=settings.upstream_pool_size + 100,
    )


def _warn_if_sync_worker() -> None:
    """SSE needs an async worker: under gunicorn's sync or gthread workers each stream
    holds a whole worker (or thread) for its whole life. Say so once, at start."""
    if "gunicorn.workers.base" not in sys.modules:
        return
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        patched = False
    else:
        patched = monkey.is_module_patched("socket")
    if not patched:
        log.warning(
            "running under a gunicorn worker that is not gevent: every open stream holds a "
            "whole worker. Run `gunicorn -k gevent` (or this project's gunicorn.conf.py); a "
            "host app must let gevent patch the standard library before anything imports ssl."
        )


def create_app(settings: Settings | None = None, *, llm: LLM | None = None) -> Flask:
    """Build the app from `settings` (default: the environment) and an optional LLM."""
    settings = settings or Settings.from_env()
    # The package's static/ and templates/ sit beside this file, as Flask expects.
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if settings.trusted_proxies:
        # X-Forwarded-Proto too: the identity cookie is `Secure` when the router got HTTPS.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    redis_client = _redis(settings)
    store: Store = (
        RedisStore(
            redis_client,
            settings.stream_ttl_seconds,
            settings.stream_grace_seconds,
            settings.stream_lease_seconds,
        )
        if redis_client is not None
        else MemoryStore(settings.stream_ttl_seconds, settings.stream_grace_seconds)
    )
    quotas = Quotas(
        per_minute=settings.rate_limit_per_minute,
        per_client=settings.max_streams_per_client,
        per_worker=settings.max_streams_per_worker,
        redis_client=redis_client,
        redis_url=settings.redis_url,
        lease=settings.stream_lease_seconds,
    )
    app.extensions.update(
        {
            "interview_app.settings": settings,
            "interview_app.llm": llm or _backend(settings),
            "interview_app.redis": redis_client,
            "interview_app.store": store,
            "interview_app.quotas": quotas,
            "interview_app.lifecycle": Lifecycle(quotas, settings.shutdown_drain_seconds),
            "interview_app.opening": threading.BoundedSemaphore(settings.max_opening_streams),
            "interview_app.body": BodyReader(
                settings.max_body_bytes,
                settings.body_timeout_seconds,
                settings.max_body_reads_per_client,
            ),
        }
    )
    app.extensions["interview_app.secret"] = identity.secret_key(
        settings.secret_key, Path(app.instance_path)
    )
    if settings.history:
        url = settings.database_url
        engine = make_engine(normalize(url) if url else default_url(Path(app.instance_path)))
        app.extensions["interview_app.history"] = History(engine, settings.history_retention_days)
        app.extensions["interview_app.interviews"] = Interviews(engine)
    logs.configure(settings.log_json, settings.log_level)
    logs.init_app(app)
    security.init_app(app, settings.cors_origins)
    identity.init_app(app)
    errors.register(app)
    app.register_blueprint(bp)
    app.register_blueprint(page)
    app.register_blueprint(history_bp)
    app.register_blueprint(interviews_bp)
    app.register_blueprint(metrics.bp)
    _warn_if_sync_worker()
    log.info(
        "ready",
        extra={
            "backend": app.extensions["interview_app.llm"].name,
            "store": type(store).__name__,
            "trusted_proxies": settings.trusted_proxies,
            "trusted_proxies_from": settings.trusted_proxies_source,
        },
    )
    return app
