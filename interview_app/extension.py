"""`Coach`: interview_app as a Flask extension, inside someone else's app.

    coach = Coach(app, url_prefix="/coach")      # or: Coach().init_app(app, ...)

It follows Flask's extension conventions: everything it builds lives in
`app.extensions["interview_app"]` (one typed `Services`; the one `Coach` object may
serve several apps), settings come from
the host's `app.config` (`INTERVIEW_APP_*` keys, each falling back to the
environment variable of the same name), and all it adds to requests hangs on its own
blueprint (`web/mount.py`), so the host's other routes keep their behaviour,
headers and error pages.

What it leaves to the host, because it belongs to the whole app: the proxy setup
(`ProxyFix`; `TRUSTED_PROXIES` is applied by `create_app` only), the JSON provider,
`MAX_CONTENT_LENGTH` (our bodies are read under our own limits anyway) and the
server (an async worker: see the README).
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import click
import redis
from flask import Flask, current_app
from flask.cli import with_appcontext

from interview_app.generations import Generations
from interview_app.history.db import make_engine, migrate, prepare, resolve
from interview_app.history.interviews import Interviews
from interview_app.history.repository import History
from interview_app.interviews.service import InterviewService
from interview_app.llm.offline import OfflineBackend
from interview_app.llm.openai_backend import OpenAIBackend
from interview_app.llm.port import LLM
from interview_app.settings import Settings, offline_speech_installed
from interview_app.speech import offload
from interview_app.speech.recognizers import ModelRecognizer, OfflineRecognizer, Recognizer
from interview_app.speech.voice import ModelVoice
from interview_app.streaming.forecast import Forecast
from interview_app.streaming.hub import Hub
from interview_app.streaming.lifecycle import Lifecycle
from interview_app.streaming.memory import MemoryStore
from interview_app.streaming.quotas import Quotas, descriptor_streams
from interview_app.streaming.redis_store import RedisStore
from interview_app.streaming.store import Store
from interview_app.web import identity, logs, mount
from interview_app.web.body import BodyReader
from interview_app.web.services import KEY, Services, services

log = logging.getLogger("interview_app")


def _backend(settings: Settings) -> LLM:
    if settings.llm_backend == "openai":
        return OpenAIBackend(settings)
    return OfflineBackend(settings.offline_tokens_per_second, settings.rubric)


def _hub(settings: Settings) -> Hub:
    """The hub monitor, running when this process serves under gevent (a gunicorn worker):
    elsewhere there is no shared event loop to be late."""
    hub = Hub(
        settings.hub_lag_bound_ms / 1000,
        settings.hub_gate_max_wait_seconds,
        settings.hub_openings_per_tick,
        Forecast(settings.hub_target_utilisation),
    )
    if offload.under_gevent():
        hub.start()
    return hub


def _recognizer(settings: Settings) -> Recognizer | None:
    offline = OfflineRecognizer() if offline_speech_installed() else None
    if settings.stt == "model":
        return ModelRecognizer(
            api_key=settings.stt_api_key,
            base_url=settings.stt_base_url,
            model=settings.stt_model,
            timeout=settings.transcription_timeout_seconds,
            fallback=offline,  # when the server turns out to have no transcription endpoint
        )
    return offline if settings.stt == "offline" else None


def _voice(settings: Settings) -> ModelVoice | None:
    if settings.tts != "model":
        return None
    return ModelVoice(
        api_key=settings.tts_api_key,
        base_url=settings.tts_base_url,
        model=settings.tts_model,
        voices={"en": settings.tts_voice_en, "ko": settings.tts_voice_ko},
        timeout=settings.upstream_read_timeout_seconds,
    )


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


@click.group("interview-app")
def _cli() -> None:
    """interview_app's commands."""


@_cli.command("migrate")
@with_appcontext
def _migrate_command() -> None:
    """Bring the practice-history database this app uses to the newest schema."""
    settings = services(current_app).settings
    url = resolve(settings.database_url, Path(current_app.instance_path))
    migrate(url)
    click.echo(f"migrated {url.split('@')[-1]}")


def _prefix(url_prefix: str) -> str:
    cleaned = url_prefix.strip().strip("/")
    return f"/{cleaned}" if cleaned else ""


