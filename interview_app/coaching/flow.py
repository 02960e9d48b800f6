"""The mock interview as data and rules: typed state, pure transitions, no I/O.

h11 is the model: the whole protocol's state machine with the I/O left out. A
transition takes the interview's `(status, state)` and an event and returns the
next `(status, state)`, or raises `NotNow` naming why the event does not apply
now. Nothing here saves, streams or waits: `interviews/service.py` applies each
transition under one compare-and-set on the database row and starts what the new
state needs (an interviewer's stream, a report).

    asking ──heard──> awaiting_answer ──answer──> coaching ──feedback_done──> asking
                             ^                        │                        │
                             └────feedback_failed─────┘                        └──> finished

The state is kept as JSON in the database (`to_json`/`from_json`), in the shape
earlier versions wrote, so interviews saved before this module resume as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from interview_app.coaching.interview import aim, follow_up, report
from interview_app.coaching.judgement import Part, Rubric
from interview_app.coaching.request import Language

Status = Literal["asking", "awaiting_answer", "coaching", "finished"]
TurnKind = Literal["question", "follow_up"]
Why = Literal["finished", "busy", "asking", "stale_turn", "not_ready"]


class NotNow(Exception):
    """The event does not apply to the interview as it is now; `why` says which rule."""

    def __init__(self, why: Why) -> None:
        super().__init__(why)
        self.why: Why = why


@dataclass(frozen=True)
class Setup:
    """What the candidate chose when the interview began."""

    language: Language
    role: str | None
    job_posting: str | None
    resume: str | None
    questions: int
    categories: list[str] | None
    follow_ups: bool
    answer_seconds: int
    focus: Part | None = None  # a drill's rubric part
    interrupt: bool = True  # the interviewer may cut a spoken answer short


@dataclass(frozen=True)
class Turn:
    """One interviewer utterance and the candidate's answer to it."""

    kind: TurnKind
    index: int  # which main question (a follow-up shares its question's index)
    stream: str  # the utterance's stream path, below the mount
    text: str | None = None  # known at once when scripted, else once it has been heard
    reason: str | None = None  # a follow-up's reason code
    why: str | None = None  # a follow-up's reason, as shown to the candidate
    answer: str | None = None
    seconds: float | None = None
    over_time: bool = False
    interrupted: str | None = None  # why the interviewer cut the answer short
    feedback: str | None = None  # the feedback's stream path
    analysis: dict[str, Any] | None = None
    attempt_id: str | None = None
    aim: str | None = None  # a drill's aim, shown before the answer


@dataclass(frozen=True)
class Current:
    """The stream the candidate is looking at now."""

    kind: Literal["question", "follow_up", "feedback", "report"]
    stream: str
    reason: str | None = None  # why a follow-up is asked (shown)


