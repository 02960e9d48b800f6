"""The offline coach's texts: feedback built from an `Analysis`, and answer templates.

Each finding of the analysis is phrased with a concrete suggestion; a model answer
is a labelled template shaped by the question, with [brackets] to fill.
"""

from __future__ import annotations

from interview_app.coaching.analysis import Analysis
from interview_app.coaching.request import CoachingRequest


def feedback_en(a: Analysis) -> str:
    """The offline coach's feedback text, in English."""
    out = [f"**Score: {a.score}/5** (offline coach: a rule-based reading of your answer)\n"]
    out.append("\n**What landed**\n")
    out += [f"- {line}\n" for line in a.strengths] or ["- You gave an answer to build on.\n"]
    out.append("\n**What to sharpen**\n")
    out += [f"- {line}\n" for line in a.suggestions] or ["- Little to fix: rehearse it aloud.\n"]
    out.append("\n**A stronger shape**\n")
    out.append(
        "1. Conclusion: one sentence on what you achieved.\n"
        "2. Situation and task: two sentences at most.\n"
        "3. Action: what *you* did, step by step, with the reason for each choice.\n"
        "4. Result: a number (%, time, money, users) and what you learned.\n"
    )
    return "".join(out)


def feedback_ko(a: Analysis) -> str:
    """The offline coach's feedback text, in Korean."""
    out = [f"**점수: {a.score}/5** (오프라인 코치: 답변을 규칙으로 분석한 결과입니다)\n"]
    out.append("\n**잘한 점**\n")
    out += [f"- {line}\n" for line in a.strengths] or ["- 다듬어 나갈 답변의 뼈대가 있습니다.\n"]
    out.append("\n**다듬을 점**\n")
    out += [f"- {line}\n" for line in a.suggestions] or [
        "- 고칠 점이 거의 없습니다. 소리 내어 연습해 보세요.\n"
    ]
    out.append("\n**더 나은 구성**\n")
    out.append(
        "1. 결론: 무엇을 이뤘는지 한 문장으로 먼저 말하기 (두괄식).\n"
        "2. 상황과 과제: 두 문장 이내로.\n"
        "3. 행동: *제가* 한 일을 단계별로, 각 선택의 이유와 함께.\n"
        "4. 결과: 숫자(%, 시간, 비용, 사용자 수)와 배운 점.\n"
    )
    return "".join(out)


def outline(request: CoachingRequest) -> str:
    """The offline coach's answer template for a question."""
    q = " ".join(request.question.split())
    role = f" ({request.role})" if request.role else ""
    if request.language == "ko":
        head = (
            f"> 오프라인 모드의 **답변 템플릿**입니다. 대괄호를 본인의 경험과 숫자로 채우세요.\n\n"
            f"**질문**{role}: {q}\n\n"
        )
        if request.behavioural:
            return head + (
                '1. **결론 먼저**: "저는 [상황]에서 [행동]으로 [숫자 결과]를 만들었습니다."\n'
                "2. **상황 (S)**: [언제, 어디서, 어떤 문제였는지 한두 문장]\n"
                "3. **과제 (T)**: [제가 맡은 책임과 목표]\n"
                "4. **행동 (A)**: 제가 [첫 번째 행동]을 했고, "
                "[이유] 때문에 [두 번째 행동]을 택했습니다.\n"
                "5. **결과 (R)**: [지표]가 [몇 %/몇 배] 개선되었고, [배운 점]을 얻었습니다.\n"
                "6. **연결**: 이 경험을 [지원 직무]에서 [어떻게] 살리겠습니다.\n"
            )
        return head + (
            '1. **결론 먼저**: "[질문에 대한 한 문장 답]"\n'
            "2. **근거 1**: [이유와 그것을 보여주는 제 경험]\n"
            "3. **근거 2**: [두 번째 이유, 가능하면 숫자와 함께]\n"
            "4. **사례**: [짧은 실제 사례: 상황, 제 행동, 결과]\n"
            "5. **마무리**: [지원 직무와 연결하는 한 문장]\n"
        )
    head = (
        "> **Answer template** from offline mode. Fill the [brackets] with your own "
        "facts and numbers.\n\n"
        f"**Question**{role}: {q}\n\n"
    )
    if request.behavioural:
        return head + (
            '1. **Headline**: "At [company], I [action] and [quantified result]."\n'
            "2. **Situation**: [when, where, what was at stake: one or two sentences]\n"
            "3. **Task**: [what you were responsible for and the goal]\n"
            "4. **Action**: I [first step], then I [second step] because [reason].\n"
            "5. **Result**: [metric] improved by [number], and I learned [lesson].\n"
            "6. **Bridge**: How this prepares you for [the role].\n"
        )
    return head + (
        '1. **Answer first**: "[your one-sentence answer]"\n'
        "2. **Reason 1**: [why, with evidence from your experience]\n"
        "3. **Reason 2**: [a second reason, with a number if you can]\n"
        "4. **Example**: [a short real example: situation, your action, the result]\n"
        "5. **Close**: [one sentence tying it to the role]\n"
    )
