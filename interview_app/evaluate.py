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
# The held-out half labelled a second time by an independent reader (docs/labelling.md only).
SECOND_READER = DATA / "heldout_second_reader.json"
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
    figures["kappa"] = weighted_kappa(
        [(i["labels"]["score"], g["score"]) for i, g in zip(items, judged, strict=True)]
    )
    return figures


def weighted_kappa(pairs: list[tuple[int, int]], low: int = 1, high: int = 5) -> float:
    """Cohen's kappa with quadratic weights of two raters' scores (1.0: the same; 0: no
    better than chance), the usual figure for an ordinal scale such as 1-5."""
    k, n = high - low + 1, len(pairs)
    observed = [[0.0] * k for _ in range(k)]
    for a, b in pairs:
        observed[a - low][b - low] += 1
    rows = [sum(r) for r in observed]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    disagree = expected = 0.0
    for i in range(k):
        for j in range(k):
            weight = (i - j) ** 2 / (k - 1) ** 2
            disagree += weight * observed[i][j]
            expected += weight * rows[i] * cols[j] / n
    return 1.0 - disagree / expected if expected else 1.0


def cohen_kappa(a: list[bool], b: list[bool]) -> float:
    """Cohen's kappa of two readers' yes/no labels (1.0 when both are constant and agree)."""
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    return 1.0 if chance == 1 else (observed - chance) / (1 - chance)


def readers(items: list[dict[str, Any]], second: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """How often two readers agree, per field (with Cohen's kappa) and on the score (exact,
    within one, quadratic weighted kappa, the second reader's bias): the ceiling a rubric
    can be held to. STAR fields over the answers both call stories."""
    out: dict[str, Any] = {}
    for name in FIELDS:
        pairs = [(_get(i["labels"], name), _get(second[i["id"]], name)) for i in items
                 if not name.startswith("star.")
                 or (i["labels"]["behavioural"] and second[i["id"]]["behavioural"])]  # fmt: skip
        a, b = [p[0] for p in pairs], [p[1] for p in pairs]
        out[name] = (sum(x == y for x, y in pairs) / len(pairs), cohen_kappa(a, b))
    scores = [(i["labels"]["score"], second[i["id"]]["score"]) for i in items]
    out["score (exact)"] = sum(a == b for a, b in scores) / len(scores)
    out["score (within 1)"] = sum(abs(a - b) <= 1 for a, b in scores) / len(scores)
    out["kappa"] = weighted_kappa(scores)
    out["bias"] = sum(b - a for a, b in scores) / len(scores)
    return out


def spoken_forms(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The metamorphic property: each answer against itself as a recogniser writes it
    (Korean without punctuation, numbers as words; `tests/helpers/spoken.py`), read by the
    rules: how often the parts and score stay the same, and which move more than a point."""
    from interview_app.coaching.analysis import analyse
    from tests.helpers.spoken import spoken

    same: Counter[str] = Counter()
    total: Counter[str] = Counter()
    far: list[str] = []
    for item in items:
        lang = item["language"]
        typed = analyse(item["question"], item["answer"], lang)
        said = analyse(item["question"], spoken(item["answer"], lang), lang)
        total[lang] += 1
        same[lang] += (typed.star, typed.quantified_result, typed.score) == (
            said.star, said.quantified_result, said.score)  # fmt: skip
        if abs(typed.score - said.score) > 1:
            far.append(item["id"])
    return {"same": {k: same[k] / total[k] for k in total}, "far": far, "n": sum(total.values())}


def table(figures: dict[str, Any]) -> str:
    """The agreement, the bias and the confusion matrix, as Markdown."""
    rows = [f"| {name} | {figures[name]:.0%} |" for name in (*FIELDS, "score (exact)",
                                                             "score (within 1)")]  # fmt: skip
    lines = ["| field | agreement |", "|---|---|", *rows, ""]
    lines.append(f"Mean signed error of the score (bias): {figures['bias']:+.2f}")
    lines.append(f"Quadratic weighted kappa of the score: {figures['kappa']:.2f}")
    lines += ["", "| label \\ given | 1 | 2 | 3 | 4 | 5 |", "|---|---|---|---|---|---|"]
    for label in range(1, 6):
        cells = " | ".join(str(figures["confusion"][(label, g)]) for g in range(1, 6))
        lines.append(f"| {label} | {cells} |")
    return "\n".join(lines)


def card(code: dict[str, Any], two: dict[str, Any]) -> str:
    """The reliability card: the two readers' agreement beside the rubric's with the first
    reader's labels, per field and on the score."""
    lines = ["| field | two readers (kappa) | rubric and labels |", "|---|---|---|"]
    for name in FIELDS:
        agree, kappa = two[name]
        lines.append(f"| {name} | {agree:.0%} ({kappa:.2f}) | {code[name]:.0%} |")
    for name in ("score (exact)", "score (within 1)"):
        lines.append(f"| {name} | {two[name]:.0%} | {code[name]:.0%} |")
    lines.append(f"| score kappa (quadratic) | {two['kappa']:.2f} | {code['kappa']:.2f} |")
    lines.append(f"| score bias | {two['bias']:+.2f} | {code['bias']:+.2f} |")
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
    if held_out and SECOND_READER.exists():
        second = {a["id"]: a["labels"] for a in json.loads(SECOND_READER.read_text())["answers"]}
        lines += ["", card(measure(items, judged), readers(items, second))]
    forms = spoken_forms(items)
    lines += [
        "",
        f"Spoken forms (the same answers as a recogniser writes them): same parts "
        f"and score for {forms['same']['en']:.0%} of English and {forms['same']['ko']:.0%} "
        f"of Korean answers; {len(forms['far'])} of {forms['n']} more than a point apart.",
    ]
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
