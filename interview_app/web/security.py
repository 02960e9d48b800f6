"""Response headers that keep the page safe, and CORS only for listed origins."""

from __future__ import annotations

from flask import Flask, Response
from flask_cors import CORS

# No inline script or style anywhere: model output cannot become code even if a
# sanitizer had a hole. `connect-src 'self'` covers fetch and EventSource.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def init_app(app: Flask, cors_origins: tuple[str, ...]) -> None:
    """Add the security headers, and CORS for `/api/*` from `cors_origins` only."""
    app.after_request(_headers)
    if cors_origins:
        CORS(
            app,
            resources={r"/api/*": {"origins": list(cors_origins)}},
            expose_headers=["Location", "Retry-After", "X-Request-ID"],
        )
