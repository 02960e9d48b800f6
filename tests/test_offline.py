"""The offline backend through the whole app: the embedded default."""

from __future__ import annotations

from flask.testing import FlaskClient

from interview_app import create_app
from interview_app.coaching.request import CoachingRequest as Request
from interview_app.llm.offline import OfflineBackend
from interview_app.settings import Settings
from tests.helpers import sse_client
from tests.helpers.answers import BEHAVIOURAL_KO, WEAK_KO


def offline_client() -> FlaskClient:
    return create_app(
        Settings.from_env(
            {"OFFLINE_TOKENS_PER_SECOND": "0", "RATE_LIMIT_PER_MINUTE": "0", "HISTORY": "off"}
        )
    ).test_client()


def test_no_key_means_offline() -> None:
    assert offline_client().get("/healthz").get_json()["backend"] == "offline"


def test_feedback_is_an_analysis_of_this_answer_in_korean() -> None:
    body = (
        offline_client()
        .post("/api/feedback", json={"question": BEHAVIOURAL_KO, "answer": WEAK_KO})
        .get_data()
    )
    events = sse_client.messages(body)
    done = events[-1]
    assert done.event == "done"
    payload = done.json()
    assert payload["backend"] == "offline" and payload["finish_reason"] == "stop"
    analysis = payload["analysis"]
    assert analysis["first_person"] is False and analysis["filler_words"] == 4
    assert 1 <= analysis["score"] <= 5
    text = sse_client.text_of(body)
    assert "잘한 점" in text and "다듬을 점" in text and "'제가'" in text
    assert f"점수: {analysis['score']}/5" in text


def test_different_answers_get_different_feedback() -> None:
    client = offline_client()
    q = "Tell me about a time you led a project."
    a = client.post("/api/feedback", json={"question": q, "answer": "We did it."}).get_data()
    b = client.post(
        "/api/feedback",
        json={"question": q, "answer": "I led 5 engineers and we shipped 2 weeks early."},
    ).get_data()
    assert sse_client.text_of(a) != sse_client.text_of(b)


def test_model_answer_is_a_labelled_template_for_this_question() -> None:
    body = (
        offline_client()
        .post(
            "/api/answer",
            json={"question": "Why do you want to work here?", "role": "Data analyst"},
        )
        .get_data()
    )
    text = sse_client.text_of(body)
    assert "Answer template" in text and "Why do you want to work here?" in text
    assert "(Data analyst)" in text and "Answer first" in text
    assert "analysis" not in sse_client.messages(body)[-1].json()


def test_behavioural_template_is_star_in_korean() -> None:
    text = sse_client.text_of(
        offline_client().post("/api/answer", json={"question": BEHAVIOURAL_KO}).get_data()
    )
    assert "답변 템플릿" in text and "상황 (S)" in text and "결과 (R)" in text


def test_paced_stream_yields_word_by_word_and_stops_on_close() -> None:
    completion = OfflineBackend(tokens_per_second=1000).open(
        Request("answer", "Why?", None, "en", None)
    )
    parts = completion.texts()
    first, second = next(parts), next(parts)
    assert first.strip() and second.strip() and len(first.split()) == 1
    completion.close()
    assert list(parts) == []


def test_slow_pace_gives_idle_ticks_between_words() -> None:
    completion = OfflineBackend(tokens_per_second=4).open(
        Request("answer", "Why?", None, "en", None)
    )
    parts = completion.texts(0.1)
    got = [next(parts) for _ in range(6)]
    completion.close()
    # 0.25 s a word in slices of 0.1 s: two ticks, then the word.
    assert got[:2] == ["", ""] and got[2].strip()
    assert got[3:5] == ["", ""] and got[5].strip()
