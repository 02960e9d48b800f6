"""How an answer was said: pace, time to the first word, long pauses, fillers. Pure.

From the recognised words with their times (`timing: "words"`), or, when a
recogniser gives none, from the speech found in the audio (`timing: "audio"`:
speech segments, with the transcript's word count). Pace is words a minute in
English and Hangul syllables a minute in Korean, over the speaking time (first
word to last).

The verdict ranges, and why:
- English, 130-170 words a minute is "good": coaching guides put a good interview
  pace at roughly 130-170 wpm (Orai started from 120-145, Read.ai uses 130-175).
  Under 130 is "slow", over 170 "fast".
- Korean, 240-330 syllables a minute (4.0-5.5 a second) is "good". We found no
  agreed norm for interviews; Korean broadcast news is read at about 5 to 5.5
  syllables a second, and spontaneous speech studies report about 4 to 6; an
  interview answer a listener can follow sits at or a little under a news reader's
  pace. Under 240 is "slow", over 330 "fast". This is our choice, stated as such:
  the espeak voices the tests can make are not Korean speakers, so it could not be
  measured on real Korean answers here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from interview_app.coaching.analysis import fillers_in
from interview_app.coaching.request import Language

GOOD_PACE: dict[Language, tuple[float, float]] = {"en": (130.0, 170.0), "ko": (240.0, 330.0)}
UNIT: dict[Language, str] = {"en": "words_per_minute", "ko": "syllables_per_minute"}
_HANGUL = re.compile(r"[가-힣]")


@dataclass(frozen=True)
class Word:
    """A recognised word and when it was said, in seconds from the recording's start."""

    word: str
    start: float
    end: float


def units(text: str, language: Language) -> int:
    """What pace counts: words in English, Hangul syllables in Korean."""
    return len(_HANGUL.findall(text)) if language == "ko" else len(text.split())


def verdict(value: float, language: Language) -> str:
    """slow, good or fast, by the ranges above."""
    low, high = GOOD_PACE[language]
    return "slow" if value < low else "fast" if value > high else "good"


def _pauses(spans: list[tuple[float, float]], long_pause: float) -> list[dict[str, float]]:
    """Silences between spans of speech at or above `long_pause` seconds."""
    out = []
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        gap = start - end
        if gap >= long_pause:
            out.append({"start": round(end, 2), "seconds": round(gap, 2)})
    return out


def delivery(
    text: str,
    language: Language,
    *,
    words: list[Word] | None,
    speech: list[tuple[float, float]],
    long_pause: float,
) -> dict[str, Any] | None:
    """The delivery figures of one spoken answer; None when nothing was said.

    `words` with their times when the recogniser gives them (`timing: "words"`); else
    `speech`, the spans of speech found in the audio (`timing: "audio"`). Word times
    are clipped to the speech found in the audio, and pauses are its silences when it
    is known: Whisper stretches a word over the silence after it (a 2 s pause came
    out as 0.9 s between words).
    """
    if words:
        spans = [(w.start, w.end) for w in words]
        timing = "words"
        if speech:
            spans = [(max(spans[0][0], speech[0][0]), min(spans[-1][1], speech[-1][1]))]
    elif speech and text.strip():
        spans = speech
        timing = "audio"
    else:
        return None
    first, last = spans[0][0], spans[-1][1]
    if speech:
        spans = [(a, b) for a, b in speech if b > first and a < last] or spans
    speaking = max(last - first, 0.01)
    count = units(text, language)
    rate = count / speaking * 60
    found = fillers_in(text, language)
    pauses = _pauses(spans, long_pause)
    if timing == "words" and words:
        for pause in pauses:
            # Where the pause falls in the transcript, for the rubric's sentence splitting:
            # the words said before its middle.
            middle = pause["start"] + pause["seconds"] / 2
            pause["words_before"] = sum(1 for w in words if (w.start + w.end) / 2 < middle)
    return {
        "speaking_seconds": round(speaking, 2),
        "time_to_first_word_seconds": round(first, 2),
        "rate": {
            "value": round(rate, 1),
            "unit": UNIT[language],
            "verdict": verdict(rate, language),
        },
        "filler_words": len(found),
        "fillers": found,
        "long_pauses": pauses,
        "timing": timing,
    }


_LIMITS = {
    "speaking_seconds": 3600.0,
    "time_to_first_word_seconds": 3600.0,
    "filler_words": 10_000,
}


