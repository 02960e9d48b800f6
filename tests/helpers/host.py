"""Somebody else's Flask app, with interview_app embedded under /coach (run by gunicorn).

`HOST_EMBED` picks how: `extension` registers `Coach(host, url_prefix="/coach")` in
the host; `dispatcher` mounts a whole `create_app()` with werkzeug's
`DispatcherMiddleware`. The host has what real ones have and we must not disturb:
its own `index.html`, its own 404 page, its own `g.request_id`, its own header on
every response, its own SECRET_KEY.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, jsonify, render_template
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from interview_app import Coach, create_app
from tests.helpers.embedding import CONFIG_RETRY_MS, PREFIX


def host() -> Flask:
    """The host app alone."""
    app = Flask("host", template_folder=str(Path(__file__).parent / "host_templates"))
    app.config["SECRET_KEY"] = "the-host-secret"

    @app.before_request
    def tag() -> None:
        g.request_id = "host-request"

    @app.after_request
    def header(response: Response) -> Response:
        response.headers["X-Host"] = "yes"
        return response

    @app.errorhandler(404)
    def not_found(_: Any) -> tuple[str, int]:
        return "<h1>host: no such page</h1>", 404

    @app.get("/")
    def home() -> str:
        return render_template("index.html")

    @app.get("/hello")
    def hello() -> Response:
        return jsonify(hello="host", request_id=g.request_id)

    return app


def build(embed: str) -> Any:
    """The WSGI app gunicorn serves, with us embedded the way `embed` says."""
    app = host()
    if embed == "extension":
        app.config["INTERVIEW_APP_SSE_RETRY_MS"] = CONFIG_RETRY_MS
        Coach(app, url_prefix=PREFIX)
        return app
    if embed == "dispatcher":
        app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
            app.wsgi_app, {PREFIX: create_app()}
        )
        return app
    raise ValueError(f"HOST_EMBED must be 'extension' or 'dispatcher', got {embed!r}")


app = build(os.environ.get("HOST_EMBED", "extension"))
