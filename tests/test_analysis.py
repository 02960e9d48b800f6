"""The offline analysis, pinned on realistic answers in both languages."""

from __future__ import annotations

import pytest

from interview_app.coaching.analysis import analyse
from tests.helpers.answers import (
    BEHAVIOURAL_EN,
    BEHAVIOURAL_KO,
    STRONG_EN,
    STRONG_KO,
    WE_ONLY_EN,
    WEAK_KO,
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


def test_offline_score_contradicts_its_own_checklist() -> None:
    """Regression: 15 words with Situation, Task and Action missing scored 4/5."""
    a = analyse(
        "Tell me about a time you failed.",
        "We missed a deadline, so I re-planned the sprint and we shipped 2 days late.",
        "en",
    )
    assert a.word_count == 15
    assert a.score <= 2


@pytest.mark.parametrize(("lang", "words"), [("en", 120), ("ko", 70)])
def test_length_thresholds_agree_with_the_advice(lang: str, words: int) -> None:
    """Regression: 120 English words got no length note while the advice said 150-300."""
    answer = (
        " ".join(["I did this."] * (words // 3))
        if lang == "en"
        else " ".join(["제가 했습니다."] * (words // 2))
    )
    a = analyse("Why this role?", answer, lang)  # type: ignore[arg-type]
    notes = [s for s in a.suggestions if "150-300" in s or "80~200" in s]
    assert len(notes) == 1, a.suggestions
