"""How a spoken answer was said: the figures (pure), and what coaching and history do with
them (feedback, the rubric, the attempt, the export, progress, the interview report)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from interview_app import create_app
from interview_app.coaching.delivery import GOOD_PACE, Word, delivery, parse, units, verdict
from interview_app.history.db import migrate
from interview_app.settings import Settings
from tests.helpers import sse_client, voice
from tests.helpers.fakes import FakeUpstream, Script

SPOKEN = {
    "speaking_seconds": 40.0,
    "time_to_first_word_seconds": 2.6,
    "rate": {"value": 190.0, "unit": "words_per_minute", "verdict": "fast"},
    "filler_words": 2,
    "fillers": ["um", "like"],
    "long_pauses": [{"start": 12.5, "seconds": 2.1}],
    "timing": "words",
}
ANSWER = "I led the migration, um, and I cut costs by 30% in a quarter, like, for real."


def test_the_ranges_are_the_published_ones() -> None:
    low, high = GOOD_PACE["en"]
    assert 120 <= low <= 140 and 160 <= high <= 180  # within 120-180, including 140-160
    assert [verdict(v, "en") for v in (110, 150, 200)] == ["slow", "good", "fast"]
    assert [verdict(v, "ko") for v in (200, 280, 360)] == ["slow", "good", "fast"]
    assert units("제가 했습니다, ok", "ko") == 6 and units("I did it", "en") == 3


def test_figures_from_words_pauses_from_the_audio() -> None:
    words = [Word("Um", 1.0, 1.3), Word("I", 1.4, 1.5), Word("led", 1.5, 4.0),
             Word("it", 6.0, 6.3)]  # fmt: skip
    found = delivery("Um I led it", "en", words=words, speech=[(1.0, 2.0), (6.0, 6.3)],
                     long_pause=1.5)  # fmt: skip
    assert found is not None
    assert found["time_to_first_word_seconds"] == 1.0 and found["speaking_seconds"] == 5.3
    # The audio's silence, and where it falls in the words: after "Um I led".
    assert found["long_pauses"] == [{"start": 2.0, "seconds": 4.0, "words_before": 3}]
    assert found["fillers"] == ["Um"] and found["filler_words"] == 1
    assert found["rate"] == {"value": round(4 / 5.3 * 60, 1), "unit": "words_per_minute",
                             "verdict": "slow"}  # fmt: skip
    assert delivery("", "en", words=None, speech=[], long_pause=1.5) is None


@pytest.mark.parametrize(
    "bad",
    [
        "fast",
        {**SPOKEN, "speaking_seconds": -1},
        {**SPOKEN, "rate": {"value": "fast"}},
        {**SPOKEN, "fillers": ["x" * 100]},
        {**SPOKEN, "long_pauses": [{"start": 1}]},
        {**SPOKEN, "timing": "guess"},
        {**SPOKEN, "filler_words": True},
        {**SPOKEN, "long_pauses": [{"start": 1, "seconds": 2, "words_before": -1}]},
        {**SPOKEN, "long_pauses": [{"start": 1, "seconds": 2, "words_before": 2.5}]},
    ],
)
def test_a_clients_delivery_is_checked(bad: Any) -> None:
    with pytest.raises(ValueError):
        parse(bad, "en")


def test_the_rate_verdict_is_ours_not_the_clients() -> None:
    assert parse({**SPOKEN, "rate": {"value": 150, "verdict": "slow"}}, "en")["rate"] == {
        "value": 150, "unit": "words_per_minute", "verdict": "good"}  # fmt: skip


@pytest.fixture
def kept(tmp_path: Any) -> FlaskClient:
    url = f"sqlite:///{tmp_path / 'delivery.db'}"
    migrate(url)
    settings = Settings(database_url=url, log_json=False, offline_tokens_per_second=0,
                        secret_key="d", rate_limit_per_minute=0)  # fmt: skip
    return create_app(settings).test_client()


def test_feedback_on_a_spoken_answer_coaches_and_keeps_its_delivery(kept: FlaskClient) -> None:
    body = {"question": "Tell me about a time you led.", "answer": ANSWER, "delivery": SPOKEN}
    events = sse_client.messages(kept.post("/api/feedback", json=body).get_data())
    text = "".join(e.json()["text"] for e in events if e.event == "message")
    done = events[-1].json()
    assert "**How you said it**" in text and "190 words a minute, fast" in text
    assert "2.1 s at 12.5 s" in text and "Fillers: 2 (um, like)" in text
    assert done["analysis"]["delivery"]["rate"]["value"] == 190.0
    attempt = kept.get(f"/api/attempts/{done['attempt_id']}").get_json()
    assert attempt["delivery"]["long_pauses"] == [{"start": 12.5, "seconds": 2.1}]
    exported = kept.get("/api/attempts/export?format=md").get_data(as_text=True)
    assert "**Delivery · 말하기**: 190.0 words/min (fast), 2 fillers, 1 long pauses" in exported
    pace = kept.get("/api/progress").get_json()["pace"]
    assert [p["rate"] for p in pace] == [190.0] and pace[0]["unit"] == "words_per_minute"


# A transcript as a recogniser without punctuation gives it, and no spoken markers.
UNPUNCTUATED = (
    "last winter our checkout kept timing out for mobile users at peak hours "  # 12
    "I profiled the orders service found two slow queries and I rewrote them with one "
    "batched call behind a small cache "  # 21
    "checkout errors went from 120 an hour to 5 and the mobile team shipped the new app on "
    "schedule two weeks later"  # 21
)
PAUSED = {**SPOKEN, "long_pauses": [
    {"start": 4.0, "seconds": 1.6, "words_before": 12},
    {"start": 9.0, "seconds": 1.8, "words_before": 33},
]}  # fmt: skip


def test_a_transcript_is_split_into_sentences_where_the_speaker_paused(kept: FlaskClient) -> None:
    question = "Tell me about a time you fixed a performance problem."

    def score(delivery: dict[str, Any] | None) -> int:
        body: dict[str, Any] = {"question": question, "answer": UNPUNCTUATED, "save": False}
        if delivery:
            body["delivery"] = delivery
        events = sse_client.messages(kept.post("/api/feedback", json=body).get_data())
        return int(events[-1].json()["analysis"]["score"])

    # One run-on sentence is scored as one sentence; split at the pauses it is a story
    # with its own action and a measured result.
    assert score(None) == 1 and score(SPOKEN) == 1
    assert score(PAUSED) == 4


def test_a_bad_delivery_is_400(kept: FlaskClient) -> None:
    body = {"question": "Why?", "answer": ANSWER, "delivery": {"rate": 5}}
    response = kept.post("/api/feedback", json=body)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_field"


def test_a_spoken_interview_ends_with_a_speaking_section(kept: FlaskClient) -> None:
    created = kept.post("/api/interviews", json={"language": "en", "questions": 1,
                                                 "follow_ups": False}).get_json()  # fmt: skip
    sse_client.messages(kept.get(created["next"]["stream"]).get_data())
    body = {"answer": ANSWER, "turn": 0, "delivery": SPOKEN}
    feedback = kept.post(f"{created['url']}/answers", json=body).get_json()["feedback"]
    done = sse_client.messages(kept.get(feedback).get_data())[-1].json()
    report = sse_client.messages(kept.get(done["next"]["stream"]).get_data())[-1].json()
    speaking = report["report"]["speaking"]
    assert speaking["answers"] == 1 and speaking["rate"]["verdict"] == "fast"
    markdown = kept.get(f"{created['url']}/report.md").get_data(as_text=True)
    assert "## Speaking" in markdown and "190 words a minute" in markdown


def test_with_a_model_the_prompt_has_the_figures_and_the_text_our_section(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    upstream.script = Script(tokens=["Good ", "answer."])
    body = {"question": "Tell me about a time you led.", "answer": ANSWER, "delivery": SPOKEN}
    events = sse_client.messages(make_client().post("/api/feedback", json=body).get_data())
    text = "".join(e.json()["text"] for e in events if e.event == "message")
    assert text.startswith("Good answer.") and "**How you said it**" in text
    assert (
        "<delivery>\nrate 190.0 words_per_minute (fast)"
        in upstream.requests[-1]["messages"][-1]["content"]
    )
    assert events[-1].json()["analysis"]["delivery"]["timing"] == "words"


def test_a_recording_is_kept_only_when_asked_and_only_for_its_owner(
    kept: FlaskClient, tmp_path: Any
) -> None:
    body = {"question": "Tell me about a time you led.", "answer": ANSWER, "delivery": SPOKEN}
    done = sse_client.messages(kept.post("/api/feedback", json=body).get_data())[-1].json()
    url = f"/api/attempts/{done['attempt_id']}"
    assert kept.get(url).get_json()["has_recording"] is False  # nothing kept by default
    said = voice.speak("I led the team.", tmp_path / "said.wav")
    audio = voice.webm(said, tmp_path / "said.webm").read_bytes()
    stranger = kept.application.test_client()
    assert stranger.put(f"{url}/recording", data=audio,
                        headers={"Content-Type": "audio/webm"}).status_code == 404  # fmt: skip
    wrong = kept.put(f"{url}/recording", data=audio, headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 415
    put = kept.put(f"{url}/recording", data=audio, headers={"Content-Type": "audio/webm"})
    assert put.status_code == 204
    got = kept.get(f"{url}/recording")
    assert got.get_data() == audio and got.mimetype == "audio/webm"
    assert kept.get(url).get_json()["has_recording"] is True
    assert stranger.get(f"{url}/recording").status_code == 404
    assert kept.delete(url).status_code == 204
    assert kept.get(f"{url}/recording").status_code == 404  # deleted with its attempt
    missing = kept.put("/api/attempts/nope/recording", data=audio,
                       headers={"Content-Type": "audio/webm"})  # fmt: skip
    assert missing.status_code == 404
