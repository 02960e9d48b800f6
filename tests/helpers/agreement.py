"""The hand-labelled answers (tests/data), and agreement of any judge with their labels.

The measuring itself is `interview_app.evaluate`'s (what `scripts/evaluate` prints);
this module lets a test judge the answers its own way (a model path whose upstream
returns the labels, say).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from interview_app.evaluate import HELD_OUT, LABELLED, measure

Judge = Callable[[str, str, str], dict[str, Any]]


def answers() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(LABELLED.read_text())["answers"]
    return data


def held_out() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(HELD_OUT.read_text())["answers"]
    return data


def agreement(judge: Judge) -> dict[str, float]:
    """Share of answers where `judge` agrees with the labels, per field and on the score."""
    items = answers()
    figures = measure(items, [judge(i["question"], i["answer"], i["language"]) for i in items])
    return {k: v for k, v in figures.items() if k not in ("bias", "confusion")}
