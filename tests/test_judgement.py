"""One judgement (issue 32, items 5 and 6): every sentence the offline coach writes agrees
with the rubric it gives, and the published scale holds, on answers built from parts
present or absent in both languages (hypothesis), and in the interview report."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interview_app.coaching import interview
from interview_app.coaching.analysis import analyse
from interview_app.coaching.findings import TEXT
from interview_app.coaching.judgement import Rubric, most_missing, rubrics, weak_parts

QUESTION = {"en": "Tell me about a time you fixed a problem at work.",
            "ko": "업무에서 문제를 해결했던 경험을 말해 주세요."}  # fmt: skip
PARTS = {
    "en": {
        "conclusion": "In short, I cut our checkout errors by sixty percent.",
        "situation": "Last year at a payments startup our checkout page failed often.",
        "task": "My job was to find out why and fix it before the holiday sale.",
        "action": "I traced the failed requests, I rewrote the retry logic and I added alerts.",
        "we": "We talked about it and we agreed on a plan as a team.",
        "result": "After that the errors fell and the sale went smoothly.",
        "number": "Errors fell from 5% to 2% within two weeks.",
        "filler": "Um, so, like, you know, it was, uh, a lot.",
        "padding": "The team was small and the product was growing quickly every month.",
    },
    "ko": {
        "conclusion": "결론부터 말씀드리면 제가 결제 오류를 절반으로 줄였습니다.",
        "situation": "작년에 결제 스타트업에서 결제 페이지 오류가 잦았습니다.",
        "task": "제 역할은 원인을 찾아 연말 행사 전에 고치는 것이었습니다.",
        "action": "제가 실패한 요청을 추적하고 재시도 로직을 다시 작성했습니다.",
        "we": "저희 팀은 함께 회의를 했고 저희가 계획을 정했습니다.",
        "result": "그 결과 오류가 줄었고 행사가 무사히 끝났습니다.",
        "number": "오류율이 5%에서 2%로 2주 만에 줄었습니다.",
        "filler": "음, 어, 그, 뭐 여러 가지가 있었습니다.",
        "padding": "팀은 작았고 제품은 매달 빠르게 성장하고 있었습니다.",
    },
}
ORDER = ["conclusion", "situation", "task", "action", "we", "result", "number", "filler"]


@st.composite
def answers(draw: st.DrawFn) -> tuple[str, str]:
    lang = draw(st.sampled_from(["en", "ko"]))
    chosen = [p for p in ORDER if draw(st.booleans())]
    padding = draw(st.integers(min_value=0, max_value=12))
    fillers = draw(st.integers(min_value=0, max_value=3))
    text = PARTS[lang]
    sentences = [text[p] for p in chosen]
    sentences[1:1] = [text["padding"]] * padding
    sentences += [text["filler"]] * fillers
    return lang, " ".join(sentences)


def _praise(lang: str) -> dict[str, str]:
    t = TEXT[lang]
    return {k: t[k] for k in ("star_ok", "first_ok", "number_ok", "filler_ok", "conclusion_ok",
                              "reasons_ok")}  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(answers())
def test_no_sentence_of_the_coach_contradicts_its_rubric(case: tuple[str, str]) -> None:
    lang, answer = case
    a = analyse(QUESTION[lang], answer, lang)  # type: ignore[arg-type]
    d = a.as_dict()
    praise = _praise(lang)
    said = set(a.strengths)
    if praise["star_ok"] in said:
        assert all(d["star"].values())
    if praise["first_ok"] in said:
        # "You own your actions" next to "your answer never says what you did" was one.
        assert d["owned"] and d["star"]["action"]
    if praise["number_ok"] in said:
        assert d["quantified_result"]
    if praise["conclusion_ok"] in said:
        assert d["conclusion_first"]
    if praise["filler_ok"] in said:
        # "No filler words" only with none: the delivery panel counts the same.
        assert d["filler_words"] == 0
    for line in a.strengths:
        assert line not in a.suggestions
    low, high = d["length_range"]
    short = TEXT[lang]["short"].format(n=d["word_count"], low=low, high=high)
    assert (short in a.suggestions) == (d["word_count"] < low)
    if d["bound_by"] == "length":  # the verdict names what set the score
        assert str(d["word_count"]) in d["verdict"]


@settings(max_examples=300, deadline=None)
@given(answers())
def test_the_published_scale_holds_on_every_answer(case: tuple[str, str]) -> None:
    lang, answer = case
    d = analyse(QUESTION[lang], answer, lang).as_dict()  # type: ignore[arg-type]
    star, score = d["star"], d["score"]
    assert d["behavioural"]
    if not star["action"]:
        assert score <= 2
    if not star["result"]:
        assert score <= 3
    if score >= 4:
        assert star["action"] and star["result"]
    # The page's checklist crosses out what the scale reads and misses (rubric.js): a 5
    # leaves none of it crossed, and a score set by length has its length crossed.
    low, high = d["length_scored"]
    scored = low <= d["word_count"] <= high
    if score == 5:
        assert star["situation"] and d["quantified_result"] and d["conclusion_first"]
        assert not d["we_heavy"] and d["filler_words"] <= 2 and scored
        assert d["bound_by"] is None
    else:
        assert d["bound_by"] is not None
    if d["bound_by"] == "length":
        assert not scored
    for part, quote in d["evidence"].items():
        assert (quote is None) or (star[part] and quote in answer)


@settings(max_examples=60, deadline=None)
@given(st.lists(answers(), min_size=1, max_size=5))
def test_every_count_in_the_report_is_the_answers_own(cases: list[tuple[str, str]]) -> None:
    lang = cases[0][0]
    turns: list[dict[str, Any]] = []
    for _, answer in cases:
        if lang == "ko" and not re.search(r"[가-힣]", answer):
            continue
        analysis = analyse(QUESTION[lang], answer, lang).as_dict()  # type: ignore[arg-type]
        turns.append({"text": QUESTION[lang], "analysis": analysis, "over_time": False})
    if not turns:
        return
    report, _ = interview.report(turns, lang)  # type: ignore[arg-type]
    stories = [t["analysis"] for t in turns if t["analysis"]["behavioural"]]
    acted = sum(a["star"]["action"] for a in stories)
    counted = sum(a["quantified_result"] for a in stories)
    text = interview._REPORT_TEXT[lang]

    def pattern(key: str) -> re.Pattern[str]:
        template = re.escape(text[key]).replace(r"\{n\}", r"(?P<n>\d+)")
        template = template.replace(r"\{total\}", r"(?P<total>\d+)")
        return re.compile(template.replace("answers", "answers?"))

    for line in report["strengths"]:
        if found := pattern("s_action").fullmatch(line):
            assert (int(found["n"]), int(found["total"])) == (acted, len(stories)), line
        if found := pattern("s_number").fullmatch(line):
            assert (int(found["n"]), int(found["total"])) == (counted, len(stories)), line
        if line == text["s_first"]:
            assert all(t["analysis"]["owned"] for t in turns)


def test_a_spoken_answer_is_read_as_the_same_answer_typed() -> None:
    """The metamorphic property on every labelled answer (issue 32, item 7): rewritten as a
    recogniser writes it (Korean without punctuation, numbers as words), it keeps its parts
    and score. Before: English 90%, Korean 34%, and 117 answers more than a point apart
    (a Korean story of 92 eojeol without a full stop was one sentence, scored 1)."""
    from tests.helpers import agreement
    from tests.helpers.spoken import spoken

    same = {"en": [0, 0], "ko": [0, 0]}
    far = []
    for item in agreement.answers() + agreement.held_out():
        lang = item["language"]
        typed = analyse(item["question"], item["answer"], lang).as_dict()
        said = analyse(item["question"], spoken(item["answer"], lang), lang).as_dict()
        key = ("score", "quantified_result")
        same[lang][1] += 1
        same[lang][0] += typed["star"] == said["star"] and all(typed[k] == said[k] for k in key)
        if abs(typed["score"] - said["score"]) > 1:
            far.append(item["id"])
    assert same["en"][0] / same["en"][1] >= 0.95, same
    assert same["ko"][0] / same["ko"][1] >= 0.95, same
    assert len(far) <= 1, far  # ko-m68 (a direct answer: 5 typed, 2 spoken)


def test_numbers_said_as_words_are_numbers() -> None:
    from interview_app.coaching.analysis import as_digits, sentences_of

    assert as_digits("en", "from nineteen hours to under three") == "from 19 hours to under 3"
    assert as_digits("ko", "오류가 삼십 퍼센트 줄고 이천오백 명이 왔고 세 배") == (
        "오류가 30 퍼센트 줄고 2500 명이 왔고 세 배"
    )
    assert as_digits("ko", "이 시간에 일이 많았습니다") == "이 시간에 일이 많았습니다"
    said = "장애가 잦았습니다 제가 원인을 찾았어요 그 뒤로 오류가 절반으로 줄었습니다"
    assert len(sentences_of(said, "ko")) == 3  # Vosk writes no full stops


def test_a_korean_interview_answered_as_vosk_writes_gets_the_typed_checklists(
    tmp_path: Any,
) -> None:
    """Issue 32's done-when: a whole mock interview in Korean whose answers arrive as Vosk
    writes them (no punctuation, numbers as words) gets the same checklists and scores as
    the same answers typed with punctuation."""
    from interview_app import create_app
    from interview_app.history.db import migrate
    from interview_app.settings import Settings
    from tests.helpers import agreement, sse_client
    from tests.helpers.spoken import spoken

    answers = [
        a["answer"]
        for a in agreement.held_out()
        if a["language"] == "ko" and a["labels"]["behavioural"] and a["labels"]["score"] >= 3
    ][:6]
    url = f"sqlite:///{tmp_path / 'vosk.db'}"
    migrate(url)
    app = create_app(Settings(offline_tokens_per_second=0, rate_limit_per_minute=0,
                              max_streams_per_client=0, log_json=False, database_url=url,
                              secret_key="vosk"))  # fmt: skip
    client = app.test_client()

    def run(form: Any) -> list[tuple[int, dict[str, bool], bool]]:
        setup = {"language": "ko", "questions": 3, "categories": ["behavioural"]}
        created = client.post("/api/interviews", json=setup)
        assert created.status_code == 201, created.get_json()
        interview = created.get_json()
        sse_client.messages(client.get(interview["next"]["stream"]).get_data())
        judged = []
        for answer in answers:
            state = client.get(interview["url"]).get_json()
            if state["status"] == "finished":
                break
            turn = len(state["turns"]) - 1
            sent = client.post(f"{interview['url']}/answers",
                               json={"turn": turn, "answer": form(answer)})  # fmt: skip
            assert sent.status_code == 201, sent.get_json()
            done = sse_client.messages(client.get(sent.get_json()["feedback"]).get_data())[-1]
            a = done.json()["analysis"]
            judged.append((a["score"], a["star"], a["quantified_result"]))
            following = done.json().get("next")
            if following and following["kind"] != "report":
                sse_client.messages(client.get(following["stream"]).get_data())
        return judged

    typed = run(lambda a: a)
    said = run(lambda a: spoken(a, "ko"))
    assert len(typed) >= 3 and typed == said
    app.extensions["interview_app"].history.engine.dispose()


def test_a_stored_rubric_read_six_ways() -> None:
    """Each view re-read the stored dict with its own defaults: a part an older rubric did
    not mention was missing to the follow-up (`not analysis.get(part)`) and not to the
    queue (`is False`). One `Rubric.of` reads it: not mentioned is neither."""
    old = Rubric.of({"score": 3, "star": {"action": True, "result": False}})
    assert old.missing() == ("result",) and old.has("action")
    assert not old.lacks("first_person") and not old.has("first_person")
    told = Rubric.of({"score": 2, "behavioural": False, "star": {"action": False},
                      "first_person": False, "quantified_result": False})  # fmt: skip
    assert told.missing() == ("first_person",)  # a direct answer has no story to miss
    assert Rubric.stored({"star": {}}) is None and Rubric.stored(None) is None
    with pytest.raises(ValueError):
        Rubric.of({"score": "5"})


def test_one_weakest_part_by_count_then_by_weight() -> None:
    no_result = {"score": 3, "star": {"action": True, "result": False, "task": False}}
    no_action = {"score": 2, "star": {"action": False, "result": True}}
    newest_first = rubrics([no_result, no_result, no_action, no_action, no_action])
    assert [w.as_dict() for w in weak_parts(newest_first)] == [
        {"part": "action", "missing_in": 2, "of": 4},
        {"part": "result", "missing_in": 2, "of": 4},
        {"part": "task", "missing_in": 2, "of": 4},
    ]
    assert most_missing(newest_first) == "action"
    assert weak_parts(rubrics([no_result])) == []
