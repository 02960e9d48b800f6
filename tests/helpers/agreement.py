"""Agreement between a rubric source and the hand-labelled answers (tests/data).

`python -m tests.helpers.agreement` prints the table the README quotes; the test
suite recomputes it and checks the README still says the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

LABELLED = Path(__file__).resolve().parents[1] / "data" / "labelled_answers.json"
FIELDS = (
    "star.situation",
    "star.task",
    "star.action",
    "star.result",
    "first_person",
    "quantified_result",
    "behavioural",
    "conclusion_first",
)
Judge = Callable[[str, str, str], dict[str, Any]]


def answers() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(LABELLED.read_text())["answers"]
    return data


def _get(d: dict[str, Any], name: str) -> Any:
    for part in name.split("."):
        d = d[part]
    return d


def measure(judge: Judge) -> dict[str, float]:
    """Share of answers where `judge` agrees with the labels, per field and on the score."""
    items = answers()
    agree = dict.fromkeys(FIELDS, 0)
    exact = within = 0
    for item in items:
        got = judge(item["question"], item["answer"], item["language"])
        labels = item["labels"]
        for name in FIELDS:
            # STAR parts are judged only where STAR applies.
            if name.startswith("star.") and not labels["behavioural"]:
                agree[name] += 1
                continue
            agree[name] += _get(got, name) == _get(labels, name)
        exact += got["score"] == labels["score"]
        within += abs(got["score"] - labels["score"]) <= 1
    n = len(items)
    out = {name: agree[name] / n for name in FIELDS}
    out["score (exact)"] = exact / n
    out["score (within 1)"] = within / n
    return out


def table(judge: Judge) -> str:
    """The agreement as a Markdown table."""
    figures = measure(judge)
    rows = [f"| {name} | {value:.0%} |" for name, value in figures.items()]
    return "\n".join(["| field | agreement |", "|---|---|", *rows])


def rules(question: str, answer: str, language: str) -> dict[str, Any]:
    from interview_app.coaching.analysis import analyse

    return analyse(question, answer, language).as_dict()  # type: ignore[arg-type]


if __name__ == "__main__":
    print(f"{len(answers())} labelled answers\n")  # noqa: T201
    print(table(rules))  # noqa: T201