@dataclass(frozen=True)
class State:
    """The whole interview."""

    setup: Setup
    questions: list[str]
    turns: tuple[Turn, ...]
    current: Current
    report: dict[str, Any] | None = None
    report_md: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The state as the database keeps it."""
        out: dict[str, Any] = {
            "setup": as_dict(self.setup),
            "questions": list(self.questions),
            "turns": [as_dict(t) for t in self.turns],
            "current": {"kind": self.current.kind, "stream": self.current.stream},
        }
        if self.report is not None:
            out.update(report=self.report, report_md=self.report_md)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        """A state read back from the database."""
        turns = tuple(Turn(**_known(Turn, t)) for t in data["turns"])
        current = data.get("current") or {"kind": turns[-1].kind, "stream": turns[-1].stream}
        why = turns[-1].why if current["kind"] == "follow_up" else None
        return cls(
            setup=Setup(**_known(Setup, data["setup"])),
            questions=list(data["questions"]),
            turns=turns,
            current=Current(current["kind"], current["stream"], why),
            report=data.get("report"),
            report_md=data.get("report_md"),
        )


def as_dict(obj: Any) -> dict[str, Any]:
    """A dataclass of this module as the plain dict the database and prompts use."""
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


def _known(kind: type, data: dict[str, Any]) -> dict[str, Any]:
    names = kind.__dataclass_fields__  # type: ignore[attr-defined]
    return {k: v for k, v in data.items() if k in names}


@dataclass(frozen=True)
class Next:
    """What a transition decided the interview does next."""

    kind: Literal["question", "follow_up", "report"]
    position: int | None  # the new turn's position (None for the report)
    hint: str  # what to ask (the model tailors it; scripted backends say it as it is)


Step = tuple[Status, State]


def begin(setup: Setup, questions: list[str], stream: str, *, scripted: bool) -> Step:
    """A new interview asking its first question into `stream`."""
    first = Turn("question", 0, stream, text=questions[0] if scripted else None,
                 aim=aim(setup.focus, setup.language))  # fmt: skip
    return "asking", State(setup, questions, (first,), Current("question", stream))


def heard(status: Status, state: State, position: int, text: str) -> Step:
    """The interviewer finished saying turn `position`: the candidate may answer."""
    turns = list(state.turns)
    turns[position] = replace(turns[position], text=text or turns[position].text)
    return ("awaiting_answer" if status == "asking" else status), replace(state, turns=tuple(turns))


def answer(
    status: Status,
    state: State,
    turn: int,
    text: str,
    seconds: float | None,
    feedback: str,
    *,
    current_ended: bool = False,
    interrupted: str | None = None,
) -> Step:
    """The candidate answers turn `turn`; its feedback streams into `feedback`.

    `current_ended`: the stream the state names as current has ended. Then a state
    still `asking` or `coaching` is one whose next step could not be saved (the
    database was down when the utterance or the feedback ended): the turn is open
    again, as it was last saved, rather than stuck for good.
    """
    if status == "finished":
        raise NotNow("finished")
    if turn != len(state.turns) - 1:
        raise NotNow("stale_turn")
    if status == "coaching" and not current_ended:
        raise NotNow("busy")
    if status == "asking" and not current_ended:
        raise NotNow("asking")
    last = state.turns[-1]
    limit = state.setup.answer_seconds
    taken = replace(
        last,
        answer=text,
        seconds=seconds,
        over_time=bool(seconds and seconds > limit),
        interrupted=interrupted,
        feedback=feedback,
    )
    return "coaching", replace(
        state, turns=(*state.turns[:-1], taken), current=Current("feedback", feedback)
    )


def feedback_failed(status: Status, state: State) -> Step:
    """The feedback could not be given: the same turn may be answered again."""
    if status != "coaching":
        raise NotNow("busy")
    last = state.turns[-1]
    return "awaiting_answer", replace(state, current=Current(last.kind, last.stream, last.why))


def feedback_done(
    status: Status,
    state: State,
    analysis: dict[str, Any] | None,
    attempt_id: str | None,
    stream: str,
    *,
    scripted: bool,
) -> tuple[Status, State, Next]:
    """The feedback ended: ask a follow-up, the next question, or write the report."""
    if status != "coaching":
        raise NotNow("busy")
    last = replace(state.turns[-1], analysis=analysis, attempt_id=attempt_id)
    turns = (*state.turns[:-1], last)
    language = state.setup.language
    focus = state.setup.focus
    probe = follow_up(Rubric.stored(analysis), language, focus) if state.setup.follow_ups else None
    if probe is not None and last.kind == "question":
        text = probe.question if scripted else None
        turn = Turn("follow_up", last.index, stream, text, probe.reason, probe.why,
                    aim=aim(focus, language))  # fmt: skip
        current = Current("follow_up", stream, probe.why)
        hint = probe.question
    elif last.index + 1 < len(state.questions):
        hint = state.questions[last.index + 1]
        turn = Turn("question", last.index + 1, stream, hint if scripted else None,
                    aim=aim(focus, language))  # fmt: skip
        current = Current("question", stream)
    else:
        data, markdown = report([as_dict(t) for t in turns], language)
        done = replace(
            state, turns=turns, current=Current("report", stream), report=data, report_md=markdown
        )
        return "finished", done, Next("report", None, "")
    asked = replace(state, turns=(*turns, turn), current=current)
    return "asking", asked, Next(turn.kind, len(asked.turns) - 1, hint)


def report_written(status: Status, state: State, data: dict[str, Any], markdown: str) -> Step:
    """A better report (the model's) replaces the rules' one."""
    if status != "finished":
        raise NotNow("not_ready")
    return status, replace(state, report=data, report_md=markdown)


def finished(status: Status, state: State) -> State:
    """The state of a finished interview (its report is ready)."""
    if status != "finished":
        raise NotNow("not_ready")
    return state


def conversation(turns: tuple[Turn, ...]) -> list[tuple[str, str]]:
    """What was said so far, as (speaker, text)."""
    said: list[tuple[str, str]] = []
    for turn in turns:
        if turn.text:
            said.append(("interviewer", turn.text))
        if turn.answer:
            said.append(("candidate", turn.answer))
    return said
