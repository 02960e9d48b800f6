"""The anchored scale: what each score 1-5 means as behaviour an observer can see.

A behaviourally anchored rating scale, as structured-interview guides write them:
each point is described by what the answer does, not by an adjective. The offline
rules (`analysis.py`) and the model (`rubric.py`'s prompt) are held to the same
anchors; the page's "how it is scored" note and the README show them, and
`docs/labelling.md` restates them as the decisions the labelled answers were labelled
by. The caps and floors (`cap`, `floor`) are the part of the anchors a checklist and
the answer's length can check by themselves: a model score outside them is not used.
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
        "should happen), or a very short answer (under about 50 words).",
        "ko": "상황은 있지만 본인의 행동이 없습니다('저희'만 있거나 할 일만 말함), "
        "또는 매우 짧습니다(약 27어절 미만).",
    },
    3: {
        "en": "The candidate's own action, but no result (or only a vague one), or most of "
        "the answer spent on context.",
        "ko": "본인의 행동은 있지만 결과가 없거나 모호합니다. 또는 답변 대부분이 배경 설명입니다.",
    },
    4: {
        "en": "The candidate's own action and a result, with something of 5 missing: no "
        'number in the result, the point not first, no situation, "we" more than twice as '
        'often as "I", or more than two fillers.',
        "ko": "본인의 행동과 결과가 있지만 5점의 조건 중 빠진 것이 있습니다: 결과에 숫자가 없거나, "
        "결론이 앞에 없거나, 상황 설명이 없거나, '저희'가 '제가'보다 훨씬 많거나, 군말이 "
        "세 번 이상입니다.",
    },
    5: {
        # The scale reads "we" outweighing "I" (a Korean story may name no subject at all).
        "en": "A situation, the candidate's own action and a measured result, the point "
        'first, "we" no more than twice as often as "I", at most two fillers, under two '
        "minutes: almost nothing to fix.",
        "ko": "상황, 본인의 행동, 숫자로 말한 결과가 있고, 결론이 먼저 나오며, '저희'가 '제가'보다 "
        "훨씬 많지 않고, 군말은 두 번 이하, 2분 이내입니다: 고칠 것이 거의 없습니다.",
    },
}
# Questions that do not ask for a story (motivation, strengths, plans, technical).
DIRECT: dict[int, dict[Language, str]] = {
    1: {
        "en": "A few words (under about 14), or no answer to the question.",
        "ko": "몇 마디뿐이거나(약 9어절 미만) 질문에 답하지 않습니다.",
    },
    2: {
        "en": "A bare claim: no reason and no example.",
        "ko": "주장만 있습니다: 이유도 예시도 없습니다.",
    },
    3: {
        "en": "A reason, but nothing concrete of the candidate's own (no example, past deed "
        'or number), or never "I".',
        "ko": "이유는 있지만 본인의 구체적인 경험(예시, 한 일, 숫자)이 없거나, '제가/저는'이 "
        "없습니다.",
    },
    4: {
        "en": "A reason and a concrete example of the candidate's own, with something of 5 "
        "missing: the answer not first, too short or too long, or more than two fillers.",
        "ko": "이유와 본인의 구체적인 예시가 있지만 5점의 조건 중 빠진 것이 있습니다: 답이 앞에 "
        "없거나, 너무 짧거나 길거나, 군말이 세 번 이상입니다.",
    },
    5: {
        "en": "The answer first, a concrete example of the candidate's own, 40-200 words, at "
        "most two fillers.",
        "ko": "답이 먼저 나오고, 본인의 구체적인 예시가 있으며, 25~120어절, 군말은 두 번 "
        "이하입니다.",
    },
}
_HEADS: dict[Language, tuple[str, str]] = {
    "en": ("A story (a question about a past experience):", "Any other question:"),
    "ko": ("경험을 묻는 질문(STAR):", "그 밖의 질문:"),
}


def text(language: Language) -> str:
    """Both scales as lines for a prompt: `5: ...`, highest first."""
    story, other = _HEADS[language]
    lines = [story, *(f"{s}: {ANCHORS[s][language]}" for s in sorted(ANCHORS, reverse=True))]
    lines += [other, *(f"{s}: {DIRECT[s][language]}" for s in sorted(DIRECT, reverse=True))]
    return "\n".join(lines)


def cap(behavioural: bool, action: bool, result: bool, short: bool) -> int:
    """The highest score the anchors allow for what a checklist found."""
    if short:
        return 2
    if behavioural and not action:
        return 2
    if behavioural and not result:
        return 3
    return 5


def floor(behavioural: bool, action: bool, result: bool, sentences: int, short: bool) -> int:
    """The lowest score the anchors allow: a story of three sentences or more with the
    candidate's own action and a result is at least a 2, and at least a 3 unless very short."""
    if not behavioural or sentences <= 2 or not (action and result):
        return 1
    return 2 if short else 3


def as_json() -> dict[str, Any]:
    """The anchors for the page (`GET /api/rubric`): stories, then other questions."""
    return {
        "anchors": [{"score": s, **ANCHORS[s]} for s in sorted(ANCHORS, reverse=True)],
        "direct": [{"score": s, **DIRECT[s]} for s in sorted(DIRECT, reverse=True)],
    }
