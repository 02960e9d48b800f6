"""Mock interviews run: each transition of `coaching/flow.py` saved under one compare-and-set,
and the streams the new state needs started.

Every interviewer utterance (question, follow-up, report) is a stored stream like
any other: it streams token by token, resumes with `Last-Event-ID`, holds a quota
ticket (so it counts against `MAX_STREAMS_PER_WORKER`) and is ended with
`server_restarting` on shutdown. The next turn is decided when an answer's
feedback ends, from its rubric, and its stream is named in that feedback's `done`
(`next`).

Background work (an utterance ending, a feedback deciding the next turn) runs in
producer greenlets outside any request: it gets a `Caller` with everything it
needs, captured while the request was live.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from interview_app import problems
from interview_app.coaching import flow, interview
from interview_app.coaching.analysis import analyse
from interview_app.coaching.flow import NotNow, Setup, State, Status
from interview_app.coaching.judgement import Rubric
from interview_app.coaching.request import CoachingRequest, Language, is_behavioural
from interview_app.generations import Caller, Generations
from interview_app.history.db import HistoryUnavailable
from interview_app.history.interviews import Interviews
from interview_app.llm.completions import Prefixed
from interview_app.llm.port import LLM, Cancel, UpstreamError
from interview_app.problems import Problem, Refused
from interview_app.streaming import relay
from interview_app.streaming.quotas import Ticket
from interview_app.streaming.store import Store, StoreUnavailable, Stream

log = logging.getLogger(__name__)

UTTERANCE_TOKENS = 300
REPORT_TOKENS = 1500
REPORT_SECONDS = 60.0
REFUSALS: dict[str, Problem] = {
    "finished": problems.INTERVIEW_FINISHED,
    "busy": problems.INTERVIEW_BUSY,
    "asking": problems.INTERVIEW_ASKING,
    "stale_turn": problems.STALE_TURN,
    "not_ready": problems.REPORT_NOT_READY,
}


def path(stream: Stream) -> str:
    """A stream's path below the mount, as the state keeps it."""
    return f"/api/streams/{stream.id}"


def public_next(state: State, root: str) -> dict[str, Any]:
    """What comes next, as a client sees it (its stream as a URL it can open), with a
    drill's aim to show before the answer."""
    current = state.current
    out: dict[str, Any] = {"kind": current.kind, "stream": root + current.stream}
    if current.kind == "follow_up":
        out["reason"] = current.reason
    if current.kind != "report" and state.turns and state.turns[-1].aim:
        out["aim"] = state.turns[-1].aim
    return out


