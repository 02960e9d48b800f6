"""What every blueprint does with a request: read its JSON, know its client, open a
generation (admission, the upstream, the attempt that keeps it), map failures to problems.

Blueprints import this module and never each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from flask import g, request

from interview_app import problems
from interview_app.coaching.request import CoachingRequest
from interview_app.generations import Caller, Opened
from interview_app.history.db import HistoryUnavailable
from interview_app.problems import Refused, invalid
from interview_app.speech import offload
from interview_app.speech.audio import Audio, TooLong, Unreadable, decode
from interview_app.streaming.store import StoreUnavailable, Stream
from interview_app.web import identity, urls
from interview_app.web.services import services

T = TypeVar("T")


def json_body(limit: int | None = None) -> dict[str, Any]:
    """The request's JSON object, read under the body limits (`web/body.py`)."""
    if not request.is_json:
        raise invalid("unsupported_media_type", "Send the body as application/json.", 415)
    try:
        data = orjson.loads(services().body.read(request, client(), limit))
    except orjson.JSONDecodeError:
        raise invalid("invalid_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise invalid("invalid_body", "The body must be a JSON object.")
    return data


def client() -> str:
    """Who quotas count this request against."""
    # ProxyFix (TRUSTED_PROXIES) has already taken X-Forwarded-For into account.
    return request.remote_addr or "unknown"


def caller() -> Caller:
    """This request's identity, client and mount, for work that outlives it."""
    return Caller(identity.current(), client(), urls.base(), g.get("ia_request_id"))


def decoded(data: bytes) -> Audio:
    """`data` decoded off the hub as a recording, or refused: 422 (not audio of an accepted
    container) or 413 (longer than `MAX_AUDIO_SECONDS`)."""
    max_seconds = services().settings.max_audio_seconds
    try:
        return offload.call(lambda: decode(data, max_seconds))
    except Unreadable:
        raise Refused(problems.AUDIO_UNREADABLE) from None
    except TooLong:
        message = f"The recording is longer than {max_seconds:g} seconds."
        raise Refused(problems.AUDIO_TOO_LONG.saying(message)) from None


def checked_audio(data: bytes) -> Audio:
    """`decoded(data)` in one of the worker's `MAX_TRANSCRIPTIONS` slots (503 if none is
    free): decoding is the costly part of any upload, and is bounded like recognition."""
    slots = services().transcriptions
    if not slots.acquire(blocking=False):
        raise Refused(problems.SERVER_BUSY)
    try:
        return decoded(data)
    finally:
        slots.release()


def call(work: Callable[[], T]) -> T:
    """`work()`, with a data store being down answered as 503."""
    try:
        return work()
    except HistoryUnavailable:
        raise Refused(problems.HISTORY_DOWN) from None
    except StoreUnavailable:
        raise Refused(problems.STORE_DOWN) from None


def open_generation(
    req: CoachingRequest,
    make_stream: Callable[[], Stream] | None = None,
    *,
    save: bool = True,
) -> Opened:
    """Admit this request's caller and open `req` (`generations.py`: how every generation
    opens, the interviewer's included)."""
    return services().generations.open(req, caller(), make_stream, save=save)
