"""What to practise next, drills and shared reports: the schedule (pure), and the whole of it
through the Procfile's gunicorn + gevent on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from interview_app.coaching.judgement import rubrics, weak_parts
from interview_app.coaching.review import Schedule, after, reason
from interview_app.history.db import normalize
from tests.helpers import sse_client
from tests.helpers.server import Server

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
WEAK_EN = "We worked hard on it as a team."
STRONG_EN = (
    "In short, I cut our checkout errors by 60% in six weeks. Our payment page failed for one "
    "order in twenty, and my task was to find out why and fix it before the holiday sale. I "
    "traced the failures to a timeout, I rewrote the retry logic, and I added an alert on the "
    "error rate so we would know within minutes. As a result, errors fell from 5% to 2%, "
    "refunds dropped by a third, and the sale ran without an incident. I also wrote a short "
    "runbook so that anyone on call could handle the same failure in under ten minutes, and I "
    "walked the team through it at our weekly review."
)
Q_EN = "Tell me about a time you fixed something that kept failing."
Q_KO = "실패했던 경험을 말해 주세요."
WEAK_KO = "저희 팀이 열심히 했습니다."


# --- The schedule, pure -----------------------------------------------------------------


def test_good_answers_move_out_by_days_and_a_weak_one_comes_back_in_minutes() -> None:
    weak = after(Schedule(), 2, NOW)
    assert weak.due_at == NOW + timedelta(minutes=10) and weak.repetitions == 0
    first = after(weak, 5, NOW)
    assert first.due_at == NOW + timedelta(days=1) and first.repetitions == 1
    second = after(first, 4, NOW)
    assert second.due_at == NOW + timedelta(days=6)
    third = after(second, 5, NOW)
    assert third.interval_days == pytest.approx(6 * third.ease) and third.repetitions == 3
    assert after(third, 3, NOW).due_at == NOW + timedelta(minutes=10)  # the run starts again
    assert after(Schedule(ease=1.3), 1, NOW).ease == 1.3  # never under the floor


def test_a_question_answered_well_many_times_outgrew_the_calendar() -> None:
    """Each good answer multiplies the interval by the ease: the 14th score of 5 in a row
    was due past datetime's last year, and its history save failed (OverflowError)."""
    schedule, now = Schedule(), datetime(2026, 12, 3, tzinfo=UTC)
    for _ in range(200):
        schedule = after(schedule, 5, now)
    assert schedule.interval_days == 36500
    assert schedule.due_at == now + timedelta(days=36500)


def test_reasons_a_person_understands_in_both_languages() -> None:
    no_result = {"behavioural": True, "star": {"result": False, "action": True}, "score": 2}
    has_it = {"behavioural": True, "star": {"result": True, "action": True}, "score": 4}
    answers = rubrics([no_result, no_result, has_it, no_result])
    assert reason(answers, "en") == "Result missing in 3 of your last 4 answers"
    assert reason(answers, "ko") == "결과가 최근 4번 중 3번 빠졌습니다"
    assert [w.as_dict() for w in weak_parts(answers)] == [
        {"part": "result", "missing_in": 3, "of": 4}
    ]
    last = rubrics([{"score": 3}])
    assert reason(last, "en") == "Scored 3/5 last time: time to practise it again"


# --- Through gunicorn + gevent, on both databases ---------------------------------------


@pytest.fixture
def served(database_url: str) -> Iterator[tuple[Server, str]]:
    env = {"DATABASE_URL": database_url, "SECRET_KEY": "review", "SHARE_DAYS": "14",
           "OFFLINE_TOKENS_PER_SECOND": "0", "RATE_LIMIT_PER_MINUTE": "0",
           "MAX_STREAMS_PER_CLIENT": "0"}  # fmt: skip
    srv = Server(env)
    yield srv, database_url
    srv.stop()


def _feedback(client: httpx.Client, question: str, answer: str) -> dict[str, Any]:
    body = {"question": question, "answer": answer}
    done: dict[str, Any] = sse_client.messages(client.post("/api/feedback", json=body).content)[
        -1
    ].json()
    return done


