"""Typed settings, parsed once from an injectable mapping (the environment by default).

Each setting is declared once, as a field with its environment variable, default
and bounds (`_env`); `from_env` parses them all in one loop by the field's type,
then derives the few whose default depends on others (the backend, the rubric,
trusted proxies). Every setting is listed, with its default, in `.env.example` and
the README. A bad value fails at start-up with a message naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields
from typing import Any, Literal

RubricMode = Literal["model", "inline", "rules", "off"]  # where a feedback's rubric comes from


class SettingsError(ValueError):
    """A setting has a value we cannot use."""


CONFIG_PREFIX = "INTERVIEW_APP_"
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _bounded(name: str, raw: str, value: float, minimum: float, maximum: float | None) -> None:
    if not value >= minimum:
        raise SettingsError(f"{name} must be >= {minimum:g}, got {raw!r}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be <= {maximum:g}, got {raw!r}")


def _number(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float = 0,
    maximum: float | None = None,
) -> float:
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    _bounded(name, raw, value, minimum, maximum)
    return value


def _integer(
    env: Mapping[str, str],
    name: str,
    default: int,
    *,
    minimum: int = 0,
    maximum: int | None = None,
) -> int:
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    _bounded(name, raw, value, minimum, maximum)
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


def offline_speech_installed() -> bool:
    """Whether the offline recognisers are installed (requirements-speech.txt)."""
    import importlib.util

    return all(importlib.util.find_spec(m) for m in ("vosk", "faster_whisper"))


def _offline_speech() -> str:
    return "offline" if offline_speech_installed() else "off"


def _env(
    name: str,
    default: Any,
    *,
    minimum: float = 0,
    maximum: float | None = None,
    secret: bool = False,
    choices: tuple[str, ...] = (),
) -> Any:
    """A setting read from the environment variable `name`."""
    meta = {"env": name, "minimum": minimum, "maximum": maximum, "choices": choices}
    return field(default=default, repr=not secret, metadata=meta)


def _parse(env: Mapping[str, str], f: Field[Any]) -> Any:
    name, meta = f.metadata["env"], f.metadata
    bounds = {"minimum": meta["minimum"], "maximum": meta["maximum"]}
    default: Any = f.default
    if f.type == "bool":
        return _boolean(env, name, default)
    if f.type == "int":
        return _integer(env, name, default, **bounds)
    if f.type == "float":
        return _number(env, name, default, **bounds)
    if f.type == "tuple[str, ...]":
        return tuple(o.strip() for o in (env.get(name) or "").split(",") if o.strip())
    value = _text(env, name)
    if value is not None and meta["choices"]:
        value = value.lower()
        if value not in meta["choices"]:
            *others, last = (repr(c) for c in meta["choices"])
            raise SettingsError(f"{name} must be {', '.join(others)} or {last}, got {value!r}")
    return default if value is None else value


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment."""

    openai_api_key: str | None = _env("OPENAI_API_KEY", None, secret=True)
    openai_base_url: str | None = _env("OPENAI_BASE_URL", None)
    openai_model: str = _env("OPENAI_MODEL", "gpt-4o-mini")
    openai_max_retries: int = _env("OPENAI_MAX_RETRIES", 2)
    # Unset: openai with a key or base URL, else offline (`from_env`).
    llm_backend: str = _env("LLM_BACKEND", "offline", choices=("openai", "offline"))
    sse_heartbeat_seconds: float = _env("SSE_HEARTBEAT_SECONDS", 15.0, minimum=0.01)
    sse_retry_ms: int = _env("SSE_RETRY_MS", 3000)
    upstream_read_timeout_seconds: float = _env("UPSTREAM_READ_TIMEOUT_SECONDS", 60.0, minimum=0.01)
    upstream_connect_timeout_seconds: float = _env(
        "UPSTREAM_CONNECT_TIMEOUT_SECONDS", 10.0, minimum=0.01
    )
    # Under Heroku's 30 s first-byte limit, retries included.
    upstream_first_byte_seconds: float = _env("UPSTREAM_FIRST_BYTE_SECONDS", 25.0, minimum=0.01)
    upstream_max_line_bytes: int = _env("UPSTREAM_MAX_LINE_BYTES", 1 << 20, minimum=1024)
    max_tokens_answer: int = _env("MAX_TOKENS_ANSWER", 800, minimum=1)
    max_tokens_feedback: int = _env("MAX_TOKENS_FEEDBACK", 1200, minimum=1)
    # Unset: model with a model, else rules (`from_env`).
    rubric: RubricMode = _env("RUBRIC", "rules", choices=("model", "inline", "rules", "off"))
    rubric_timeout_seconds: float = _env("RUBRIC_TIMEOUT_SECONDS", 5.0)
    rubric_max_tokens: int = _env("RUBRIC_MAX_TOKENS", 600, minimum=1)
    # Unset: WORKER_CONNECTIONS (`from_env`).
    upstream_pool_size: int = _env("UPSTREAM_POOL_SIZE", 2000, minimum=1)
    max_question_chars: int = _env("MAX_QUESTION_CHARS", 1000, minimum=1)
    max_answer_chars: int = _env("MAX_ANSWER_CHARS", 10_000, minimum=1)
    max_role_chars: int = _env("MAX_ROLE_CHARS", 200, minimum=1)
    max_posting_chars: int = _env("MAX_POSTING_CHARS", 20_000, minimum=1)
    max_resume_chars: int = _env("MAX_RESUME_CHARS", 20_000, minimum=1)
    interview_context_tokens: int = _env("INTERVIEW_CONTEXT_TOKENS", 6000, minimum=500)
    # 0 (unset): derived from the character limits (`body_limit`), so valid input fits.
    max_body_bytes: int = _env("MAX_BODY_BYTES", 0)
    body_timeout_seconds: float = _env("BODY_TIMEOUT_SECONDS", 10.0, minimum=0.1)
    max_body_reads_per_client: int = _env("MAX_BODY_READS_PER_CLIENT", 4, minimum=1)
    offline_tokens_per_second: float = _env("OFFLINE_TOKENS_PER_SECOND", 40.0)
    stream_ttl_seconds: float = _env("STREAM_TTL_SECONDS", 600.0)
    stream_grace_seconds: float = _env("STREAM_GRACE_SECONDS", 30.0)
    stream_lease_seconds: float = _env("STREAM_LEASE_SECONDS", 10.0, minimum=0.5)
    redis_url: str | None = _env("REDIS_URL", None, secret=True)
    rate_limit_per_minute: int = _env("RATE_LIMIT_PER_MINUTE", 20)
    max_streams_per_client: int = _env("MAX_STREAMS_PER_CLIENT", 3)
    max_streams_per_worker: int = _env("MAX_STREAMS_PER_WORKER", 1800, minimum=1)
    max_opening_streams: int = _env("MAX_OPENING_STREAMS", 1000, minimum=1)
    # Admission by the hub's lag (streaming/hub.py): 0 turns the gate off.
    hub_lag_bound_ms: float = _env("HUB_LAG_BOUND_MS", 25.0)
    hub_gate_max_wait_seconds: float = _env("HUB_GATE_MAX_WAIT_SECONDS", 15.0)
    hub_openings_per_tick: int = _env("HUB_OPENINGS_PER_TICK", 8, minimum=1)
    # Admission by forecast (streaming/forecast.py): the share of one core the hub may
    # spend relaying the admitted streams' tokens; 0 turns it off. On by default with
    # MAX_ACCEPT=1 (gunicorn.conf.py): a burst's streams wait with their headers sent and
    # the running ones keep their pace (docs/benchmarks-burst.md). 0.85, not 0.7: its cost
    # per token is read in seconds that also open streams, so at 0.7 a load one worker
    # carries (300 streams started over 5 s) waited 0.6-1.2 s for its first token.
    hub_target_utilisation: float = _env("HUB_TARGET_UTILISATION", 0.85)
    # Unset: 1 on Heroku (DYNO is set), else 0 (`from_env`).
    trusted_proxies: int = _env("TRUSTED_PROXIES", 0)
    # Why trusted_proxies has its value, for the start-up log line.
    trusted_proxies_source: str = "default"
    shutdown_drain_seconds: float = _env("SHUTDOWN_DRAIN_SECONDS", 10.0)
    cors_origins: tuple[str, ...] = _env("CORS_ORIGINS", ())
    log_json: bool = _env("LOG_JSON", True)
    log_level: str = _env("LOG_LEVEL", "INFO", choices=LOG_LEVELS)
    database_url: str | None = _env("DATABASE_URL", None, secret=True)
    # Migrate the embedded SQLite database at start (PostgreSQL: the release command).
    database_auto_migrate: bool = _env("DATABASE_AUTO_MIGRATE", True)
    history: bool = _env("HISTORY", True)
    # At most ten years: the purge computes a date this far back.
    history_retention_days: int = _env("HISTORY_RETENTION_DAYS", 90, minimum=1, maximum=3650)
    # How long the first save waits for others to share its transaction (0: none).
    history_batch_ms: int = _env("HISTORY_BATCH_MS", 20, minimum=0, maximum=1000)
    # --- Voice ---
    # Unset: model with a model, offline when its packages are installed, else off.
    stt: str = _env("STT", "", choices=("model", "offline", "off"))
    stt_model: str = _env("STT_MODEL", "gpt-4o-mini-transcribe")
    # Unset: model with a model, else browser (the page's speechSynthesis).
    tts: str = _env("TTS", "", choices=("model", "browser", "off"))
    tts_model: str = _env("TTS_MODEL", "gpt-4o-mini-tts")
    tts_voice: str = _env("TTS_VOICE", "alloy")
    # A voice per language ("none": no model speech in it; the page's speechSynthesis
    # reads it). Unset: TTS_VOICE in English; in Korean too on OpenAI itself (its voices
    # speak both), none on another server (a local voice speaks one language).
    tts_voice_en: str = _env("TTS_VOICE_EN", "")
    tts_voice_ko: str = _env("TTS_VOICE_KO", "")
    # Speech servers of their own (unset: the chat server's, OPENAI_BASE_URL/API_KEY).
    stt_base_url: str | None = _env("STT_BASE_URL", None)
    stt_api_key: str | None = _env("STT_API_KEY", None, secret=True)
    tts_base_url: str | None = _env("TTS_BASE_URL", None)
    tts_api_key: str | None = _env("TTS_API_KEY", None, secret=True)
    # The whole wait for a model server's transcription (pings go out meanwhile).
    transcription_timeout_seconds: float = _env("TRANSCRIPTION_TIMEOUT_SECONDS", 120.0, minimum=1)
    max_audio_bytes: int = _env("MAX_AUDIO_BYTES", 25 * 1024 * 1024, minimum=1024)
    max_audio_seconds: float = _env("MAX_AUDIO_SECONDS", 600.0, minimum=1)
    audio_body_timeout_seconds: float = _env("AUDIO_BODY_TIMEOUT_SECONDS", 120.0, minimum=1)
    max_transcriptions: int = _env("MAX_TRANSCRIPTIONS", 2, minimum=1)
    # Hands-free answers: a silence this long after speech ends the answer (the page counts
    # it down; speaking or a key cancels it).
    turn_end_seconds: float = _env("TURN_END_SECONDS", 2.5, minimum=0.5)
    # A live transcription with no audio for this long is closed and its recogniser freed.
    transcription_idle_seconds: float = _env("TRANSCRIPTION_IDLE_SECONDS", 10.0, minimum=1)
    # Kept recordings: at most this much audio per identity, and on the whole server.
    max_kept_audio_bytes_per_identity: int = _env(
        "MAX_KEPT_AUDIO_BYTES_PER_IDENTITY", 50 * 1024 * 1024, minimum=1024
    )
    max_kept_audio_bytes: int = _env("MAX_KEPT_AUDIO_BYTES", 2 * 1024**3, minimum=1024)
    long_pause_seconds: float = _env("LONG_PAUSE_SECONDS", 1.5, minimum=0.1)
    # How long a shared report link stays valid.
    share_days: int = _env("SHARE_DAYS", 14, minimum=1, maximum=365)
    secret_key: str | None = _env("SECRET_KEY", None, secret=True)
    metrics_token: str | None = _env("METRICS_TOKEN", None, secret=True)

    def __post_init__(self) -> None:
        for kind in ("stt", "tts"):  # speech servers default to the chat server
            if getattr(self, f"{kind}_base_url") is None:
                object.__setattr__(self, f"{kind}_base_url", self.openai_base_url)
            if getattr(self, f"{kind}_api_key") is None:
                object.__setattr__(self, f"{kind}_api_key", self.openai_api_key)
        if not self.tts_voice_en:
            object.__setattr__(self, "tts_voice_en", self.tts_voice)
        if not self.tts_voice_ko:
            multilingual = self.tts_base_url is None  # OpenAI's own voices speak both
            object.__setattr__(self, "tts_voice_ko", self.tts_voice if multilingual else "none")
        if not self.stt:
            stt = "model" if self.llm_backend == "openai" else _offline_speech()
            object.__setattr__(self, "stt", stt)
        if not self.tts:
            object.__setattr__(self, "tts", "model" if self.llm_backend == "openai" else "browser")
        if not self.max_body_bytes:
            limit = body_limit(self.max_question_chars, self.max_answer_chars, self.max_role_chars)
            object.__setattr__(self, "max_body_bytes", limit)

    @property
    def interview_body_bytes(self) -> int:
        """The body limit of `POST /api/interviews`: its own fields at their limits."""
        return body_limit(self.max_role_chars, self.max_posting_chars, self.max_resume_chars, 1000)

    @staticmethod
    def variables() -> list[str]:
        """Every environment variable a setting is read from."""
        return [f.metadata["env"] for f in fields(Settings) if "env" in f.metadata] + [
            "WORKER_CONNECTIONS"
        ]

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
        given = {f.name: _parse(env, f) for f in fields(cls) if "env" in f.metadata}
        key, base_url = given["openai_api_key"], given["openai_base_url"]
        backend = _text(env, "LLM_BACKEND") and given["llm_backend"]
        backend = backend or ("openai" if key else "offline")
        if backend == "openai" and key is None and base_url is None:
            raise SettingsError(
                "LLM_BACKEND=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)"
            )
        rubric = _text(env, "RUBRIC") and given["rubric"]
        # With a model, its own structured request: the inline mode's longer prompt held
        # the first token of a CPU model for 13-19 s instead of 2-6 s (issue 31).
        rubric = rubric or ("model" if backend == "openai" else "rules")
        if rubric in ("model", "inline") and backend != "openai":
            raise SettingsError(
                f"RUBRIC={rubric} needs a model: set OPENAI_API_KEY or OPENAI_BASE_URL"
            )
        # On Heroku (which sets DYNO) every request comes through its router: trusting
        # no proxy would put every candidate behind one address and one quota.
        if _text(env, "TRUSTED_PROXIES") is not None:
            proxies_source = "TRUSTED_PROXIES"
        elif _text(env, "DYNO") is not None:
            given["trusted_proxies"], proxies_source = 1, "DYNO is set (Heroku's router)"
        else:
            proxies_source = "default"
        if given["secret_key"] is None and _text(env, "DYNO") is not None:
            # A generated key lives in the instance folder, which a dyno loses on restart:
            # every candidate's history would vanish with it.
            raise SettingsError(
                "SECRET_KEY is required on Heroku (DYNO is set): it signs the practice-history "
                "cookie. Set it to a long random value (heroku config:set SECRET_KEY=...)."
            )
        if _text(env, "UPSTREAM_POOL_SIZE") is None:
            connections = _integer(env, "WORKER_CONNECTIONS", cls.upstream_pool_size, minimum=1)
            given["upstream_pool_size"] = connections
        if given["max_body_bytes"]:
            given["max_body_bytes"] = _integer(env, "MAX_BODY_BYTES", 0, minimum=1024)
        for kind in ("stt", "tts"):
            own = given[f"{kind}_base_url"] or given[f"{kind}_api_key"]
            if given[kind] == "model" and backend != "openai" and not own:
                raise SettingsError(
                    f"{kind.upper()}=model needs a model server: OPENAI_* or "
                    f"{kind.upper()}_BASE_URL / {kind.upper()}_API_KEY"
                )
        given.update(
            llm_backend=backend,
            rubric=rubric,
            trusted_proxies_source=proxies_source,
            log_level=given["log_level"].upper(),
        )
        return cls(**given)
