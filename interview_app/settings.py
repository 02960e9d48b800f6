"""Typed settings, parsed once from an injectable mapping (the environment by default).

Every setting is listed, with its default, in `.env.example` and the README.
A bad value fails at start-up with a message naming the variable, never later.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


class SettingsError(ValueError):
    """A setting has a value we cannot use."""


CONFIG_PREFIX = "INTERVIEW_APP_"
_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0) -> float:
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not value >= minimum:
        raise SettingsError(f"{name} must be >= {minimum:g}, got {raw!r}")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be >= {minimum}, got {raw!r}")
    return value


def _boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _text(env, name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise SettingsError(f"{name} must be one of true/false/1/0/yes/no/on/off, got {raw!r}")


def body_limit(*char_limits: int) -> int:
    """The largest body that valid input can make: every field at its limit, JSON-escaped.

    The worst case is a character outside the BMP, escaped as a surrogate pair
    (`\\ud83d\\ude00`, 12 bytes for one character), plus room for the keys.
    """
    return 12 * sum(char_limits) + 2048


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment."""

    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_max_retries: int = 2
    llm_backend: str = "offline"
    sse_heartbeat_seconds: float = 15.0
    sse_retry_ms: int = 3000
    upstream_read_timeout_seconds: float = 60.0
    upstream_connect_timeout_seconds: float = 10.0
    # Under Heroku's 30 s first-byte limit, retries included.
    upstream_first_byte_seconds: float = 25.0
    upstream_max_line_bytes: int = 1 << 20
    max_tokens_answer: int = 800
    max_tokens_feedback: int = 1200
    rubric: str = "rules"
    rubric_timeout_seconds: float = 5.0
    rubric_max_tokens: int = 600
    upstream_pool_size: int = 2000
    max_question_chars: int = 1000
    max_answer_chars: int = 10_000
    max_role_chars: int = 200
    max_posting_chars: int = 20_000
    max_resume_chars: int = 20_000
    interview_context_tokens: int = 6000
    # Unset: derived from the character limits (`body_limit`), so valid input always fits.
    max_body_bytes: int = 0
    body_timeout_seconds: float = 10.0
    max_body_reads_per_client: int = 4
    offline_tokens_per_second: float = 40.0
    stream_ttl_seconds: float = 600.0
    stream_grace_seconds: float = 30.0
    stream_lease_seconds: float = 10.0
    redis_url: str | None = field(default=None, repr=False)
    rate_limit_per_minute: int = 20
    max_streams_per_client: int = 3
    max_streams_per_worker: int = 1800
    max_opening_streams: int = 1000
    trusted_proxies: int = 0
    # Why trusted_proxies has its value, for the start-up log line.
    trusted_proxies_source: str = "default"
    shutdown_drain_seconds: float = 10.0
    cors_origins: tuple[str, ...] = ()
    log_json: bool = True
    database_url: str | None = field(default=None, repr=False)
    history: bool = True
    history_retention_days: int = 90
    secret_key: str | None = field(default=None, repr=False)
    metrics_token: str | None = field(default=None, repr=False)
    log_level: str = "info".upper()

    def __post_init__(self) -> None:
        if not self.max_body_bytes:
            limit = body_limit(self.max_question_chars, self.max_answer_chars, self.max_role_chars)
            object.__setattr__(self, "max_body_bytes", limit)

    @property
    def interview_body_bytes(self) -> int:
        """The body limit of `POST /api/interviews`: its own fields at their limits."""
        return body_limit(self.max_role_chars, self.max_posting_chars, self.max_resume_chars, 1000)

    @classmethod
    def from_config(
        cls, config: Mapping[str, object], environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Parse settings for an app we are embedded in: its `INTERVIEW_APP_*` config keys
        (`INTERVIEW_APP_OPENAI_API_KEY`...), each falling back to the environment variable
        of the same name without the prefix."""
        env = dict(os.environ if environ is None else environ)
        for key, value in config.items():
            if key.startswith(CONFIG_PREFIX) and value is not None:
                text = str(value).lower() if isinstance(value, bool) else str(value)
                env[key.removeprefix(CONFIG_PREFIX)] = text
        return cls.from_env(env)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Parse settings from `environ` (default: `os.environ`)."""
        env = os.environ if environ is None else environ
        key = _text(env, "OPENAI_API_KEY")
        backend = (_text(env, "LLM_BACKEND") or ("openai" if key else "offline")).lower()
        if backend not in ("openai", "offline"):
            raise SettingsError(f"LLM_BACKEND must be 'openai' or 'offline', got {backend!r}")
        base_url = _text(env, "OPENAI_BASE_URL")
        if backend == "openai" and key is None and base_url is None:
            raise SettingsError(
                "LLM_BACKEND=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)"
            )
        log_level = (_text(env, "LOG_LEVEL") or "info").lower()
        if log_level not in _LOG_LEVELS:
            raise SettingsError(
                f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {log_level!r}"
            )
        # On Heroku (which sets DYNO) every request comes through its router: trusting
        # no proxy would put every candidate behind one address and one quota.
        if _text(env, "TRUSTED_PROXIES") is not None:
            proxies, proxies_source = _integer(env, "TRUSTED_PROXIES", 0), "TRUSTED_PROXIES"
        elif _text(env, "DYNO") is not None:
            proxies, proxies_source = 1, "DYNO is set (Heroku's router)"
        else:
            proxies, proxies_source = 0, "default"
        rubric = (_text(env, "RUBRIC") or ("model" if backend == "openai" else "rules")).lower()
        if rubric not in ("model", "rules", "off"):
            raise SettingsError(f"RUBRIC must be 'model', 'rules' or 'off', got {rubric!r}")
        if rubric == "model" and backend != "openai":
            raise SettingsError("RUBRIC=model needs a model: set OPENAI_API_KEY or OPENAI_BASE_URL")
        secret_key = _text(env, "SECRET_KEY")
        if secret_key is None and _text(env, "DYNO") is not None:
            # A generated key lives in the instance folder, which a dyno loses on restart:
            # every candidate's history would vanish with it.
            raise SettingsError(
                "SECRET_KEY is required on Heroku (DYNO is set): it signs the practice-history "
                "cookie. Set it to a long random value (heroku config:set SECRET_KEY=...)."
            )
        origins = tuple(o.strip() for o in (env.get("CORS_ORIGINS") or "").split(",") if o.strip())
        return cls(
            openai_api_key=key,
            openai_base_url=base_url,
            openai_model=_text(env, "OPENAI_MODEL") or cls.openai_model,
            openai_max_retries=_integer(env, "OPENAI_MAX_RETRIES", cls.openai_max_retries),
            llm_backend=backend,
            sse_heartbeat_seconds=_number(
                env, "SSE_HEARTBEAT_SECONDS", cls.sse_heartbeat_seconds, minimum=0.01
            ),
            sse_retry_ms=_integer(env, "SSE_RETRY_MS", cls.sse_retry_ms),
            upstream_read_timeout_seconds=_number(
                env,
                "UPSTREAM_READ_TIMEOUT_SECONDS",
                cls.upstream_read_timeout_seconds,
                minimum=0.01,
            ),
            upstream_connect_timeout_seconds=_number(
                env,
                "UPSTREAM_CONNECT_TIMEOUT_SECONDS",
                cls.upstream_connect_timeout_seconds,
                minimum=0.01,
            ),
            upstream_first_byte_seconds=_number(
                env,
                "UPSTREAM_FIRST_BYTE_SECONDS",
                cls.upstream_first_byte_seconds,
                minimum=0.01,
            ),
            upstream_max_line_bytes=_integer(
                env, "UPSTREAM_MAX_LINE_BYTES", cls.upstream_max_line_bytes, minimum=1024
            ),
            rubric=rubric,
            rubric_timeout_seconds=_number(
                env, "RUBRIC_TIMEOUT_SECONDS", cls.rubric_timeout_seconds
            ),
            rubric_max_tokens=_integer(env, "RUBRIC_MAX_TOKENS", cls.rubric_max_tokens, minimum=1),
            max_tokens_answer=_integer(env, "MAX_TOKENS_ANSWER", cls.max_tokens_answer, minimum=1),
            max_tokens_feedback=_integer(
                env, "MAX_TOKENS_FEEDBACK", cls.max_tokens_feedback, minimum=1
            ),
            upstream_pool_size=_integer(
                env,
                "UPSTREAM_POOL_SIZE",
                _integer(env, "WORKER_CONNECTIONS", cls.upstream_pool_size, minimum=1),
                minimum=1,
            ),
            max_question_chars=_integer(
                env, "MAX_QUESTION_CHARS", cls.max_question_chars, minimum=1
            ),
            max_answer_chars=_integer(env, "MAX_ANSWER_CHARS", cls.max_answer_chars, minimum=1),
            max_role_chars=_integer(env, "MAX_ROLE_CHARS", cls.max_role_chars, minimum=1),
            max_posting_chars=_integer(env, "MAX_POSTING_CHARS", cls.max_posting_chars, minimum=1),
            max_resume_chars=_integer(env, "MAX_RESUME_CHARS", cls.max_resume_chars, minimum=1),
            interview_context_tokens=_integer(
                env, "INTERVIEW_CONTEXT_TOKENS", cls.interview_context_tokens, minimum=500
            ),
            # Unset: 0, derived from the character limits in __post_init__.
            max_body_bytes=_integer(env, "MAX_BODY_BYTES", 0)
            and _integer(env, "MAX_BODY_BYTES", 0, minimum=1024),
            body_timeout_seconds=_number(
                env, "BODY_TIMEOUT_SECONDS", cls.body_timeout_seconds, minimum=0.1
            ),
            max_body_reads_per_client=_integer(
                env, "MAX_BODY_READS_PER_CLIENT", cls.max_body_reads_per_client, minimum=1
            ),
            offline_tokens_per_second=_number(
                env, "OFFLINE_TOKENS_PER_SECOND", cls.offline_tokens_per_second
            ),
            stream_ttl_seconds=_number(env, "STREAM_TTL_SECONDS", cls.stream_ttl_seconds),
            stream_grace_seconds=_number(env, "STREAM_GRACE_SECONDS", cls.stream_grace_seconds),
            stream_lease_seconds=_number(
                env, "STREAM_LEASE_SECONDS", cls.stream_lease_seconds, minimum=0.5
            ),
            redis_url=_text(env, "REDIS_URL"),
            rate_limit_per_minute=_integer(env, "RATE_LIMIT_PER_MINUTE", cls.rate_limit_per_minute),
            max_streams_per_client=_integer(
                env, "MAX_STREAMS_PER_CLIENT", cls.max_streams_per_client
            ),
            max_streams_per_worker=_integer(
                env, "MAX_STREAMS_PER_WORKER", cls.max_streams_per_worker, minimum=1
            ),
            max_opening_streams=_integer(
                env, "MAX_OPENING_STREAMS", cls.max_opening_streams, minimum=1
            ),
            trusted_proxies=proxies,
            trusted_proxies_source=proxies_source,
            shutdown_drain_seconds=_number(
                env, "SHUTDOWN_DRAIN_SECONDS", cls.shutdown_drain_seconds
            ),
            cors_origins=origins,
            log_json=_boolean(env, "LOG_JSON", cls.log_json),
            log_level=log_level.upper(),
            database_url=_text(env, "DATABASE_URL"),
            history=_boolean(env, "HISTORY", cls.history),
            history_retention_days=_integer(
                env, "HISTORY_RETENTION_DAYS", cls.history_retention_days, minimum=1
            ),
            secret_key=secret_key,
            metrics_token=_text(env, "METRICS_TOKEN"),
        )