def _sql(url: str, statement: str, **params: Any) -> list[Any]:
    engine = create_engine(normalize(url))
    with engine.begin() as conn:
        result = conn.execute(text(statement), params)
        rows = list(result) if result.returns_rows else []
    engine.dispose()
    return rows


def test_the_queue_after_weak_and_strong_attempts_and_only_for_its_identity(
    served: tuple[Server, str],
) -> None:
    srv, url = served
    base = f"http://127.0.0.1:{srv.port}"
    with httpx.Client(base_url=base, timeout=30) as me, httpx.Client(base_url=base) as other:
        scores = [
            _feedback(me, Q_EN, a)["analysis"]["score"] for a in (WEAK_EN, STRONG_EN, STRONG_EN)
        ]
        assert scores[0] < 4 <= min(scores[1:])
        _feedback(me, Q_KO, WEAK_KO)
        rows = {r.language: r for r in _sql(url, "SELECT * FROM reviews")}
        assert rows["en"].repetitions == 2 and rows["en"].interval_days == 6  # days out
        assert rows["ko"].repetitions == 0 and rows["ko"].interval_days == 0  # minutes
        queue = me.get("/api/review").json()
        assert queue["due"] == [] and queue["next_due_at"] is not None  # nothing due yet
        _sql(url, "UPDATE reviews SET due_at = :t", t=datetime.now(UTC) - timedelta(minutes=1))
        queue = me.get("/api/review").json()
        due = {d["language"]: d for d in queue["due"]}
        assert due["ko"]["question"] == Q_KO and due["ko"]["last_score"] <= 3
        assert re.fullmatch("지난번 답변에서 .+ 빠졌습니다", due["ko"]["reason"])
        assert due["en"]["reason"].endswith("of your last 3 answers")
        assert {w["part"] for w in queue["weak_parts"]} >= {"action"}
        assert other.get("/api/review").json() == {"due": [], "next_due_at": None, "weak_parts": []}
        assert me.delete("/api/attempts").status_code == 204  # delete-all takes the queue too
        assert me.get("/api/review").json()["due"] == []


def test_a_drill_asks_stories_aims_at_its_part_and_probes_it_first(
    served: tuple[Server, str],
) -> None:
    srv, _ = served
    with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=30) as me:
        bad = me.post("/api/interviews", json={"language": "en", "focus": "charisma"})
        assert bad.status_code == 400
        created = me.post("/api/interviews", json={"language": "en", "questions": 3,
                                                   "focus": "result"}).json()  # fmt: skip
        me.get(created["next"]["stream"])
        state = me.get(created["url"]).json()
        assert state["setup"]["focus"] == "result"
        assert state["turns"][0]["aim"] == "Aim: end with what changed because of you."
        body = {"answer": "I rewrote the retry logic and I added alerts.", "turn": 0}
        feedback = me.post(f"{created['url']}/answers", json=body).json()["feedback"]
        events = sse_client.messages(me.get(feedback).content)
        text = "".join(e.json()["text"] for e in events if e.event == "message")
        assert text.startswith("> 🎯 Drill. Aim: end with what changed because of you. ✗")
        nxt = events[-1].json()["next"]
        assert nxt["kind"] == "follow_up" and nxt["reason"] == "your answer had no result"
        from interview_app.coaching.request import is_behavioural

        me.get(nxt["stream"])
        asked = [t["question"] for t in me.get(created["url"]).json()["turns"]]
        assert all(is_behavioural(q) for q in asked[:1])


def _finished(me: httpx.Client, role: str) -> dict[str, Any]:
    created = me.post("/api/interviews", json={"language": "en", "questions": 1, "role": role,
                                               "follow_ups": False}).json()  # fmt: skip
    me.get(created["next"]["stream"])
    feedback = me.post(f"{created['url']}/answers", json={"answer": STRONG_EN, "turn": 0}).json()
    done = sse_client.messages(me.get(feedback["feedback"]).content)[-1].json()
    me.get(done["next"]["stream"])
    return created


HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def test_share_revoke_expire_and_tamper(served: tuple[Server, str]) -> None:
    srv, url = served
    base = f"http://127.0.0.1:{srv.port}"
    with httpx.Client(base_url=base, timeout=30) as me, httpx.Client(base_url=base) as stranger:
        early = me.post("/api/interviews", json={"language": "en", "questions": 1}).json()
        assert me.post(f"{early['url']}/share").status_code == 409  # not finished yet
        created = _finished(me, HOSTILE)
        assert stranger.post(f"{created['url']}/share").status_code == 404
        shared = me.post(f"{created['url']}/share")
        assert shared.status_code == 201
        link = shared.json()["url"]
        expires = datetime.fromisoformat(shared.json()["expires_at"])
        assert timedelta(days=13.9) < expires - datetime.now(UTC) < timedelta(days=14.1)
        page = httpx.get(base + link)  # no cookie at all
        assert page.status_code == 200 and "set-cookie" not in page.headers
        assert page.headers["x-robots-tag"].startswith("noindex")
        assert '<meta name="robots" content="noindex' in page.text
        assert HOSTILE not in page.text and "&lt;img src=x" in page.text  # escaped
        token = link.rsplit("/", 1)[1]
        assert httpx.get(f"{base}/shared/{token[:-2]}xx").status_code == 404  # tampered
        assert httpx.get(f"{base}/shared/nonsense").status_code == 404
        assert me.delete(f"{created['url']}/share").status_code == 204
        assert httpx.get(base + link).status_code == 404  # revoked, for everyone
        again = me.post(f"{created['url']}/share").json()["url"]
        _sql(url, "UPDATE shares SET expires_at = :t", t=datetime.now(UTC) - timedelta(hours=1))
        assert httpx.get(base + again).status_code == 410  # expired
        third = me.post(f"{created['url']}/share").json()["url"]
        assert me.delete(created["url"]).status_code == 204  # deleting it revokes its links
        assert httpx.get(base + third).status_code == 404
        finished = _finished(me, "Backend")
        fourth = me.post(f"{finished['url']}/share").json()["url"]
        me.delete("/api/attempts")  # and so does deleting everything
        assert httpx.get(base + fourth).status_code == 404


def test_a_drill_picks_only_stories_for_a_storys_part() -> None:
    from interview_app.coaching.interview import choose_questions
    from interview_app.coaching.request import is_behavioural

    for language in ("en", "ko"):
        asked = choose_questions(language, None, None, None, 5, "quantified_result")  # type: ignore[arg-type]
        assert len(asked) == 5 and all(is_behavioural(q) for q in asked)


def test_a_drill_with_a_model_probes_its_part_first(
    make_client: Any, upstream: Any, tmp_path: Any
) -> None:
    from interview_app.history.db import migrate
    from tests.helpers.fakes import Script

    url = f"sqlite:///{tmp_path / 'drill.db'}"
    migrate(url)
    client = make_client(history=True, database_url=url, secret_key="d")
    upstream.script = Script(tokens=["Tell me about a time ", "you fixed a failing system."])
    created = client.post("/api/interviews", json={"language": "en", "questions": 1,
                                                   "focus": "result"}).get_json()  # fmt: skip
    client.get(created["next"]["stream"]).get_data()
    upstream.script = Script(tokens=["Good ", "start."])
    body = {"answer": "I rewrote the retry logic and I added alerts.", "turn": 0}
    feedback = client.post(f"{created['url']}/answers", json=body).get_json()["feedback"]
    events = sse_client.messages(client.get(feedback).get_data())
    text = "".join(e.json()["text"] for e in events if e.event == "message")
    assert text.startswith("> 🎯 Drill.") and "Good start." in text
    assert events[-1].json()["next"]["reason"] == "your answer had no result"
    # The model is asked for the follow-up on the drill's part.
    client.get(events[-1].json()["next"]["stream"]).get_data()
    assert "your answer had no result" in upstream.requests[-1]["messages"][0]["content"]
