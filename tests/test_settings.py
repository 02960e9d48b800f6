from __future__ import annotations

from typing import Any

import pytest

from interview_app.settings import Settings, SettingsError


def test_defaults_with_an_empty_environment() -> None:
    s = Settings.from_env({})
    assert s.llm_backend == "offline"
    assert s.openai_model == "gpt-4o-mini"
    assert s.sse_heartbeat_seconds == 15
    assert s.upstream_read_timeout_seconds == 60
    assert s.stream_ttl_seconds == 600 and s.stream_grace_seconds == 30
    assert s.max_question_chars == 1000 and s.max_answer_chars == 10_000
    assert s.redis_url is None and s.cors_origins == ()


def test_a_key_selects_openai_and_is_not_in_repr() -> None:
    s = Settings.from_env({"OPENAI_API_KEY": "sk-secret", "OPENAI_MODEL": "gpt-x"})
    assert s.llm_backend == "openai" and s.openai_model == "gpt-x"
    assert "sk-secret" not in repr(s)


def test_the_inline_default_held_a_cpu_models_first_token() -> None:
    """With a model the rubric is its own request by default: the inline prompt took a CPU
    llama.cpp server's first token from 2-6 s to 13-19 s (issue 31)."""
    assert Settings.from_env({"OPENAI_API_KEY": "k"}).rubric == "model"
    assert Settings.from_env({"OPENAI_API_KEY": "k", "RUBRIC": "inline"}).rubric == "inline"
    assert Settings.from_env({}).rubric == "rules"
    for mode in ("model", "inline"):
        with pytest.raises(SettingsError, match=f"RUBRIC={mode} needs a model"):
            Settings.from_env({"RUBRIC": mode})


