"""The error catalogue: every code a client can see, with its status, wording and retry advice.

One catalogue serves both error phases. Before a stream's first byte a problem is
raised as `Refused` and answered as JSON with its HTTP status (`web/errors.py`);
after it, the same code travels as an `error` event whose payload is
`Problem.event()`. Nothing here imports the rest of the package, so every layer
can name its problems without reaching upward into the web layer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing that can go wrong, as a client sees it."""

    code: str
    message: str
    status: int = 500  # the HTTP status when it happens before the stream
    retryable: bool = True
    retry_after: int | None = None  # seconds, for `Retry-After` (429/503)

    def event(self) -> dict[str, Any]:
        """The payload of the `error` event that ends a stream with this problem: with
        `retry_after` when it has one, the seconds a `Retry-After` would say (a stream
        refused at the gate after it began had only `retryable`)."""
        event: dict[str, Any] = {
            "code": self.code, "message": self.message, "retryable": self.retryable
        }  # fmt: skip
        if self.retry_after is not None:
            event["retry_after"] = self.retry_after
        return event

    def saying(self, message: str) -> Problem:
        """The same problem worded for this occasion."""
        return replace(self, message=message)


class Refused(Exception):
    """A request refused before its stream began: answered with the problem's status."""

    def __init__(self, problem: Problem, *, retry_after: int | None = None) -> None:
        super().__init__(problem.message)
        self.problem = problem
        self.retry_after = problem.retry_after if retry_after is None else retry_after


def invalid(code: str, message: str, status: int = 400) -> Refused:
    """A client error (bad input) refused with `status`, never retryable as it is."""
    return Refused(Problem(code, message, status, retryable=False))


# --- Our side -----------------------------------------------------------------
STORE_DOWN = Problem(
    "store_unavailable", "Our data store is unavailable. Please retry shortly.", 503, True, 5
)
RESTARTING = Problem(
    "server_restarting",
    "The server is restarting. Reconnect or try again in a moment.",
    503,
    True,
    5,
)
SERVER_BUSY = Problem(
    "server_busy", "This server is at capacity. Please retry in a few seconds.", 503, True, 2
)
INTERNAL = Problem("internal", "The stream failed on our side.", 500, True)
CANCELLED = Problem("cancelled", "Generation was stopped.", 409, False)
ABANDONED = Problem(
    "stream_abandoned",
    "Nobody was reading this stream, so generation stopped. Start a new one.",
    410,
    False,
)
STREAM_LOST = Problem(
    "stream_lost",
    "The server generating this answer stopped (restarted or failed). Please try again.",
    503,
    True,
    2,
)
STREAM_NOT_FOUND = Problem(
    "stream_not_found", "No such stream: it never existed or expired.", 404, False
)

# --- The candidate's quotas ------------------------------------------------------
RATE_LIMITED = Problem("rate_limited", "Too many new answers.", 429, True, 60)
TOO_MANY_STREAMS = Problem(
    "too_many_streams", "You already have too many answers streaming.", 429, True, 5
)

# --- The model server -------------------------------------------------------------
UPSTREAM_TIMEOUT = Problem("upstream_timeout", "The model server did not answer in time.", 504)
UPSTREAM_UNREACHABLE = Problem("upstream_unreachable", "The model server cannot be reached.", 502)
UPSTREAM_BUSY = Problem(
    "upstream_busy", "The model server is busy. Please retry shortly.", 503, True, 5
)
UPSTREAM_MISCONFIGURED = Problem(
    "upstream_misconfigured", "The service is misconfigured upstream.", 502
)
UPSTREAM_ERROR = Problem("upstream_error", "The model server failed.", 502)
UPSTREAM_SILENT = Problem("upstream_timeout", "The model went silent for too long.", 504)
UPSTREAM_DISCONNECTED = Problem(
    "upstream_disconnected", "The model server dropped the stream.", 502
)
UPSTREAM_INCOMPLETE = Problem(
    "upstream_incomplete", "The model server ended the stream early.", 502
)
UPSTREAM_BAD_RESPONSE = Problem("upstream_bad_response", "The model server sent bad data.", 502)
UPSTREAM_LINE_TOO_LONG = Problem(
    "upstream_bad_response", "The model server sent a line longer than we accept.", 502
)
UPSTREAM_EMPTY = Problem(
    "upstream_empty",
    "The model finished without writing anything. Please try again.",
    502,
)

