"""`RUBRIC=inline`: a feedback stream that carries its own rubric after `rubric.MARKER`.

The model writes its feedback, a line with only the marker on it, then the rubric as
JSON; the relay shows the text before the marker and reads the JSON at the end
(`rubric_job.judge`, the rules' rubric when it does not fit).

What a real model did to the first version (llama.cpp, Gemma 3 270M, issue 31): it
quoted its instructions, writing the marker mid-sentence ("…피드백을 다 쓴 뒤
<<<RUBRIC>>>"), so the visible feedback stopped there and the model wrote on out of
sight for two minutes with no byte sent (the router's idle window is 55 s); and a
near miss (`<<<RUBICION>>>`) showed the candidate the whole schema, scoring rules and
anchors. So here:

- the marker counts only alone on its own line; written inside a line it is
  instruction text, and is dropped from what is shown;
- any other line that opens with `<<<` (a near miss) ends the visible feedback, as
  does text the model copies from its own prompt: the last `ECHO` characters are held
  back, and once they are found in the prompt the feedback is cut where the copy
  began. The price of this mode is that lag: `ECHO` characters, a few tokens;
- after the marker, reading stops (and the upstream is closed) once the JSON object
  has closed, or as soon as the tail cannot be one;
- while text is held back or the rubric is written, "" goes to the relay every
  `idle` seconds, so the reader gets its pings and a reader who left is noticed;
- the upstream's finish reason is kept (a rubric cut by `max_tokens` says "length").

No default uses this mode any more (`RUBRIC=model` is the default with a model): the
inline prompt grew a feedback's prompt from 204 to 940 tokens on that server, and its
first token from 2.3-5.6 s to 13-19 s (README, "Rubric modes").
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from interview_app.coaching import rubric
from interview_app.llm.port import Completion, StreamFailure

ECHO = 32  # characters held back to recognise a copy of the prompt before it is shown
_DECOR = " \t*_#>`"  # Markdown around a marker line ("**<<<RUBRIC>>>**")
_JSON_LINE = re.compile(r'(?:^|\n)[ \t]*\{[ \t]*"')  # a line that opens a JSON object
_FENCE = re.compile(r"\s*(`{0,3}|```[a-zA-Z]*\s*)")  # a code fence, arriving piece by piece


class _Json:
    """Where a JSON object written piece by piece has got to: open, closed, or not one."""

    def __init__(self) -> None:
        self.depth = 0
        self.started = False
        self.in_string = False
        self.escaped = False
        self.lead = ""  # what came before the "{" (spaces, a code fence)
        self.end = 0

    def feed(self, text: str) -> str:
        """Where it is after `text`: open, closed (ending at `self.end`) or not_json."""
        for i, c in enumerate(text):
            if not self.started:
                if c == "{":
                    self.started, self.depth = True, 1
                    continue
                self.lead += c
                if not _FENCE.fullmatch(self.lead):
                    return "not_json"
                continue
            if self.in_string:
                if self.escaped:
                    self.escaped = False
                elif c == "\\":
                    self.escaped = True
                elif c == '"':
                    self.in_string = False
            elif c == '"':
                self.in_string = True
            elif c == "{":
                self.depth += 1
            elif c == "}":
                self.depth -= 1
                if self.depth == 0:
                    self.end = i + 1
                    return "closed"
        return "open"


class InlineRubric:
    """A feedback with its rubric after a marker line; see the module docstring."""

    def __init__(
        self,
        inner: Completion,
        judge: Callable[[str | None, str], dict[str, Any]],
        prompt: str,
    ) -> None:
        self._inner = inner
        self._judge = judge
        # As the model may copy it: with the marker, or without it (dropped when shown).
        self._prompt = prompt + "\n" + prompt.replace(rubric.MARKER, "")
        self.idle_ticks = inner.idle_ticks
        self._tail: list[str] | None = None
        self._failure = ""
        self._stopped_early = False

    def texts(self, idle: float | None = None) -> Iterator[str]:
        held = ""  # read but not shown yet
        shown_to_line = True  # whether what was shown ends a line (or nothing was shown)
        last_out = time.monotonic()
        json = _Json()
        try:
            for piece in self._inner.texts(idle):
                if self._tail is not None:  # the rubric: hidden, read to its end
                    if piece:
                        self._tail.append(piece)
                        if self._rubric_ended(json):
                            return
                elif piece:
                    held += piece
                    out, held, ended = self._release(held, shown_to_line, final=False)
                    if out:
                        shown_to_line = out.endswith("\n")
                        last_out = time.monotonic()
                        yield out
                    if self._tail is not None:  # the marker line: the rubric follows
                        if self._rubric_ended(json):
                            return
                    elif ended:
                        return
                    if out:
                        continue
                if idle is not None and time.monotonic() - last_out >= idle:
                    last_out = time.monotonic()
                    yield ""  # the relay's ping: nothing shown for `idle` seconds
        except StreamFailure as exc:
            if self._tail is None:
                raise
            self._failure = f"cut after the feedback ({exc.code})"
            return
        if self._tail is None and held:
            out, _, _ = self._release(held, shown_to_line, final=True)
            if out:
                yield out  # the stream ended: what was held was feedback

    def _rubric_ended(self, json: _Json) -> bool:
        """Whether the tail's last piece closed the JSON (the rest cut off) or showed that
        it is not JSON; either way reading stops."""
        assert self._tail is not None
        state = json.feed(self._tail[-1])
        if state == "open":
            return False
        if state == "closed":
            self._tail[-1] = self._tail[-1][: json.end]
        else:
            self._failure = "no JSON after the marker"
        self._stop()
        return True

    def _stop(self) -> None:
        """Stop reading: the rest is not for anyone (the server stops generating)."""
        self._stopped_early = True
        self._inner.close()

    def _release(self, held: str, at_line_start: bool, *, final: bool) -> tuple[str, str, bool]:
        """What of `held` can be shown now, what stays held, and whether the visible
        feedback has ended (a marker line, a near miss, or a copy of the prompt)."""
        marker = rubric.MARKER
        out = ""
        while True:
            at = held.find("<<<")
            if at < 0:
                break
            before = out + held[:at]  # what precedes it on its line, shown or not
            line_start = (before.strip(_DECOR) == "" and at_line_start) or (
                "\n" in before and before[before.rfind("\n") + 1 :].strip(_DECOR) == ""
            )
            end = held.find("\n", at)
            if end < 0 and not final:
                if line_start or marker.startswith(held[at:]):
                    # Not yet known: a marker line, a marker inside a line, or neither.
                    visible, held = self._checked(out + held[:at], held[at:], final)
                    return visible, held, bool(self._failure)
            line = held[at : end if end >= 0 else len(held)]
            if line_start:
                head = before[: max(0, before.rfind("\n"))]  # not the marker line's "**"
                visible, _ = self._checked(head.rstrip(), "", True)
                if self._failure:
                    pass  # the text before it was already a copy of the prompt
                elif line.rstrip(" \t*_`") == marker:  # **<<<RUBRIC>>>** counts too
                    self._tail = [held[end + 1 :] if end >= 0 else ""]
                else:
                    self._failure = "a broken marker line"
                    self._stop()
                return visible, "", True
            if line.startswith(marker):
                out, held = out + held[:at], held[at + len(marker) :]  # instruction text
                continue
            out, held = out + held[: at + 3], held[at + 3 :]
        out += held
        visible, kept = self._checked(out, "", final)
        return visible, kept, self._failure == "a copy of the prompt"

    def _checked(self, text: str, rest: str, final: bool) -> tuple[str, str]:
        """`text` cut where it starts copying the prompt, or where a line opens a JSON
        object (the rubric without its marker line: it is taken as the rubric); the last
        `ECHO` characters of it kept back (with `rest`) unless `final`."""
        found = _JSON_LINE.search(text)
        if found is not None and self._tail is None:
            self._tail = [text[found.start() :].lstrip() + rest]
            text, rest, final = text[: found.start()], "", True
        prompt = self._prompt
        for end in range(ECHO, len(text) + 1):
            if text[end - ECHO : end] in prompt:
                start = end - ECHO
                while start > 0 and text[start - 1 : end] in prompt:
                    start -= 1
                self._failure = "a copy of the prompt"
                self._stop()
                return text[:start].rstrip(), ""
        if final:
            return text, rest
        cut = max(0, len(text) - ECHO)
        return text[:cut], text[cut:] + rest

    def close(self) -> None:
        self._inner.close()

    def summary(self) -> dict[str, Any]:
        out = self._inner.summary()
        if self._stopped_early and not out.get("finish_reason"):
            out["finish_reason"] = "stop"  # we stopped reading; the model's own end unseen
        if self._tail is not None:
            reply: str | None = "".join(self._tail)
            why = self._failure
        else:
            reply, why = None, self._failure or "no rubric after the feedback"
        out["analysis"] = self._judge(reply, why)
        return out
