from __future__ import annotations

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
