"""Rule-based analysis of an interview answer, in Korean or English.

Hand-written because no library reads interview answers for STAR structure; the
rules are plain regular expressions over sentences, tuned on typical answers and
pinned by table tests. Each finding comes with a concrete suggestion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from interview_app.coaching.request import Language, is_behavioural

_I = re.IGNORECASE
_SENTENCE = re.compile(r"(?<=[.!?。…])\s+|\n+")

_PARTS: dict[str, dict[str, re.Pattern[str]]] = {
    "en": {
        "result": re.compile(
            r"\b(result(ed|s)?|outcome|reduc\w*|increas\w*|improv\w*|sav(ed|ing)|cut|grew|"
            r"boost\w*|achiev\w*|led to|dropped|raised|won|shipped|delivered|halved|doubled)\b",
            _I,
        ),
        "action": re.compile(
            r"\b(I|we)\s+(then\s+|first\s+|quickly\s+)?(\w+ed|built|led|wrote|made|took|ran|"
            r"set up|drove|chose|began|started|spoke|met|brought|sat down|went)\b",
            _I,
        ),
        "task": re.compile(
            r"\b(my (task|job|goal|role|responsibility)|I was (responsible|asked|tasked|"
            r"assigned|in charge)|I (needed|had) to|(the|our) goal was|we (needed|had) to|"
            r"objective|deadline)\b",
            _I,
        ),
        "situation": re.compile(
            r"\b(when I was|at my (previous|last|former)|in my (previous|last)|while "
            r"(working|I was)|last year|in \d{4}|our team (was|had)|the (company|project|"
            r"team|client) (was|had)|situation|context|background|we were|there was)\b",
            _I,
        ),
    },
    "ko": {
        "result": re.compile(
            r"결과|성과|감소|증가|개선되|향상|단축|달성|절감|늘었|줄었|늘렸|줄였|높였|낮췄|"
            r"올렸|인정받|해결되|줄어|늘어"
        ),
        "action": re.compile(
            r"도입|설계|개발|구현|분석|제안|구축|적용|자동화|설득|조율|리팩터링|시도|실행|주도|"
            r"작성했|만들었|바꿨|정리했|진행했|개선했|찾아|대화|논의"
        ),
        "task": re.compile(r"목표|과제|역할|맡|담당|책임|해야 했|해야 하는|요구|마감"),
        "situation": re.compile(
            r"당시|상황|때|시절|프로젝트|회사에서|근무|재직|팀에서|인턴|학교|동아리|배경|있었"
        ),
    },
}
_ORDER = ("result", "action", "task", "situation")

_FIRST = {
    "en": re.compile(r"\b(I|I'm|I've|I'd|me|myself)\b", _I),
    "ko": re.compile(r"저는|제가|저의|나는|내가|제 "),
}
_WE = {
    "en": re.compile(r"\b(we|our|us|the team)\b", _I),
    "ko": re.compile(r"저희|우리 팀|우리는|우리가|팀이|팀원들이"),
}
_NUMBER = {
    "en": re.compile(
        r"\d[\d,.]*\s*(%|percent|x\b|times|ms\b|milliseconds|seconds|minutes|hours|days|"
        r"weeks|months|users|customers|people|engineers|k\b|m\b|million|billion|thousand|"
        r"dollars|requests|tickets|bugs|points|hires)|[$€£¥₩]\s?\d|"
        r"\b(doubled|tripled|halved|twice as)\b",
        _I,
    ),
    "ko": re.compile(
        r"\d[\d,.]*\s*(%|퍼센트|배|명|건|ms|초|분|시간|일|주|개월|달|원|만|억|천|개|번|회|점|위)|"
        r"(두|세|네|다섯|열) 배|절반"
    ),
}
_FILLER = {
    "en": re.compile(r"\b(um+|uh+|erm|you know|i mean|kind of|sort of|basically)\b|\blike,", _I),
    "ko": re.compile(r"(?<![가-힣])(?:음+|어+|뭐)(?![가-힣])|(?<![가-힣])그(?=\s*(?:\.{2,}|…|,))"),
}
_CONCLUSION = {
    "en": re.compile(
        r"^(in short|in a nutshell|the short answer|my answer is|yes\b|no\b|simply put|"
        r"to sum up|the key|i (believe|think|would|led|built|reduced|increased|improved|"
        r"saved|turned|resolved|delivered))",
        _I,
    ),
    "ko": re.compile(r"^(결론부터|한마디로|핵심은|요약하면|제 답은|네[,.]|아니요)"),
}
# Spoken for one to two minutes; the advice texts quote these same numbers.
_LENGTH = {"en": (150, 300), "ko": (80, 200)}

_TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "star_ok": "Your answer covers all of STAR: situation, task, action and result.",
        "star_missing": "Add the missing STAR part(s): {parts}. {hint}",
        "balance": "About {pct}% of your words set the scene. Cut the situation to two "
        "sentences and spend the time on what you did and what changed.",
        "first_ok": "You own your actions in the first person.",
        "first_missing": 'You say "we" {we} times but never "I". Say what *you* did: '
        '"I proposed…", "I built…".',
        "number_ok": "You quantify the result, which makes it credible.",
        "number_missing": "Put a number on the result: %, time saved, money, users "
        '("cut response time from 2 s to 400 ms").',
        "filler": "{n} filler words (um, uh, like, you know). Pause silently instead.",
        "filler_ok": "Clean delivery: no filler words to speak of.",
        "conclusion_ok": "You lead with the point, so the interviewer knows where you are going.",
        "conclusion": "Open with your conclusion in one sentence, then tell the story.",
        "short": "At {n} words it is short: aim for {low}-{high} (one to two minutes spoken).",
        "long": "At {n} words it runs long: aim for {low}-{high} and cut the background first.",
        "hints": {
            "situation": "Where and when was it?",
            "task": "What were you responsible for?",
            "action": "What exactly did you do?",
            "result": "What changed because of it?",
        },
        "names": {"situation": "Situation", "task": "Task", "action": "Action", "result": "Result"},
    },
    "ko": {
        "star_ok": "상황, 과제, 행동, 결과(STAR)가 모두 들어 있습니다.",
        "star_missing": "빠진 STAR 요소를 보충하세요: {parts}. {hint}",
        "balance": "답변의 약 {pct}%가 상황 설명입니다. 상황은 두 문장으로 줄이고 "
        "제가 한 행동과 결과에 시간을 쓰세요.",
        "first_ok": "'제가'로 본인의 행동을 분명히 말합니다.",
        "first_missing": "'저희'/'우리 팀'이 {we}번 나오지만 '제가'는 없습니다. "
        '"제가 제안했습니다", "제가 구현했습니다"처럼 본인이 한 일을 말하세요.',
        "number_ok": "결과를 숫자로 보여 주어 설득력이 있습니다.",
        "number_missing": "결과를 숫자로 말하세요: %, 단축된 시간, 비용, 사용자 수 "
        '("응답 시간을 2초에서 0.4초로 줄였습니다").',
        "filler": "군말(음, 어, 그, 뭐)이 {n}번 있습니다. 군말 대신 잠깐 멈추세요.",
        "filler_ok": "군말 없이 깔끔합니다.",
        "conclusion_ok": "결론을 먼저 말해(두괄식) 면접관이 흐름을 따라가기 쉽습니다.",
        "conclusion": "두괄식으로, 결론을 한 문장으로 먼저 말한 뒤 이야기를 풀어 가세요.",
        "short": "{n}어절로 짧습니다. {low}~{high}어절(1~2분 분량)을 목표로 하세요.",
        "long": "{n}어절로 깁니다. {low}~{high}어절로, 배경 설명부터 줄이세요.",
        "hints": {
            "situation": "언제, 어디서 있었던 일인가요?",
            "task": "제가 맡은 책임은 무엇이었나요?",
            "action": "구체적으로 무엇을 했나요?",
            "result": "그 덕분에 무엇이 달라졌나요?",
        },
        "names": {"situation": "상황", "task": "과제", "action": "행동", "result": "결과"},
    },
}


@dataclass
class Analysis:
    """What the analysis found, with findings phrased for the candidate."""

    star: dict[str, bool]
    first_person: bool
    quantified_result: bool
    filler_words: int
    word_count: int
    score: int
    situation_share: float
    conclusion_first: bool
    strengths: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The `analysis` object of the `done` event."""
        return {
            "star": dict(self.star),
            "first_person": self.first_person,
            "quantified_result": self.quantified_result,
            "filler_words": self.filler_words,
            "word_count": self.word_count,
            "score": self.score,
        }