# --- Request bodies ---------------------------------------------------------------
BODY_TIMEOUT = Problem(
    "body_timeout", "The request body did not arrive in time.", 408, retryable=True
)
TOO_MANY_UPLOADS = Problem(
    "server_busy", "You have too many requests sending their bodies. Please retry.", 503, True, 2
)
UNAUTHORIZED = Problem("unauthorized", "/metrics needs the bearer token.", 401, False)

# --- Practice history -------------------------------------------------------------
HISTORY_DOWN = Problem(
    "history_unavailable", "Your practice history is unavailable right now.", 503, True, 5
)
HISTORY_OFF = Problem("history_off", "Practice history is turned off on this server.", 404, False)
ATTEMPT_NOT_FOUND = Problem("attempt_not_found", "No such attempt.", 404, False)
RECORDING_NOT_FOUND = Problem(
    "recording_not_found", "No recording is kept for this attempt.", 404, False
)

# --- Mock interviews --------------------------------------------------------------
INTERVIEW_NOT_FOUND = Problem("interview_not_found", "No such interview.", 404, False)
INTERVIEW_FINISHED = Problem("interview_finished", "This interview has finished.", 409, False)
INTERVIEW_BUSY = Problem(
    "interview_busy", "Your last answer is still being coached. Wait for it.", 409, True, 2
)
INTERVIEW_ASKING = Problem(
    "interview_asking", "The interviewer is still asking. Answer when it is done.", 409, True, 1
)
STALE_TURN = Problem(
    "stale_turn",
    "That question has already been answered or is not the one being asked now. "
    "Reload the interview to see where it is.",
    409,
    False,
)
NOTHING_TO_DRILL = Problem(
    "nothing_to_drill",
    "A drill on a story's part needs story questions, and the chosen categories have none. "
    "Choose a category of past experiences (behavioral, leadership, ...) or no category.",
    400,
    False,
)
SHARE_NOT_FOUND = Problem("share_not_found", "No such shared report.", 404, False)
SHARE_EXPIRED = Problem("share_expired", "This shared report has expired.", 410, False)
REPORT_NOT_READY = Problem(
    "report_not_ready", "The report is written when the interview ends.", 409, False
)

# --- Voice ------------------------------------------------------------------------
AUDIO_TYPE = Problem(
    "unsupported_media_type",
    "Send the recording as audio/webm, audio/ogg, audio/wav, audio/mp4 or audio/mpeg.",
    415,
    False,
)
AUDIO_UNREADABLE = Problem(
    "audio_unreadable", "The recording could not be decoded as audio.", 422, False
)
AUDIO_TOO_LONG = Problem("audio_too_long", "The recording is longer than allowed.", 413, False)
KEPT_AUDIO_FULL = Problem(
    "kept_audio_full",
    "You keep as many recordings as allowed. Delete some attempts to keep this one.",
    413,
    False,
)
SERVER_AUDIO_FULL = Problem(
    "storage_full", "This server keeps no more recordings for now.", 507, True, 3600
)
TRANSCRIPTION_OFF = Problem(
    "transcription_unavailable", "Speech recognition is turned off on this server.", 404, False
)
SPEECH_UNAVAILABLE = Problem(
    "speech_unavailable", "No speech backend is configured on this server.", 404, False
)
LIVE_AUDIO_TYPE = Problem(
    "unsupported_media_type",
    "Send live audio as audio/L16;rate=16000 (16 kHz mono 16-bit PCM, RFC 2586): a WebM "
    "piece after the first cannot be decoded on its own.",
    415,
    False,
)
LIVE_NOT_FOUND = Problem(
    "transcription_not_found", "No such live transcription, or it has ended.", 404, False
)
LIVE_ABANDONED = Problem(
    "transcription_abandoned", "No audio came for too long: the session was closed.", 408, True
)
LIVE_FAILED = Problem("transcription_failed", "The transcription failed.", 500, True)
LIVE_OUT_OF_ORDER = Problem(
    "pieces_out_of_order", "A piece came too far ahead of the ones still missing.", 400, False
)
