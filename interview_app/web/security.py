"""Response headers that keep the page safe, and CORS only for listed origins.

`CORS_ORIGINS` entries are literal origins: flask-cors would treat any entry
holding a regex-looking character (`*`, `.`...) as a regular expression, so that
`https://*corp.example` also admitted `https://xcorp.example`. Each entry is
escaped and anchored here; only a lone `*` means "any origin".

Redirects are relative: werkzeug builds the `Location` of its own redirects (a
merged double slash, say) from the request's `Host` header, which a client can
forge to point the redirect off-site. A relative `Location` goes back to
whichever host the client really reached.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, Flask, Response
from flask_cors import CORS

# No inline script or style anywhere: model output cannot become code even if a
# sanitizer had a hole. `connect-src 'self'` covers fetch and EventSource; `media-src
# blob:` lets the page play the interviewer's speech it fetched (never a third party's).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)


def _relative_location(response: Response) -> None:
    location = response.headers.get("Location")
    if location and 300 <= response.status_code < 400:
        parts = urlsplit(location)
        if parts.scheme or parts.netloc or location.startswith("//"):
            # One leading slash: "//host/..." would be read as another site.
            path = "/" + parts.path.lstrip("/")
            response.headers["Location"] = urlunsplit(("", "", path, parts.query, ""))


def _headers(response: Response) -> Response:
    _relative_location(response)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def init_app(scope: Flask | Blueprint, cors_origins: tuple[str, ...], url_prefix: str = "") -> None:
    """Add the security headers to `scope`'s responses (ours, never a host app's), and
    CORS for our `/api/*` from `cors_origins` only."""
    scope.after_request(_headers)
    if cors_origins:
        origins: list[str | re.Pattern[str]] = [
            "*" if o == "*" else re.compile(re.escape(o) + r"\Z", re.IGNORECASE)
            for o in cors_origins
        ]
        CORS(
            scope,
            # Matched against the path below the script root, where our prefix still is.
            resources={re.escape(url_prefix) + r"/api/.*": {"origins": origins}},
            expose_headers=["Location", "Retry-After", "X-Request-ID"],
        )
