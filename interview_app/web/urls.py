"""Where our routes live, so every URL we hand out works wherever we are mounted.

The base is the WSGI script root (a `DispatcherMiddleware` mount, a proxy's
`SCRIPT_NAME`) plus the extension's `url_prefix`. URLs are built from it rather than
with `url_for` because some are made in background greenlets, with no request
context (an interview's next stream, named in a `done` event): those capture the
base while their request is still on. What is stored in the database is the path
below the base (`/api/streams/<id>`), so moving the mount breaks no saved interview.
"""

from __future__ import annotations

from flask import request

from interview_app.web.services import services


def base() -> str:
    """This request's mount point: "" standalone at the root, "/coach" under a prefix."""
    return request.script_root + services().url_prefix


def at(path: str, root: str | None = None) -> str:
    """`path` (below the base, as stored) as a URL a client can use; `root` is a base
    captured earlier, for work done after the request."""
    return (base() if root is None else root) + path


# No identity cookie and no log line for these; a shared report is opened by strangers,
# who get no identity from us either.
_PLUMBING = (".static", ".vendor", ".healthz", ".metrics", ".shared_report")


def plumbing() -> bool:
    """Whether this request is for a file, the health check or metrics: no identity cookie
    and no log line for those."""
    return (request.endpoint or "").endswith(_PLUMBING)
