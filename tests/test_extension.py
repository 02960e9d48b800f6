"""`Coach` in a host Flask app, through Flask's test client (gunicorn: test_embedding.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask, Response, g, jsonify

from interview_app import Coach, create_app
from interview_app.settings import Settings
from tests.helpers.server import ROOT


def _settings(**overrides: object) -> Settings:
    fields = {"log_json": False, "history": False, "offline_tokens_per_second": 0.0}
    return Settings(**{**fields, **overrides})  # type: ignore[arg-type]


def _host(tmp_path: Path) -> Flask:
    app = Flask("host", instance_path=str(tmp_path / "instance"))
    app.config["SECRET_KEY"] = "the-host-secret"

    @app.before_request
    def tag() -> None:
        g.request_id = "host-request"

    @app.errorhandler(404)
    def not_found(_: object) -> tuple[str, int]:
        return "host 404", 404

    @app.get("/hello")
    def hello() -> Response:
        return jsonify(hello="호스트", request_id=g.request_id)

    return app


def test_both_ways_of_registering_put_the_api_under_the_prefix(tmp_path: Path) -> None:
    direct = _host(tmp_path)
    Coach(direct, url_prefix="/coach", settings=_settings())
    deferred = _host(tmp_path)
    coach = Coach(settings=_settings())
    coach.init_app(deferred, url_prefix="coach/")  # slashes tidied
    for app in (direct, deferred):
        assert app.extensions["interview_app"].url_prefix == "/coach"
        client = app.test_client()
        created = client.post("/coach/api/streams", json={"kind": "answer", "question": "Why?"})
        assert created.status_code == 201
        assert created.json is not None and created.json["url"].startswith("/coach/api/streams/")
        health = client.get("/coach/healthz").json
        assert health is not None and health["backend"] == "offline"
        assert client.get("/api/streams").status_code == 404  # nothing outside the prefix


def test_one_coach_serves_two_apps_with_their_own_state(tmp_path: Path) -> None:
    coach = Coach()
    first, second = _host(tmp_path), _host(tmp_path)
    coach.init_app(first, url_prefix="/a", settings=_settings(max_question_chars=10))
    coach.init_app(second, url_prefix="/b", settings=_settings())
    long = {"kind": "answer", "question": "Why do you want this job?"}
    assert first.test_client().post("/a/api/streams", json=long).status_code == 400
    assert second.test_client().post("/b/api/streams", json=long).status_code == 201
    assert first.extensions["interview_app"].store is not second.extensions["interview_app"].store


def test_registering_twice_on_one_app_is_refused(tmp_path: Path) -> None:
    app = _host(tmp_path)
    Coach(app, url_prefix="/coach", settings=_settings())
    with pytest.raises(RuntimeError, match="already registered"):
        Coach(app, url_prefix="/other", settings=_settings())


def test_the_hosts_routes_errors_and_json_are_left_alone(tmp_path: Path) -> None:
    app = _host(tmp_path)
    Coach(app, url_prefix="/coach", settings=_settings())
    client = app.test_client()
    hello = client.get("/hello")
    assert hello.json == {"hello": "호스트", "request_id": "host-request"}
    assert "\\ud638" in hello.text  # the host's JSON provider still escapes: not changed
    for ours in ("Content-Security-Policy", "X-Request-ID", "Set-Cookie"):
        assert ours not in hello.headers
    assert client.get("/nowhere").text == "host 404"
    # Under our prefix, our shape, even for a URL we do not have.
    missing = client.get("/coach/api/nowhere")
    assert missing.status_code == 404 and missing.json is not None
    assert missing.json["error"]["code"] == "not_found"
    wrong = client.delete("/coach/api/questions")
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]
    assert wrong.json is not None and wrong.json["error"]["code"] == "method_not_allowed"


def test_without_the_page_only_the_api_is_registered(tmp_path: Path) -> None:
    app = _host(tmp_path)
    Coach(app, url_prefix="/coach", page=False, settings=_settings())
    client = app.test_client()
    assert client.get("/coach/").status_code == 404
    assert client.get("/coach/vendor/purify.min.js").status_code == 404
    assert client.get("/coach/api/questions").status_code == 200


def test_the_hosts_secret_key_signs_the_identity_when_ours_is_unset(tmp_path: Path) -> None:
    app = _host(tmp_path)
    Coach(app, url_prefix="/coach", settings=_settings())
    assert app.extensions["interview_app"].secret == "the-host-secret"
    assert not (tmp_path / "instance" / "secret_key").exists()
    cookie = app.test_client().get("/coach/").headers["Set-Cookie"]
    assert "Path=/coach" in cookie and "HttpOnly" in cookie


def test_cors_answers_for_our_api_under_the_prefix_only(tmp_path: Path) -> None:
    app = _host(tmp_path)
    Coach(app, url_prefix="/coach", settings=_settings(cors_origins=("https://site.example",)))
    client = app.test_client()
    preflight = client.options(
        "/coach/api/streams",
        headers={
            "Origin": "https://site.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://site.example"
    hello = client.get("/hello", headers={"Origin": "https://site.example"})
    assert "Access-Control-Allow-Origin" not in hello.headers
    other = client.get("/coach/api/questions", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_create_app_still_owns_every_url(tmp_path: Path) -> None:
    app = create_app(_settings(secret_key="s"))
    client = app.test_client()
    assert client.get("/").status_code == 200
    missing = client.get("/nowhere")
    assert missing.json is not None and missing.json["error"]["code"] == "not_found"
    assert missing.headers["X-Request-ID"] and missing.headers["Content-Security-Policy"]


def test_the_host_migrates_our_database_with_a_flask_command(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, inspect

    url = f"sqlite:///{tmp_path / 'host.db'}"
    app = _host(tmp_path)
    Coach(app, url_prefix="/coach", settings=_settings(history=True, database_url=url))
    result = app.test_cli_runner().invoke(args=["interview-app", "migrate"])
    assert result.exit_code == 0, result.output
    assert "migrated" in result.output
    engine = create_engine(url)
    assert {"attempts", "interviews"} <= set(inspect(engine).get_table_names())
    engine.dispose()
    client = app.test_client()
    streamed = client.post(
        "/coach/api/streams",
        json={"kind": "feedback", "question": "Why?", "answer": "I shipped it early."},
    )
    body = client.get(streamed.json["url"] if streamed.json else "").get_data()
    assert b'"saved":true' in body.replace(b" ", b"")


def test_at_a_hosts_root_our_files_do_not_hide_behind_its_static_route(tmp_path: Path) -> None:
    static = tmp_path / "static"
    static.mkdir()
    (static / "host.css").write_text("body {}")
    app = Flask("host", static_folder=str(static), instance_path=str(tmp_path / "instance"))
    Coach(app, settings=_settings(secret_key="s"))
    client = app.test_client()
    page = client.get("/").text
    files = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|svg))"', page)
    (entry,) = [f for f in files if f.endswith("/js/main.js")]
    # The page's modules are imported relative to its entry: each must be served beside it.
    modules = sorted((ROOT / "interview_app" / "static" / "js").glob("*.js"))
    files += [entry.replace("main.js", m.name) for m in modules]
    assert len(files) == 7 + len(modules)  # style, favicon, 4 vendor files, entry; modules
    for path in files:
        with client.get(path) as response:
            assert response.status_code == 200, path
    with client.get("/static/host.css") as hosts:
        assert hosts.status_code == 200  # the host's own still served
