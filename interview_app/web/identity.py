"""The anonymous practice identity: a random id in a signed cookie, no accounts.

Each browser (or API client that keeps cookies) gets a random id on its first
request, signed with `SECRET_KEY` (itsdangerous, through which Flask signs its own
sessions) in an `HttpOnly`, `SameSite=Lax` cookie valid a year, `Secure` when the
request came over HTTPS (through the trusted proxy). A forged or tampered cookie
fails the signature and gets a fresh identity, never someone else's. The cookie
carries when it was signed, and is signed again (the same identity, a new year)
once it is older than a quarter of its life, so a regular visitor never loses
their history to its expiry. Cookies signed before that (no time in them) are
still read, and renewed at once.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from flask import Blueprint, Flask, Response, g, request
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

from interview_app.web import urls
from interview_app.web.services import services

COOKIE = "ia_identity"
YEAR = 365 * 24 * 3600
RENEW_AFTER = YEAR // 4  # seconds since signing after which a visit signs it again


def secret_key(configured: str | None, instance: Path) -> str:
    """`SECRET_KEY`, or one generated once and kept in the instance folder (not on Heroku).

    Workers start together: the key appears whole or not at all (written aside, then
    linked into place, which fails if another got there first), and every process reads
    the one that won. (It was touched, then written: a worker reading in between signed
    with an empty key, another with a key of its own; 6 of 30 trials of six at once.)
    """
    if configured:
        return configured
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        aside = instance / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(48))
            os.link(aside, path)
        except FileExistsError:
            pass  # another process's key is in place: that one is read below
        finally:
            aside.unlink(missing_ok=True)
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it, or set SECRET_KEY")
    return key


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services().secret, salt="identity")


def _read(raw: str) -> tuple[str | None, float]:
    """The identity in a cookie and its age in seconds (None: not ours, forged)."""
    try:
        identity, signed = _serializer().loads(raw, return_timestamp=True)
        return str(identity), time.time() - signed.timestamp()
    except BadSignature:
        pass
    try:  # signed before cookies carried their time: read, and renew at once
        return str(URLSafeSerializer(services().secret, salt="identity").loads(raw)), YEAR
    except BadSignature:
        return None, 0.0


def current() -> str:
    """This request's identity (made on first use, sent back as a cookie)."""
    identity: str | None = g.get("ia_identity")
    if identity is None:
        raw = request.cookies.get(COOKIE)
        age = 0.0
        if raw:
            identity, age = _read(raw)
        if not identity:
            identity = secrets.token_urlsafe(18)
            g.ia_identity_new = True
        elif age > RENEW_AFTER:
            g.ia_identity_new = True  # the same identity, signed again for a new year
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