class Coach:
    """The interview coach's API and page, registered in a Flask app under `url_prefix`."""

    def __init__(
        self,
        app: Flask | None = None,
        *,
        url_prefix: str = "",
        page: bool = True,
        settings: Settings | None = None,
        llm: LLM | None = None,
    ) -> None:
        self.url_prefix = url_prefix
        self.page = page
        self.settings = settings
        self.llm = llm
        if app is not None:
            self.init_app(app)

    def init_app(
        self,
        app: Flask,
        *,
        url_prefix: str | None = None,
        page: bool | None = None,
        settings: Settings | None = None,
        llm: LLM | None = None,
        whole_app: bool = False,
    ) -> None:
        """Build our services for `app` and register our blueprint in it.

        `page=False` registers the API alone. Every unknown URL under a prefix answers
        our JSON 404/405. `whole_app` (what `create_app` does) puts our request hooks
        on the whole app, which is then ours alone.
        """
        if KEY in app.extensions:
            raise RuntimeError("interview_app is already registered on this app")
        prefix = _prefix(self.url_prefix if url_prefix is None else url_prefix)
        with_page = self.page if page is None else page
        settings = settings or self.settings or Settings.from_config(app.config)
        llm = llm or self.llm or _backend(settings)
        logs.configure(settings.log_json, settings.log_level)  # before anything logs
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
        per_worker = min(settings.max_streams_per_worker, descriptor_streams())
        if per_worker < settings.max_streams_per_worker:
            log.warning(
                "streams per worker lowered by the open-files limit",
                extra={"max_streams_per_worker": per_worker},
            )
        quotas = Quotas(
            per_minute=settings.rate_limit_per_minute,
            per_client=settings.max_streams_per_client,
            per_worker=per_worker,
            redis_client=redis_client,
            redis_url=settings.redis_url,
            lease=settings.stream_lease_seconds,
        )
        opening = threading.BoundedSemaphore(settings.max_opening_streams)
        hub = _hub(settings)
        if isinstance(llm, OpenAIBackend):
            llm.wait_turn = hub.wait_turn  # its rubric requests wait for the gate too

        history = interviews = None
        if settings.history:
            url = resolve(settings.database_url, Path(app.instance_path))
            engine = make_engine(url)
            prepare(url, engine, auto_migrate=settings.database_auto_migrate)
            history = History(
                engine, settings.history_retention_days, settings.history_batch_ms / 1000
            )
        lifecycle = Lifecycle(quotas, settings.shutdown_drain_seconds)
        generations = Generations(
            llm, quotas, hub, opening, lifecycle, history, settings.sse_heartbeat_seconds
        )
        if history is not None:
            interviews = InterviewService(
                Interviews(engine),
                store,
                llm,
                generations,
                context_tokens=settings.interview_context_tokens,
            )
        app.extensions[KEY] = Services(
            url_prefix=prefix,
            page=with_page,
            settings=settings,
            llm=llm,
            redis=redis_client,
            store=store,
            quotas=quotas,
            lifecycle=lifecycle,
            opening=opening,
            hub=hub,
            generations=generations,
            body=BodyReader(
                settings.max_body_bytes,
                settings.body_timeout_seconds,
                settings.max_body_reads_per_client,
            ),
            # A host's own SECRET_KEY serves when ours is not set (the identity has its salt).
            secret=identity.secret_key(
                settings.secret_key or app.config.get("SECRET_KEY"), Path(app.instance_path)
            ),
            history=history,
            interviews=interviews,
            recognizer=_recognizer(settings),
            voice=_voice(settings),
            transcriptions=threading.BoundedSemaphore(settings.max_transcriptions),
        )
        app.cli.add_command(_cli)
        if whole_app:
            mount.hook(app, prefix, settings.cors_origins)
        app.register_blueprint(
            mount.blueprint(prefix, settings.cors_origins, page=with_page, hooked=whole_app)
        )
        _warn_if_sync_worker()
        log.info(
            "ready",
            extra={
                "backend": llm.name,
                "store": type(store).__name__,
                "url_prefix": prefix or "/",
                "trusted_proxies": settings.trusted_proxies,
                "trusted_proxies_from": settings.trusted_proxies_source,
            },
        )