class InterviewService:
    """Mock interviews of every identity, each read and changed only by its own."""

    def __init__(
        self,
        repo: Interviews,
        store: Store,
        llm: LLM,
        generations: Generations,
        *,
        context_tokens: int,
    ) -> None:
        self.repo = repo
        self._store = store
        self._llm = llm
        self._generations = generations
        self._quotas = generations.quotas
        self._context_tokens = context_tokens

    # --- reading -------------------------------------------------------------------
    def get(self, identity: str, interview_id: str) -> tuple[Status, State]:
        """This identity's interview, or 404."""
        found = self.repo.get(identity, interview_id)
        if found is None:
            raise Refused(problems.INTERVIEW_NOT_FOUND)
        _, status, data = found
        return status, State.from_json(data)  # type: ignore[return-value]

    def cut_in(self, identity: str, interview_id: str) -> interview.CutIn | None:
        """When the interviewer would cut short the answer awaited now, or None (the
        setup turned it off, or no answer is awaited); 404 for another identity's."""
        status, state = self.get(identity, interview_id)
        if not state.setup.interrupt or status != "awaiting_answer":
            return None
        taken = state.turns[-1]
        story = _asks_a_story(state)
        return interview.CutIn(
            budget=state.setup.answer_seconds,
            story=story if story is not None else is_behavioural(taken.text or ""),
            language=state.setup.language,
            question=taken.text or "",
        )

    def finished(self, identity: str, interview_id: str) -> State:
        """A finished interview (its report is ready), or 404/409."""
        status, state = self.get(identity, interview_id)
        try:
            return flow.finished(status, state)
        except NotNow as refusal:
            raise Refused(REFUSALS[refusal.why]) from None

    def _ended(self, stream_path: str) -> bool:
        """Whether the stream at `stream_path` has ended (or is gone: expired)."""
        try:
            found = self._store.get(stream_path.rsplit("/", 1)[-1])
            return found is None or found.size()[1]
        except StoreUnavailable:
            return False

    def share(self, identity: str, interview_id: str, days: int) -> tuple[str, datetime, Language]:
        """A new read-only link to a finished interview's report: (share id, expiry, the
        report's language)."""
        state = self.finished(identity, interview_id)  # 404 for another identity, 409 unfinished
        made = self.repo.share(identity, interview_id, days)
        if made is None:
            raise Refused(problems.INTERVIEW_NOT_FOUND)
        return (*made, state.setup.language)

    def unshare(self, identity: str, interview_id: str) -> None:
        """Revoke every link to this identity's interview."""
        if not self.repo.unshare(identity, interview_id):
            raise Refused(problems.INTERVIEW_NOT_FOUND)

    def shared(self, share_id: str, now: datetime) -> State:
        """The finished interview behind a link: 404 unknown or revoked, 410 expired."""
        found = self.repo.shared(share_id)
        if found is None or found[1] != "finished":
            raise Refused(problems.SHARE_NOT_FOUND)
        expires, _, data = found
        if expires <= now:
            raise Refused(problems.SHARE_EXPIRED)
        return State.from_json(data)

    def delete(self, identity: str, interview_id: str) -> None:
        """Delete this identity's interview and its attempts, or 404."""
        if not self.repo.delete(identity, interview_id):
            raise Refused(problems.INTERVIEW_NOT_FOUND)

    # --- changing ------------------------------------------------------------------
    def _apply(
        self, caller: Caller, interview_id: str, transition: Callable[[Status, State], flow.Step]
    ) -> flow.Step:
        """Apply `transition` under one compare-and-set; its refusal as an HTTP problem."""

        def edit(status: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
            new_status, new_state = transition(status, State.from_json(data))  # type: ignore[arg-type]
            return new_status, new_state.to_json()

        try:
            changed = self.repo.change(caller.identity, interview_id, edit)
        except NotNow as refusal:
            raise Refused(REFUSALS[refusal.why]) from None
        if changed is None:
            raise Refused(problems.INTERVIEW_NOT_FOUND)
        return changed[0], State.from_json(changed[1])  # type: ignore[return-value]

    def create(self, caller: Caller, setup: Setup) -> tuple[str, State]:
        """Begin an interview; its first question streams at once."""
        questions = interview.choose_questions(
            setup.language, setup.role, setup.job_posting, setup.categories, setup.questions,
            setup.focus,
        )  # fmt: skip
        if not questions:
            raise Refused(problems.NOTHING_TO_DRILL)  # before anything is taken
        ticket = self._generations.admit(caller.client)
        stream: Stream | None = None
        interview_id: str | None = None
        try:
            stream = self._store.create()
            status, state = flow.begin(setup, questions, path(stream), scripted=self._llm.scripted)
            interview_id = self.repo.create(caller.identity, status, state.to_json())
            self._speak(caller, interview_id, state, 0, questions[0], stream, ticket, ours=False)
        except BaseException:
            # Whatever step failed, what it took is given back (releasing twice is a no-op).
            ticket.release()
            if stream is not None:
                _drop(stream)
            if interview_id is not None:
                try:
                    self.repo.delete(caller.identity, interview_id)
                except HistoryUnavailable:
                    log.warning("interview not removed after it failed to start")
            raise
        return interview_id, state

    def answer(
        self,
        caller: Caller,
        interview_id: str,
        turn: int,
        text: str,
        seconds: float | None,
        delivery: dict[str, Any] | None = None,
        interrupted: str | None = None,
    ) -> str:
        """Answer turn `turn` (`delivery`: how it was said, when spoken; `interrupted`: why
        the interviewer cut it short); its feedback streams; the feedback's path."""
        stream = self._store.create()
        feedback = path(stream)

        def transition(status: Status, st: State) -> flow.Step:
            ended = status in ("asking", "coaching") and self._ended(st.current.stream)
            return flow.answer(status, st, turn, text, seconds, feedback, current_ended=ended,
                               interrupted=interrupted)  # fmt: skip

        try:
            _, state = self._apply(caller, interview_id, transition)
        except BaseException:
            _drop(stream)
            raise
        taken = state.turns[-1]
        setup = state.setup
        req = CoachingRequest(
            "feedback", taken.text or "", text, setup.language, setup.role, delivery,
            story=_asks_a_story(state),
        )  # fmt: skip

        def then(outcome: str, summary: Any, _t: str, _f: Any, _d: float) -> dict[str, Any]:
            if outcome != "done":
                self._give_back(caller, interview_id)
                return {}
            analysis = (summary or {}).get("analysis")
            following = self._advance(caller, interview_id, analysis, summary)
            if following is None:
                # The next step could not be saved: the turn opens again on the next
                # answer (`current_ended`), and `done` says what was not kept.
                return {"saved": False}
            return {"next": following}

        try:
            # Opened as every coaching stream, kept as an attempt of this interview.
            opened = self._generations.open(
                req, caller, lambda: stream, interview_id=interview_id, then=then
            )
            generation = opened.generation
        except BaseException:
            self._give_back(caller, interview_id)
            _drop(stream)
            raise
        note = _over_time(setup, seconds) if taken.over_time and seconds is not None else ""
        if taken.interrupted:
            note = interview.cut_in_note(taken.interrupted, setup.language) + note
        if setup.focus:
            note += _drill(setup, req)  # the drill's part, first
        if note:
            generation.completion = Prefixed(generation.completion, note)
        relay.start(generation, stream, caller.request_id)
        return feedback

    def _give_back(self, caller: Caller, interview_id: str) -> None:
        """The feedback failed: the same question may be answered again."""
        try:
            self._apply(caller, interview_id, flow.feedback_failed)
        except (Refused, HistoryUnavailable):
            log.warning("interview not returned to its question after a failed feedback")

    def _advance(
        self,
        caller: Caller,
        interview_id: str,
        analysis: dict[str, Any] | None,
        summary: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        """After an answer's feedback: the follow-up, the next question, or the report."""
        stream = self._store.create()
        decided: list[flow.Next] = []

        def transition(status: Status, state: State) -> flow.Step:
            new_status, new_state, step = flow.feedback_done(
                status,
                state,
                analysis,
                (summary or {}).get("attempt_id"),
                path(stream),
                scripted=self._llm.scripted,
            )
            decided[:] = [step]
            return new_status, new_state

        try:
            _, state = self._apply(caller, interview_id, transition)
        except (Refused, HistoryUnavailable) as failed:
            problem = failed.problem if isinstance(failed, Refused) else problems.HISTORY_DOWN
            log.warning("interview step not saved", extra={"code": problem.code})
            _drop(stream, problem)
            return None
        ticket = self._quotas.follow_on(caller.client)
        step = decided[0]
        if step.position is None:
            self._report(caller, interview_id, state, stream, ticket)
        else:
            self._speak(caller, interview_id, state, step.position, step.hint, stream, ticket)
        return public_next(state, caller.root)

    # --- the interviewer's streams ---------------------------------------------------
    def _speak(
        self,
        caller: Caller,
        interview_id: str,
        state: State,
        position: int,
        hint: str,
        stream: Stream,
        ticket: Ticket,
        *,
        ours: bool = True,
    ) -> None:
        """Say turn `position` into `stream` (already in the saved state).

        The utterance may end (and record its text) before this returns. An upstream's
        refusal ends the stream; any other failure does too when `ours` (inside a
        feedback's `done`, where nobody could answer it), else it is raised (the
        interview being created is given up, and answered 500).
        """
        try:
            generation = self._utterance(state, position, hint, ticket, caller, interview_id)
        except Exception as exc:
            if not (ours or isinstance(exc, UpstreamError)):
                raise
            _unsaid(exc, stream, ticket)
            return
        self._run(generation, stream, ticket, caller)

    def _utterance(
        self,
        state: State,
        position: int,
        hint: str,
        ticket: Ticket,
        caller: Caller,
        interview_id: str,
    ) -> relay.Generation:
        """Turn `position`'s generation, opened (its prompt built from the saved state)."""
        setup = state.setup
        turn = state.turns[position]
        messages = interview.prompts(
            language=setup.language,
            role=setup.role,
            posting=setup.job_posting,
            resume=setup.resume,
            history=flow.conversation(state.turns[:position]),
            task="follow_up" if turn.kind == "follow_up" else "question",
            n=turn.index + 1,
            total=len(state.questions),
            hint=turn.why or hint,
            budget=self._context_tokens,
        )

        def heard(outcome: str, summary: Any, text: str, _t: Any, _d: float) -> dict[str, Any]:
            try:
                self._apply(caller, interview_id, lambda st, s: flow.heard(st, s, position, text))
            except (Refused, HistoryUnavailable):
                log.warning("interview state not saved after an utterance")
            return {}

        return self._generations.utterance(
            lambda: self._llm.converse(messages, UTTERANCE_TOKENS, turn.text or hint),
            "follow_up" if turn.kind == "follow_up" else "question",
            ticket,
            heard,
        )

    def _run(
        self, generation: relay.Generation, stream: Stream, ticket: Ticket, caller: Caller
    ) -> None:
        ticket.stream = stream
        relay.start(generation, stream, caller.request_id)

    def _report(
        self, caller: Caller, interview_id: str, state: State, stream: Stream, ticket: Ticket
    ) -> None:
        """Stream the report's Markdown; its `done` carries the structured report.

        The rules' report is saved with the finished state at once. The backend may
        write a better one (a model, with structured output) in a thread of its own;
        it replaces the rules' when it fits, and the stream starts when it is settled
        (its readers get pings meanwhile). An offline backend has none and says so at once.
        """
        setup = state.setup

        def tell(report: dict[str, Any], markdown: str) -> None:
            try:
                generation = self._generations.utterance(
                    lambda: self._llm.say(markdown, {"report": report}), "report", ticket
                )
            except Exception as exc:
                _unsaid(exc, stream, ticket)
                return
            self._run(generation, stream, ticket, caller)

        def write() -> None:
            try:
                compose()
            except Exception as exc:  # in a thread of its own: nobody else would end it
                _unsaid(exc, stream, ticket)

        def compose() -> None:
            assert state.report is not None and state.report_md is not None
            turns = [flow.as_dict(t) for t in state.turns]
            messages = interview.report_messages(turns, setup.language, setup.role)
            # Given up on after REPORT_SECONDS: closed at the server, which then stops.
            cancel = Cancel()
            timer = threading.Timer(REPORT_SECONDS, cancel.cancel)
            timer.start()
            try:
                reply = self._llm.structured(
                    messages, "interview_report", interview.REPORT_SCHEMA, REPORT_TOKENS, cancel
                )
            finally:
                timer.cancel()
            judged = interview.report_from_model(reply, setup.language)
            if judged is None:
                if reply is not None:
                    log.warning("model report not used: the rules' report stands")
                tell(state.report, state.report_md)
                return
            report, markdown = judged
            # Counted, not the model's view.
            report["weakest"] = state.report.get("weakest")
            report["interruptions"] = state.report.get("interruptions", 0)
            markdown = interview.render_report(report, setup.language)
            try:
                self._apply(
                    caller,
                    interview_id,
                    lambda st, s: flow.report_written(st, s, report, markdown),
                )
            except (Refused, HistoryUnavailable):
                log.warning("the model's report was not saved; the rules' report stands")
            tell(report, markdown)

        threading.Thread(target=write, daemon=True).start()


def _unsaid(exc: Exception, stream: Stream, ticket: Ticket) -> None:
    """An utterance that could not be opened: its ticket given back and its stream ended
    with why (the page shows it and may retry). Only an upstream's refusal was handled so:
    anything else, raised inside a feedback's `done`, kept the ticket for good and left the
    stream to expire unended."""
    ticket.release()
    if isinstance(exc, UpstreamError):
        _drop(stream, exc.problem)
    else:
        log.exception("the interviewer's turn could not be opened", exc_info=exc)
        _drop(stream)


def _drop(stream: Stream, problem: Problem = problems.INTERNAL) -> None:
    """End a stream nobody was given (or will read): ended, it expires."""
    try:
        stream.finish("error", problem.event())
    except StoreUnavailable:
        pass  # its keys expire on their own TTL


def _asks_a_story(state: State) -> bool | None:
    """Whether the turn being answered asks for a story, where the interview knows: the
    kind of the question it was asked from (the bank's or a posting's topic, however the
    model worded it), and a follow-up is part of its question's story ("What did you do,
    step by step?" was read as "not a past experience"). None: read from the wording."""
    taken = state.turns[-1]
    asked = state.questions[taken.index] if taken.index < len(state.questions) else None
    known = interview.asked_story(asked)
    if known is not None or taken.kind != "follow_up":
        return known
    main = next((t for t in reversed(state.turns[:-1]) if t.kind == "question"), None)
    return True if main is not None and main.text and is_behavioural(main.text) else None


_DRILL = {
    "en": ("> 🎯 Drill. {goal} ", "✓ Your answer has it.", "✗ It is missing.",
           "It is there, but the answer is too thin to count yet."),
    "ko": ("> 🎯 집중 연습. {goal} ", "✓ 답변에 있습니다.", "✗ 빠져 있습니다.",
           "들어 있지만, 답변이 아직 너무 짧아 인정되지 않습니다."),
}  # fmt: skip


def _drill(setup: Setup, req: CoachingRequest) -> str:
    """The drill's part judged first, by the same reading as the coaching's score (the
    delivery's pauses and the question's kind included): a part found in an answer scored
    1 is not "there"."""
    assert setup.focus is not None
    judged = analyse(req.question, req.answer or "", req.language, req.delivery, req.story)
    found = not Rubric.of(judged.as_dict()).lacks(setup.focus)
    head, has, lacks, thin = _DRILL[setup.language]
    said = (thin if judged.score <= 1 else has) if found else lacks
    return head.format(goal=interview.aim(setup.focus, setup.language) or "") + said + "\n\n"


def _over_time(setup: Setup, seconds: float) -> str:
    limit = setup.answer_seconds
    if setup.language == "en":
        return f"> ⏱ You took {round(seconds)} s; the limit was {limit} s.\n\n"
    return f"> ⏱ {round(seconds)}초가 걸렸습니다. 제한 시간은 {limit}초였습니다.\n\n"
