"""The anonymous practice identity: a random id in a signed cookie, no accounts.

Each browser (or API client that keeps cookies) gets a random id on its first
request, signed with `SECRET_KEY` (itsdangerous, through which Flask signs its own
sessions) in an `HttpOnly`, `SameSite=Lax` cookie valid a year, `Secure` when the
request came over HTTPS (through the trusted proxy). A forged or tampered cookie
fails the signature and gets a fresh identity, never someone else's.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Blueprint, Flask, Response, g, request
from itsdangerous import BadSignature, URLSafeSerializer

from interview_app.web import urls
from interview_app.web.services import services

COOKIE = "ia_identity"
YEAR = 365 * 24 * 3600


def secret_key(configured: str | None, instance: Path) -> str:
    """`SECRET_KEY`, or one generated once and kept in the instance folder (not on Heroku)."""
    if configured:
        return configured
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(services().secret, salt="identity")


def current() -> str:
    """This request's identity (made on first use, sent back as a cookie)."""
    identity: str | None = g.get("ia_identity")
    if identity is None:
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                identity = str(_serializer().loads(raw))
            except BadSignature:
                identity = None
        if not identity:
            identity = secrets.token_urlsafe(18)
            g.ia_identity_new = True
        g.ia_identity = identity
    return identity


def _send(response: Response) -> Response:
    if g.get("ia_identity_new"):
        response.set_cookie(
            COOKIE,
            _serializer().dumps(g.ia_identity),
            max_age=YEAR,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
            path=urls.base() or "/",  # ours only, not a host app's other pages
        )
    return response


def _give() -> None:
    if request.endpoint and not urls.plumbing():
        current()


def init_app(scope: Flask | Blueprint) -> None:
    """Give every page and API request to `scope` an identity, and new ones their cookie."""
    scope.before_request(_give)
    scope.after_request(_send)
