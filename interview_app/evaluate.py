"""`scripts/evaluate`: how well a rubric source follows the labels, on the labelled answers.

Runs the held-out half of the hand-labelled answers (`tests/data/heldout_answers.json`,
never tuned on; `--tuning` for the other half) through the backend this environment
configures, exactly as a candidate's feedback runs (the app's own `/api/feedback`,
nothing saved): the offline rules by default, or the model named by `OPENAI_*` with
`RUBRIC=inline` (the default with a model) or `RUBRIC=model`, so that someone
choosing a model can see how well it follows the rubric each way. It prints
per-field agreement, exact and within-one score agreement, the mean
signed error (bias: above 0, scores too high) and the confusion matrix; with a model,
how often its rubric was used and why it fell back to the rules when it did. The
labels follow the written rules in `docs/labelling.md`.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
LABELLED = DATA / "labelled_answers.json"  # the tuning half: the rules were tuned on it
HELD_OUT = DATA / "heldout_answers.json"  # the held-out half: never tuned on
FIELDS = (
    "star.situation", "star.task", "star.action", "star.result", "first_person",
    "quantified_result", "behavioural", "conclusion_first",
)  # fmt: skip


def _get(d: dict[str, Any], name: str) -> Any:
    for part in name.split("."):
        d = d[part]
    return d


def measure(items: list[dict[str, Any]], judged: list[dict[str, Any]]) -> dict[str, Any]:
    """Agreement of `judged` analyses with the items' labels."""
    agree = dict.fromkeys(FIELDS, 0)
    judged_on = dict.fromkeys(FIELDS, 0)
    exact = within = 0
    signed = 0
    confusion: Counter[tuple[int, int]] = Counter()
    for item, got in zip(items, judged, strict=True):
        labels = item["labels"]
        for name in FIELDS:
            # STAR parts are measured over the stories only: counted as agreeing on the
            # other answers, they read 84/91/89/88% where they are 81/89/87/86%.
            if name.startswith("star.") and not labels["behavioural"]:
                continue
            judged_on[name] += 1
            agree[name] += _get(got, name) == _get(labels, name)
        exact += got["score"] == labels["score"]
        within += abs(got["score"] - labels["score"]) <= 1
        signed += got["score"] - labels["score"]
        confusion[(labels["score"], got["score"])] += 1
    n = len(items)
    figures: dict[str, Any] = {name: agree[name] / max(1, judged_on[name]) for name in FIELDS}
    figures["score (exact)"] = exact / n
    figures["score (within 1)"] = within / n
    figures["bias"] = signed / n
    figures["confusion"] = confusion
    return figures


def table(figures: dict[str, Any]) -> str:
    """The agreement, the bias and the confusion matrix, as Markdown."""
    rows = [f"| {name} | {figures[name]:.0%} |" for name in (*FIELDS, "score (exact)",
                                                             "score (within 1)")]  # fmt: skip
    lines = ["| field | agreement |", "|---|---|", *rows, ""]
    lines.append(f"Mean signed error of the score (bias): {figures['bias']:+.2f}")
    lines += ["", "| label \\ given | 1 | 2 | 3 | 4 | 5 |", "|---|---|---|---|---|---|"]
    for label in range(1, 6):
        cells = " | ".join(str(figures["confusion"][(label, g)]) for g in range(1, 6))
        lines.append(f"| {label} | {cells} |")
    return "\n".join(lines)


class _Fallbacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reasons: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        reason = getattr(record, "rubric_fallback", None)
        if reason:
            self.reasons[str(reason)] += 1


def run(environ: dict[str, str] | None = None, *, held_out: bool = True) -> str:
    """The report for the backend `environ` configures (the process environment), on the
    held-out half (the answers the rules were never tuned on) or on the tuning half."""
    import os

    from interview_app import create_app
    from interview_app.settings import Settings

    env = dict(os.environ if environ is None else environ)
    env.update(HISTORY="off", RATE_LIMIT_PER_MINUTE="0", MAX_STREAMS_PER_CLIENT="0",
               OFFLINE_TOKENS_PER_SECOND="0", LOG_LEVEL="error", STT="off")  # fmt: skip
    settings = Settings.from_env(env)
    client = create_app(settings).test_client()
    fallbacks = _Fallbacks()
    # Counted here rather than printed: each fallback's reason, from its warning.
    job_log = logging.getLogger("interview_app.llm.rubric_job")
    job_log.addHandler(fallbacks)
    job_log.setLevel(logging.WARNING)
    job_log.propagate = False
    items: list[dict[str, Any]] = json.loads((HELD_OUT if held_out else LABELLED).read_text())[
        "answers"
    ]
    judged: list[dict[str, Any]] = []
    sources: Counter[str] = Counter()
    for item in items:
        body = {"question": item["question"], "answer": item["answer"],
                "language": item["language"], "save": False}  # fmt: skip
        raw = client.post("/api/feedback", json=body).get_data(as_text=True)
        done = json.loads(raw.rsplit("event: done\n", 1)[1].split("data: ", 1)[1].split("\n")[0])
        judged.append(done["analysis"])
        sources[done["analysis"].get("source", "rules")] += 1
    which = "held-out" if held_out else "tuning"
    lines = [f"{len(items)} labelled answers ({which}), backend {settings.llm_backend}, "
             f"rubric {settings.rubric}", "", table(measure(items, judged))]  # fmt: skip
    if settings.rubric in ("model", "inline"):
        lines += ["", f"The model's rubric was used for {sources['model']} of {len(items)}."]
        for reason, count in fallbacks.reasons.most_common():
            lines.append(f"- fell back to the rules {count} times: {reason}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tuning", action="store_true", help="the tuning half instead of the held-out half"
    )
    print(run(held_out=not parser.parse_args().tuning))  # noqa: T201


if __name__ == "__main__":
    main()
