"""Our routes as one blueprint, which a Flask app (ours or a host's) registers.

Everything we add to a request — the request id and its log line, the identity
cookie, the security headers, CORS, the JSON error shape — hangs on this blueprint,
so a host app's other routes see none of it. Its static files and templates come
with it (templates in a folder of our name, so a host's `index.html` never shadows
ours).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask

from interview_app.web import errors, identity, logs, metrics, security
from interview_app.web.api import bp as api_bp
from interview_app.web.history import history_bp
from interview_app.web.interviews import interviews_bp
from interview_app.web.page import page as page_bp
from interview_app.web.speech import speech_bp

PACKAGE = Path(__file__).resolve().parents[1]


def hook(scope: Flask | Blueprint, url_prefix: str, cors_origins: tuple[str, ...]) -> None:
    """What we add to each request of `scope`: our blueprint inside a host, the whole app
    when it is ours alone (then even a URL no rule matches, or werkzeug's own
    redirect, gets our headers, log line and error shape)."""
    logs.init_app(scope)
    security.init_app(scope, cors_origins, url_prefix)
    identity.init_app(scope)
    errors.register(scope)


def blueprint(
    url_prefix: str, cors_origins: tuple[str, ...], *, page: bool, hooked: bool
) -> Blueprint:
    """The API (and the page, when `page`) under `url_prefix` ("" or "/coach"), with our
    request hooks on it unless they are `hooked` on the whole app already."""
    coach = Blueprint(
        "interview_app",
        __name__,
        url_prefix=url_prefix or None,
        static_folder=PACKAGE / "static",
        # At a host's root, `/static` is the host's own (Flask registers it first).
        static_url_path="/static" if url_prefix or hooked else "/interview_app/static",
        template_folder=PACKAGE / "templates",
    )
    if not hooked:
        hook(coach, url_prefix, cors_origins)
        if url_prefix:
            errors.claim_prefix(coach)
    blueprints = (api_bp, history_bp, interviews_bp, speech_bp, metrics.bp)
    for child in (*blueprints, *((page_bp,) if page else ())):
        coach.register_blueprint(child)
    return coach
