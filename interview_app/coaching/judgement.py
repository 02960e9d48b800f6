"""One judgement of an answer, typed: the `Rubric` every view reads, and its `Delivery`.

The rules (`analysis.py`) and a model (`rubric.from_model`) both publish the `analysis`
object of a feedback's `done` event; that object is stored with the attempt and inside a
mock interview's turn. Every view that judges from it (the follow-up, the interview
report, the review queue's reasons, the weakest part of history and of "Practise next")
reads it through `Rubric.of`, which checks it once at the edge, so that no view re-reads
an untyped dict with its own defaults (`.get("star") or {}` in six places gave six
readings: a part a stored rubric does not mention was "missing" to one view and "found"
to the next).

A stored rubric may be older than a field: a part it does not mention is neither found
nor missing, as before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

Part = Literal[
    "situation", "task", "action", "result", "quantified_result", "first_person",
    "conclusion_first",
]  # fmt: skip
PARTS: tuple[Part, ...] = get_args(Part)
STAR: tuple[Part, ...] = ("situation", "task", "action", "result")
# Parts that only a story has: the other answers are not judged on them.
STORY_ONLY: frozenset[Part] = frozenset((*STAR, "quantified_result"))
# Which missing part to work on first when two are missing as often: the anchored scale
# weighs action, then result, then a number for it (`anchors.py`).
PRIORITY: tuple[Part, ...] = (
    "action", "result", "quantified_result", "task", "situation", "first_person",
    "conclusion_first",
)  # fmt: skip
RECENT = 4  # answers a weak part is counted over
WEAK_IN = 2  # a part missing in at least this many of them is weak


@dataclass(frozen=True)
class Delivery:
    """How a spoken answer was said, as parsed in its request's or interview's language."""

    rate: float
    unit: str  # words_per_minute or syllables_per_minute
    pace: str  # slow, good or fast
    filler_words: int
    long_pauses: int

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> Delivery | None:
        """A stored `delivery` object (`delivery.parse`'s shape), or None if there is none."""
        if not data:
            return None
        rate = data["rate"]
        return cls(float(rate["value"]), str(rate["unit"]), str(rate["verdict"]),
                   int(data["filler_words"]), len(data.get("long_pauses") or ()))  # fmt: skip


@dataclass(frozen=True)
class Rubric:
    """An answer's judgement: what was found and missing, the score and what bound it."""

    score: int
    story: bool  # the question asked for a past experience (STAR applies)
    found: frozenset[Part]
    absent: frozenset[Part]  # said missing (a part the rubric does not mention is neither)
    owned: bool  # "I" at least once, not outweighed by "we"
    filler_words: int
    word_count: int
    bound_by: str | None  # what set the score: the first mark of the scale it missed
    verdict: str
    source: str  # rules or model
    delivery: Delivery | None
    data: Mapping[str, Any]  # the published object, as given

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Rubric:
        """The rubric an `analysis` object publishes; ValueError if it is not one."""
        try:
            score = data["score"]
            if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
                raise ValueError("score out of range")
            star = data.get("star") or {}
            said = {**{p: star.get(p) for p in STAR}, **{p: data.get(p) for p in PARTS[4:]}}
            first = bool(data.get("first_person"))
            return cls(
                score=score,
                story=bool(data.get("behavioural", True)),
                found=frozenset(p for p in PARTS if said[p] is True),
                absent=frozenset(p for p in PARTS if said[p] is False),
                owned=bool(data.get("owned", first)),
                filler_words=int(data.get("filler_words") or 0),
                word_count=int(data.get("word_count") or 0),
                bound_by=data.get("bound_by"),
                verdict=str(data.get("verdict") or ""),
                source=str(data.get("source") or "rules"),
                delivery=Delivery.of(data.get("delivery")),
                data=data,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a rubric: {exc}") from exc

    @classmethod
    def stored(cls, data: Mapping[str, Any] | None) -> Rubric | None:
        """A rubric kept with an attempt or a turn; None where there is none or it is broken
        (a view shows what it can rather than fail on one old row)."""
        if not data:
            return None
        try:
            return cls.of(data)
        except ValueError:
            return None

    def judged(self, part: Part) -> bool:
        """Whether this answer is judged on `part` (a story's parts only for a story)."""
        return self.story or part not in STORY_ONLY

    def has(self, part: Part) -> bool:
        """Whether the answer has `part`, where it is judged on it."""
        return self.judged(part) and part in self.found

    def lacks(self, part: Part) -> bool:
        """Whether the rubric says `part` is missing, where the answer is judged on it."""
        return self.judged(part) and part in self.absent

    def missing(self) -> tuple[Part, ...]:
        """The parts the rubric says are missing, where the answer is judged on them."""
        return tuple(p for p in PARTS if self.lacks(p))


@dataclass(frozen=True)
class Weak:
    """A part missing in `missing_in` of the last `of` answers."""

    part: Part
    missing_in: int
    of: int

    def as_dict(self) -> dict[str, Any]:
        return {"part": self.part, "missing_in": self.missing_in, "of": self.of}


def weak_parts(rubrics: Sequence[Rubric | None]) -> list[Weak]:
    """The weak parts of the newest answers (newest first): missing in at least `WEAK_IN`
    of the last `RECENT`, most often first, then by the scale's weight. The one reading of
    "what is weak" for history, the review queue and the report."""
    recent = list(rubrics[:RECENT])
    return [Weak(p, n, len(recent)) for p, n in _missed(recent) if n >= WEAK_IN]


def weakest(rubrics: Sequence[Rubric | None]) -> Weak | None:
    """The one part to work on first, or None if nothing is weak."""
    return next(iter(weak_parts(rubrics)), None)


def most_missing(rubrics: Iterable[Rubric | None]) -> Part | None:
    """The part missing most often among `rubrics` (by the scale's weight on a tie)."""
    return next((p for p, _ in _missed(rubrics)), None)


def _missed(rubrics: Iterable[Rubric | None]) -> list[tuple[Part, int]]:
    """Each part missing in any of `rubrics`, with how often: most first, then by weight."""
    counts = Counter(p for r in rubrics if r for p in r.missing())
    return sorted(counts.items(), key=lambda kv: (-kv[1], PRIORITY.index(kv[0])))


def rubrics(stored: Iterable[Mapping[str, Any] | None]) -> list[Rubric | None]:
    """Stored `analysis` objects as rubrics, in order (None where there is none)."""
    return [Rubric.stored(d) for d in stored]