def parse(data: Any, language: Language) -> dict[str, Any]:
    """A client's `delivery` object, checked field by field and bounded; ValueError says why."""
    if not isinstance(data, dict):
        raise ValueError("'delivery' must be an object")
    out: dict[str, Any] = {}
    for name, limit in _LIMITS.items():
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= limit:
            raise ValueError(f"'delivery.{name}' must be a number from 0 to {limit:g}")
        out[name] = value
    rate = data.get("rate")
    if not isinstance(rate, dict):
        raise ValueError("'delivery.rate' must be an object")
    value = rate.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 2000:
        raise ValueError("'delivery.rate.value' must be a number from 0 to 2000")
    out["rate"] = {"value": value, "unit": UNIT[language], "verdict": verdict(value, language)}
    fillers = data.get("fillers", [])
    if (
        not isinstance(fillers, list)
        or len(fillers) > 200
        or not all(isinstance(f, str) and len(f) <= 40 for f in fillers)
    ):
        raise ValueError("'delivery.fillers' must be a list of at most 200 short words")
    out["fillers"] = fillers
    pauses = data.get("long_pauses", [])
    if not isinstance(pauses, list) or len(pauses) > 200:
        raise ValueError("'delivery.long_pauses' must be a list of at most 200 pauses")
    out["long_pauses"] = []
    for pause in pauses:
        if not isinstance(pause, dict) or not all(
            isinstance(pause.get(k), int | float)
            and not isinstance(pause.get(k), bool)
            and 0 <= pause[k] <= 3600
            for k in ("start", "seconds")
        ):
            raise ValueError("each of 'delivery.long_pauses' must be {start, seconds} in seconds")
        kept = {"start": pause["start"], "seconds": pause["seconds"]}
        if "words_before" in pause:
            at = pause["words_before"]
            if isinstance(at, bool) or not isinstance(at, int) or not 0 <= at <= 10_000:
                raise ValueError("'delivery.long_pauses[].words_before' must be a whole number")
            kept["words_before"] = at
        out["long_pauses"].append(kept)
    timing = data.get("timing", "audio")
    if timing not in ("words", "audio"):
        raise ValueError("'delivery.timing' must be 'words' or 'audio'")
    out["timing"] = timing
    return out


_SECTION = {
    "en": {
        "title": "**How you said it**",
        "pace": "- Pace: {value:g} words a minute, {verdict} (aim for {low:g}-{high:g}).",
        "first": "- Your first word came {s:g} s in{hint}.",
        "slow_start": ": start within two seconds, with your headline",
        "pauses": "- Long pauses: {list}. A breath is fine; pauses this long lose the listener.",
        "pause": "{seconds:g} s at {start:g} s",
        "fillers": "- Fillers: {n} ({words}). Pause silently instead.",
        "no_fillers": "- No filler words: clean.",
        "verdicts": {"slow": "slow", "good": "good", "fast": "fast"},
    },
    "ko": {
        "title": "**말하기**",
        "pace": "- 속도: 분당 {value:g}음절, {verdict} (권장 {low:g}~{high:g}음절).",
        "first": "- 첫 단어까지 {s:g}초 걸렸습니다{hint}.",
        "slow_start": ". 2초 안에 결론으로 시작하세요",
        "pauses": "- 긴 멈춤: {list}. 짧은 숨은 괜찮지만 이만큼 길면 흐름이 끊깁니다.",
        "pause": "{start:g}초 지점 {seconds:g}초",
        "fillers": "- 군말 {n}개({words}). 대신 잠깐 멈추세요.",
        "no_fillers": "- 군말이 없습니다.",
        "verdicts": {"slow": "느림", "good": "적당함", "fast": "빠름"},
    },
}


def section(figures: dict[str, Any], language: Language) -> str:
    """The short delivery section added to the feedback text."""
    text = _SECTION[language]
    low, high = GOOD_PACE[language]
    rate = figures["rate"]
    verdicts: dict[str, str] = text["verdicts"]  # type: ignore[assignment]
    lines = [
        f"\n\n{text['title']}\n",
        str(text["pace"]).format(
            value=rate["value"], verdict=verdicts[rate["verdict"]], low=low, high=high
        ),
    ]
    first = figures["time_to_first_word_seconds"]
    hint = text["slow_start"] if first > 2 else ""
    lines.append(str(text["first"]).format(s=first, hint=hint))
    if figures["long_pauses"]:
        found = [str(text["pause"]).format(**p) for p in figures["long_pauses"][:3]]
        lines.append(str(text["pauses"]).format(list=", ".join(found)))
    if figures["filler_words"]:
        words = ", ".join(dict.fromkeys(figures["fillers"]))
        lines.append(str(text["fillers"]).format(n=figures["filler_words"], words=words))
    else:
        lines.append(str(text["no_fillers"]))
    return lines[0] + "\n".join(lines[1:]) + "\n"
