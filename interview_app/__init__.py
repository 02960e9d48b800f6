"""interview_app: interview coaching streamed over Server-Sent Events.

`create_app()` builds the service to run on its own (`wsgi.py`, or mounted whole with
werkzeug's `DispatcherMiddleware`); `Coach` registers it inside an existing Flask app.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from interview_app.extension import Coach
from interview_app.llm.port import LLM
from interview_app.settings import Settings

__all__ = ["Coach", "create_app"]


def create_app(settings: Settings | None = None, *, llm: LLM | None = None) -> Flask:
    """Build the app from `settings` (default: the environment) and an optional LLM."""
    settings = settings or Settings.from_env()
    # No app-wide static route: ours comes with our blueprint, wherever it is mounted.
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if settings.trusted_proxies:
        # X-Forwarded-Proto too: the identity cookie is `Secure` when the router got HTTPS.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    Coach().init_app(app, settings=settings, llm=llm, whole_app=True)
    return app