def _classify(sentence: str, lang: Language) -> str | None:
    for part in _ORDER:
        if _PARTS[lang][part].search(sentence):
            return part
    return None


def analyse(question: str, answer: str, lang: Language) -> Analysis:
    """Analyse `answer` to `question` in language `lang`."""
    text = _TEXT[lang]
    sentences = [s.strip() for s in _SENTENCE.split(answer) if s.strip()]
    words = len(answer.split())
    star = dict.fromkeys(("situation", "task", "action", "result"), False)
    context_words = 0
    for sentence in sentences:
        part = _classify(sentence, lang)
        if part:
            star[part] = True
        if part == "situation" or (part is None and not star["action"]):
            context_words += len(sentence.split())
    share = context_words / words if words else 0.0
    first = len(_FIRST[lang].findall(answer))
    we = len(_WE[lang].findall(answer))
    quantified = bool(_NUMBER[lang].search(answer))
    fillers = len(_FILLER[lang].findall(answer))
    opener = sentences[0] if sentences else ""
    conclusion = bool(
        _CONCLUSION[lang].search(opener)
        or _PARTS[lang]["result"].search(opener)
        or _NUMBER[lang].search(opener)
    )
    low, high = _LENGTH[lang]
    behavioural = is_behavioural(question)

    good: list[str] = []
    fix: list[str] = []
    checks: list[tuple[float, bool]] = []
    if behavioural:
        missing = [p for p, ok in star.items() if not ok]
        checks += [(0.5, ok) for ok in star.values()]
        if missing:
            names = ", ".join(text["names"][p] for p in missing)
            fix.append(text["star_missing"].format(parts=names, hint=text["hints"][missing[0]]))
        else:
            good.append(text["star_ok"])
        balanced = share <= 0.4 or words < 20
        checks.append((0.5, balanced))
        if not balanced:
            fix.append(text["balance"].format(pct=round(share * 100)))
    checks.append((1.0, first > 0))
    if first:
        good.append(text["first_ok"])
    elif we:
        fix.append(text["first_missing"].format(we=we))
    checks.append((1.0, quantified))
    (good if quantified else fix).append(text["number_ok" if quantified else "number_missing"])
    checks.append((0.5, fillers <= 2))
    if fillers > 2:
        fix.append(text["filler"].format(n=fillers))
    elif words >= 30:
        good.append(text["filler_ok"])
    checks.append((0.5, conclusion))
    (good if conclusion else fix).append(text["conclusion_ok" if conclusion else "conclusion"])
    checks.append((0.5, low <= words <= high))
    if words < low:
        fix.append(text["short"].format(n=words, low=low, high=high))
    elif words > high:
        fix.append(text["long"].format(n=words, low=low, high=high))

    total = sum(w for w, _ in checks)
    earned = sum(w for w, ok in checks if ok)
    score = max(1, min(5, 1 + round(4 * earned / total)))
    # A score must not contradict the checklist beside it: a story with no action by
    # the candidate, or a third of the shortest good answer, is weak whatever else
    # it ticks (the rubric issue recalibrates the weights themselves).
    if (behavioural and not star["action"]) or words < low / 3:
        score = min(score, 2)
    return Analysis(
        star=star,
        first_person=first > 0,
        quantified_result=quantified,
        filler_words=fillers,
        word_count=words,
        score=score,
        situation_share=share,
        conclusion_first=conclusion,
        strengths=good,
        suggestions=fix,
    )