@pytest.mark.parametrize(
    ("env", "attr", "value"),
    [
        ({"LLM_BACKEND": "offline", "OPENAI_API_KEY": "k"}, "llm_backend", "offline"),
        ({"LLM_BACKEND": "OpenAI", "OPENAI_BASE_URL": "http://x/v1"}, "llm_backend", "openai"),
        ({"SSE_HEARTBEAT_SECONDS": "2.5"}, "sse_heartbeat_seconds", 2.5),
        ({"UPSTREAM_READ_TIMEOUT_SECONDS": "30"}, "upstream_read_timeout_seconds", 30.0),
        ({"WORKER_CONNECTIONS": "3000"}, "upstream_pool_size", 3000),
        ({"WORKER_CONNECTIONS": "3000", "UPSTREAM_POOL_SIZE": "10"}, "upstream_pool_size", 10),
        (
            {"CORS_ORIGINS": "https://a.example, https://b.example"},
            "cors_origins",
            ("https://a.example", "https://b.example"),
        ),
        ({"LOG_JSON": "off"}, "log_json", False),
        ({"MAX_ANSWER_CHARS": "20000"}, "max_answer_chars", 20000),
        ({"OPENAI_API_KEY": "   "}, "llm_backend", "offline"),
    ],
)
def test_values_are_parsed(env: dict[str, str], attr: str, value: object) -> None:
    assert getattr(Settings.from_env(env), attr) == value


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LLM_BACKEND": "claude"}, "LLM_BACKEND must be 'openai' or 'offline'"),
        ({"LLM_BACKEND": "openai"}, "needs OPENAI_API_KEY"),
        ({"SSE_HEARTBEAT_SECONDS": "often"}, "SSE_HEARTBEAT_SECONDS must be a number"),
        ({"SSE_HEARTBEAT_SECONDS": "0"}, "SSE_HEARTBEAT_SECONDS must be >= 0.01"),
        ({"SSE_HEARTBEAT_SECONDS": "nan"}, "SSE_HEARTBEAT_SECONDS must be >= 0.01"),
        ({"MAX_QUESTION_CHARS": "1.5"}, "MAX_QUESTION_CHARS must be a whole number"),
        ({"RATE_LIMIT_PER_MINUTE": "-1"}, "RATE_LIMIT_PER_MINUTE must be >= 0"),
        ({"LOG_JSON": "maybe"}, "LOG_JSON must be one of"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_log_level_is_honoured_by_the_apps_own_logger() -> None:
    """Regression: LOG_LEVEL was ignored by the app's logger (hard-coded INFO)."""
    import logging

    from interview_app import create_app

    logger = logging.getLogger("interview_app")
    before = logger.level
    try:
        create_app(Settings.from_env({"LOG_LEVEL": "warning", "LOG_JSON": "false"}))
        assert logger.level == logging.WARNING
        create_app(Settings.from_env({"LOG_LEVEL": "DEBUG", "LOG_JSON": "false"}))
        assert logger.level == logging.DEBUG
    finally:
        logger.setLevel(before)
    with pytest.raises(SettingsError, match="LOG_LEVEL"):
        Settings.from_env({"LOG_LEVEL": "loud"})


@pytest.mark.parametrize(
    ("env", "proxies", "source"),
    [
        ({}, 0, "default"),
        ({"DYNO": "web.1", "SECRET_KEY": "k"}, 1, "DYNO is set (Heroku's router)"),
        ({"DYNO": "web.1", "SECRET_KEY": "k", "TRUSTED_PROXIES": "0"}, 0, "TRUSTED_PROXIES"),
        ({"TRUSTED_PROXIES": "2"}, 2, "TRUSTED_PROXIES"),
    ],
)
def test_heroku_with_default_settings_puts_each_candidate_in_their_own_quota(
    env: dict[str, str], proxies: int, source: str
) -> None:
    """Regression: on Heroku every request came from the router, so one quota for the site."""
    s = Settings.from_env(env)
    assert (s.trusted_proxies, s.trusted_proxies_source) == (proxies, source)


def test_first_byte_bound_and_output_caps_have_safe_defaults() -> None:
    s = Settings.from_env({})
    assert s.upstream_first_byte_seconds < 30  # Heroku's router gives up at 30 s
    assert (s.max_tokens_answer, s.max_tokens_feedback) == (800, 1200)
    s = Settings.from_env({"UPSTREAM_FIRST_BYTE_SECONDS": "9", "MAX_TOKENS_FEEDBACK": "64"})
    assert (s.upstream_first_byte_seconds, s.max_tokens_feedback) == (9, 64)


def test_secret_key_is_required_on_heroku_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env({"DYNO": "web.1"})
    assert Settings.from_env({"DYNO": "web.1", "SECRET_KEY": "s3cret"}).secret_key == "s3cret"
    assert "s3cret" not in repr(Settings.from_env({"SECRET_KEY": "s3cret"}))


def test_the_start_up_line_says_why_proxies_are_trusted(app_logs: Any) -> None:
    """Regression: on Heroku (DYNO set) the default must be visible, not silent."""
    from interview_app import create_app

    create_app(Settings.from_env({"DYNO": "web.1", "SECRET_KEY": "k", "HISTORY": "off"}))
    [ready] = [r for r in app_logs.records if r.getMessage() == "ready"]
    assert ready.trusted_proxies == 1
    assert ready.trusted_proxies_from == "DYNO is set (Heroku's router)"


def test_a_host_apps_config_is_read_with_the_prefix_and_falls_back_to_the_environment() -> None:
    config = {
        "INTERVIEW_APP_SSE_RETRY_MS": 350,  # not a string: app.config holds any type
        "INTERVIEW_APP_HISTORY": False,
        "INTERVIEW_APP_OPENAI_MODEL": None,  # unset in the config: the environment's
        "SSE_HEARTBEAT_SECONDS": "99",  # the host's own key, not ours
        "SECRET_KEY": "the-hosts",
    }
    env = {"SSE_RETRY_MS": "100", "OPENAI_MODEL": "gpt-env", "SSE_HEARTBEAT_SECONDS": "3"}
    s = Settings.from_config(config, env)
    assert s.sse_retry_ms == 350  # the config beats the environment
    assert s.history is False
    assert s.openai_model == "gpt-env"
    assert s.sse_heartbeat_seconds == 3
    assert s.secret_key is None  # the host's SECRET_KEY is the extension's fallback, not ours


def test_a_bad_config_value_names_its_key() -> None:
    with pytest.raises(SettingsError, match="SSE_RETRY_MS"):
        Settings.from_config({"INTERVIEW_APP_SSE_RETRY_MS": "soon"}, {})
