"""What to practise next: a spaced-repetition schedule per question, and the weak parts.

The schedule is SM-2 (Wozniak's SuperMemo 2, the rule Anki grew from) on the
rubric's score, with its constants:
- a score of 4 or 5 is a good answer: the first good answer comes back in 1 day, the
  second in a row in 6 days, then each interval is the last one times the ease;
- a score of 3 or less is weak: the run starts again and the question is due in
  10 minutes (practise it again today);
- the ease starts at 2.5, changes by 0.1 - (5 - score) * (0.08 + (5 - score) * 0.02)
  after each answer (+0.1 for a 5, 0 for a 4, -0.14 for a 3, -0.32 for a 2, -0.54 for
  a 1), and never falls under 1.3;
- an interval never exceeds 36,500 days (Anki's maximum): multiplied by the ease on
  every good answer, it otherwise outgrew the calendar at the 14th score of 5 in a row
  (the 17th of 4), and that answer's history save failed.
A weak part is a rubric part missing in at least 2 of the last 4 scored answers
(`judgement.weak_parts`, the one reading of it for history, review and report).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from interview_app.coaching.judgement import RECENT, Rubric, most_missing
from interview_app.coaching.request import Language

GOOD = 4  # a score at or above this is a good answer
FIRST_DAYS, SECOND_DAYS = 1.0, 6.0
WEAK_AGAIN = timedelta(minutes=10)
START_EASE, MIN_EASE = 2.5, 1.3
MAX_DAYS = 36500.0


@dataclass(frozen=True)
class Schedule:
    """One question's place in the queue."""

    repetitions: int = 0  # good answers in a row
    interval_days: float = 0.0
    ease: float = START_EASE
    due_at: datetime | None = None
    last_score: int | None = None


def after(schedule: Schedule, score: int, at: datetime) -> Schedule:
    """The schedule after an answer scored `score` at `at`."""
    ease = max(MIN_EASE, schedule.ease + 0.1 - (5 - score) * (0.08 + (5 - score) * 0.02))
    if score < GOOD:
        return replace(schedule, repetitions=0, interval_days=0.0, ease=ease,
                       due_at=at + WEAK_AGAIN, last_score=score)  # fmt: skip
    runs = schedule.repetitions + 1
    days = FIRST_DAYS if runs == 1 else SECOND_DAYS if runs == 2 else schedule.interval_days * ease
    days = min(days, MAX_DAYS)
    return Schedule(runs, days, ease, at + timedelta(days=days), score)


_NAMES = {
    "en": {"situation": "Situation", "task": "Task", "action": "Your own action",
           "result": "Result", "quantified_result": "A number for the result",
           "first_person": 'Speaking as "I"', "conclusion_first": "The point first"},
    "ko": {"situation": "상황", "task": "과제", "action": "본인의 행동", "result": "결과",
           "quantified_result": "결과의 숫자", "first_person": "'제가'로 말하기",
           "conclusion_first": "결론 먼저"},
}  # fmt: skip


def reason(rubrics: Sequence[Rubric | None], language: Language) -> str:
    """Why a question is due, in words: the part its last answers missed most, or its last
    score."""
    recent = rubrics[:RECENT]
    part = most_missing(recent)
    if part is not None:
        name, n = _NAMES[language][part], sum(bool(r and r.lacks(part)) for r in recent)
        if len(recent) == 1:  # "missing in 1 of your last 1 answers" read as a bug
            if language == "ko":
                return f"지난번 답변에서 {name}{_particle(name)} 빠졌습니다"
            return f"{name} missing in your last answer"
        if language == "ko":
            return f"{name}{_particle(name)} 최근 {len(recent)}번 중 {n}번 빠졌습니다"
        return f"{name} missing in {n} of your last {len(recent)} answers"
    last = rubrics[0] if rubrics else None
    score = last.score if last else None
    if language == "ko":
        return f"지난번 점수 {score}/5: 다시 연습할 때입니다"
    return f"Scored {score}/5 last time: time to practise it again"


def _particle(word: str) -> str:
    """이 or 가 after a Korean word (by its last syllable's final consonant)."""
    last = word.rstrip("'\"")[-1]
    if "가" <= last <= "힣":
        return "이" if (ord(last) - 0xAC00) % 28 else "가"
    return "이"
