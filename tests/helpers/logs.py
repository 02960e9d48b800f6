"""Capturing the app's own log records.

The app's logger does not propagate to the root logger (it writes its own JSON
lines), so pytest's `caplog` never sees its records: a check on `caplog` alone
would pass whatever the app logged. This handler sits on the app's logger itself.
"""

from __future__ import annotations

import logging
from typing import Any


class Records(logging.Handler):
    """Every record the `interview_app` loggers emit while installed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        """Everything logged, messages and extra fields, as one string."""
        return "\n".join(f"{r.getMessage()} {vars(r)}" for r in self.records)

    def requests(self, **match: Any) -> list[logging.LogRecord]:
        """The request log lines whose fields equal `match`."""
        return [
            r
            for r in self.records
            if r.getMessage() == "request"
            and all(getattr(r, k, None) == v for k, v in match.items())
        ]
