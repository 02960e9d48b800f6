"""The offline analysis, pinned on realistic answers in both languages."""

from __future__ import annotations

import pytest

from interview_app.analysis import analyse

BEHAVIOURAL_EN = "Tell me about a time you improved a system."
BEHAVIOURAL_KO = "시스템을 개선한 경험을 말해 주세요."

STRONG_EN = (
    "I cut our checkout latency by 60% in six weeks. "
    "At my previous company, the checkout page took 2 seconds to load and customers were "
    "abandoning carts. My task was to bring it under 800 ms before the holiday sale. "
    "I profiled the service, found that we made twelve sequential database calls, and I "
    "rewrote them as two batched queries. I then added a cache for the product catalogue "
    "and set up an alert on the p95. As a result, latency dropped from 2 s to 800 ms and "
    "conversion increased by 4%, which was worth about $200k that quarter."
)
WE_ONLY_EN = (
    "Um, so at my last job there was a situation where the team was, like, really slow. "
    "We had a lot of meetings and you know, we talked about it. We decided to change the "
    "process and we used a new tool. Uh, it was better after that, basically."
)
STRONG_KO = (
    "결론부터 말씀드리면, 제가 배포 파이프라인을 자동화해 배포 시간을 40분에서 5분으로 "
    "줄였습니다. 당시 저희 팀은 수동 배포 때문에 주 2회 장애가 있었습니다. 제 역할은 "
    "배포 안정성을 높이는 것이었습니다. 제가 CI 파이프라인을 설계하고 롤백 스크립트를 "
    "구현했습니다. 그 결과 장애가 월 1회로 감소했고 팀의 배포 횟수는 3배 증가했습니다."
)
WEAK_KO = (
    "음... 그, 저희 팀이 예전에 프로젝트를 할 때 상황이 좀 어려웠습니다. 당시 회사에서 "
    "일정이 많이 밀려 있었고 팀원들이 다들 바빴습니다. 어 뭐 그래서 저희가 같이 "
    "열심히 했습니다. 잘 마무리되었습니다."
)


def test_strong_english_answer() -> None:
    a = analyse(BEHAVIOURAL_EN, STRONG_EN, "en")
    assert a.star == {"situation": True, "task": True, "action": True, "result": True}
    assert a.first_person and a.quantified_result and a.conclusion_first
    assert a.filler_words == 0
    assert a.score >= 4
    assert not any("STAR" in s for s in a.suggestions)


def test_we_only_rambling_english_answer() -> None:
    a = analyse(BEHAVIOURAL_EN, WE_ONLY_EN, "en")
    assert a.first_person is False
    assert a.quantified_result is False
    assert a.filler_words == 5  # um, like, you know, uh, basically
    assert a.star["result"] is False
    assert a.score <= 2
    joined = " ".join(a.suggestions)
    assert 'never "I"' in joined and "number" in joined and "filler" in joined


def test_strong_korean_answer() -> None:
    a = analyse(BEHAVIOURAL_KO, STRONG_KO, "ko")
    assert a.star == {"situation": True, "task": True, "action": True, "result": True}
    assert a.first_person and a.quantified_result and a.conclusion_first
    assert a.filler_words == 0
    assert a.score >= 4


def test_situation_heavy_korean_answer() -> None:
    a = analyse(BEHAVIOURAL_KO, WEAK_KO, "ko")
    assert a.first_person is False  # only 저희
    assert a.quantified_result is False
    assert a.filler_words == 4  # 음, 그, 어, 뭐
    assert a.situation_share > 0.4
    assert a.star["action"] is False and a.star["result"] is False
    assert a.score <= 2
    joined = " ".join(a.suggestions)
    assert "상황 설명" in joined and "'제가'" in joined and "두괄식" in joined


@pytest.mark.parametrize(
    ("text", "lang", "quantified"),
    [
        ("I reduced costs by 30%.", "en", True),
        ("I joined in 2021 and stayed.", "en", False),
        ("We saved $40k a year.", "en", True),
        ("Throughput doubled.", "en", True),
        ("매출이 두 배로 늘었습니다.", "ko", True),
        ("응답 시간을 300ms 줄였습니다.", "ko", True),
        ("사용자 1,200명이 늘었습니다.", "ko", True),
        ("2021년에 입사했습니다.", "ko", False),
    ],
)
def test_quantified_result(text: str, lang: str, quantified: bool) -> None:
    assert analyse("Why?", text, lang).quantified_result is quantified  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "lang", "fillers"),
    [
        ("I would like to join.", "en", 0),
        ("Um, I, uh, think so.", "en", 2),
        ("그 결과 매출이 늘었습니다.", "ko", 0),
        ("그... 음 어 잘 모르겠습니다", "ko", 3),
    ],
)
def test_filler_words(text: str, lang: str, fillers: int) -> None:
    assert analyse("Why?", text, lang).filler_words == fillers  # type: ignore[arg-type]


def test_length_findings() -> None:
    short = analyse(BEHAVIOURAL_EN, "I fixed it.", "en")
    assert short.word_count == 3 and any("short" in s for s in short.suggestions)
    long = analyse(BEHAVIOURAL_EN, "I built it. " * 200, "en")
    assert any("runs long" in s for s in long.suggestions)


def test_technical_questions_are_not_scored_on_star() -> None:
    a = analyse("What is a hash map?", "A hash map stores 3 keys in O(1) time.", "en")
    assert not any("STAR" in s for s in a.suggestions)


def test_as_dict_has_the_contract_keys() -> None:
    d = analyse(BEHAVIOURAL_EN, STRONG_EN, "en").as_dict()
    assert set(d) == {
        "star",
        "first_person",
        "quantified_result",
        "filler_words",
        "word_count",
        "score",
    }
    assert 1 <= d["score"] <= 5
