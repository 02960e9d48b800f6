"""The anchored scale: what each score 1-5 means as behaviour an observer can see.

A behaviourally anchored rating scale, as structured-interview guides write them:
each point is described by what the answer does, not by an adjective. The offline
rules (`analysis.py`) and the model (`rubric.py`'s prompt) are held to the same
anchors; the page's "how it is scored" note and the README show them. The caps
(`cap`) are the part of the anchors a checklist can check by itself.
"""

from __future__ import annotations

from typing import Any

from interview_app.coaching.request import Language

ANCHORS: dict[int, dict[Language, str]] = {
    1: {
        "en": "No answer to build on yet: one or two sentences, or no situation, action or "
        "result of the candidate's own.",
        "ko": "아직 다듬을 뼈대가 없습니다: 한두 문장뿐이거나, 본인의 상황·행동·결과가 없습니다.",
    },
    2: {
        "en": 'A situation, but no action of the candidate\'s own (only "we", or what '
        "should happen), or a very short answer.",
        "ko": "상황은 있지만 본인의 행동이 없습니다('저희'만 있거나 할 일만 말함), "
        "또는 매우 짧습니다.",
    },
    3: {
        "en": "The candidate's own action, but no result (or only a vague one), or most of "
        "the answer spent on context.",
        "ko": "본인의 행동은 있지만 결과가 없거나 모호합니다. 또는 답변 대부분이 배경 설명입니다.",
    },
    4: {
        "en": "Situation, task, the candidate's own action and a result, with at most one "
        "gap: the result has no number, or the point is not first, or a few fillers.",
        "ko": "상황·과제·본인의 행동·결과가 있고 빈틈은 하나 정도입니다: 결과에 숫자가 없거나, "
        "결론이 앞에 없거나, 군말이 조금 있습니다.",
    },
    5: {
        "en": 'All of 4, with a measured result, spoken as "I", the point first, in one to '
        "two minutes: almost nothing to fix.",
        "ko": "4점의 모든 것에 더해 결과를 숫자로 말하고, '제가'로 말하며, 결론이 먼저 나오고, "
        "1~2분 길이입니다: 고칠 것이 거의 없습니다.",
    },
}


def text(language: Language) -> str:
    """The anchors as lines for a prompt or a page: `5: ...`, highest first."""
    return "\n".join(
        f"{score}: {ANCHORS[score][language]}" for score in sorted(ANCHORS, reverse=True)
    )


def cap(behavioural: bool, action: bool, result: bool, short: bool) -> int:
    """The highest score the anchors allow for what a checklist found."""
    if short:
        return 2
    if behavioural and not action:
        return 2
    if behavioural and not result:
        return 3
    return 5


def as_json() -> dict[str, Any]:
    """The anchors for the page (`GET /api/rubric`)."""
    return {"anchors": [{"score": s, **ANCHORS[s]} for s in sorted(ANCHORS, reverse=True)]}
