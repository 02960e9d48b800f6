"""Stream buffers and the in-process store."""

from __future__ import annotations

import threading
import time

from interview_app.problems import ABANDONED
from interview_app.streaming.memory import MemoryStore, MemoryStream
from tests.helpers import sse_client


def test_ids_count_up_and_one_terminal_event() -> None:
    s = MemoryStream("x")
    assert s.append_text("a") and s.append_text("b")
    assert s.finish("done", {"finish_reason": "stop"})
    assert not s.append_text("late") and not s.finish("error", {"code": "x"})
    frames, ended = s.read(0, 0)
    events = sse_client.messages(b"".join(frames))
    assert [e.id for e in events] == ["1", "2", "3"] and ended
    assert [e.event for e in events] == ["message", "message", "done"]
    assert s.size() == (3, True)


def test_read_after_returns_only_newer_frames() -> None:
    s = MemoryStream("x")
    for t in "abc":
        s.append_text(t)
    frames, ended = s.read(2, 0)
    assert sse_client.text_of(b"".join(frames)) == "c" and not ended


def test_read_wakes_when_a_frame_arrives() -> None:
    s = MemoryStream("x")
    timer = threading.Timer(0.05, s.append_text, args=("late",))
    timer.start()
    frames, _ = s.read(0, 10)
    timer.join()
    assert sse_client.text_of(b"".join(frames)) == "late"


def test_read_times_out_empty_for_a_heartbeat() -> None:
    frames, ended = MemoryStream("x").read(0, 0.01)
    assert frames == [] and not ended


def test_ids_are_unguessable_and_unique() -> None:
    store = MemoryStore(ttl=60, grace=60)
    ids = {store.create().id for _ in range(200)}
    assert len(ids) == 200 and all(len(i) >= 20 for i in ids)


def test_sweep_cancels_a_stream_nobody_reads() -> None:
    store = MemoryStore(ttl=60, grace=5)
    stream = store.create()
    closed = []
    stream.on_cancel(lambda problem: closed.append(True))
    store.sweep(now=time.monotonic() + 4)  # not idle long enough yet (grace is 5)
    assert stream.size() == (0, False)

    store.sweep(now=time.monotonic() + 6)
    frames, ended = stream.read(0, 0)
    assert ended and closed == [True]
    assert sse_client.messages(b"".join(frames))[-1].json() == ABANDONED.event()


def test_sweep_spares_a_stream_with_a_reader() -> None:

    store = MemoryStore(ttl=60, grace=1)
    stream = store.create()
    stream.on_cancel(lambda problem: None)
    stream.attach()
    store.sweep(now=time.monotonic() + 10)
    assert stream.size() == (0, False)
    stream.detach()
    store.sweep(now=time.monotonic() + 10)
    assert stream.size()[1] is True


def test_sweep_forgets_finished_streams_after_ttl() -> None:

    store = MemoryStore(ttl=5, grace=60)
    stream = store.create()
    stream.finish("done", {})
    store.sweep(now=time.monotonic() + 1)
    assert store.get(stream.id) is stream
    store.sweep(now=time.monotonic() + 6)
    assert store.get(stream.id) is None


def test_grace_counts_from_generation_start_not_creation() -> None:
    """Regression: under load a stream was abandoned while its upstream was still opening."""
    store = MemoryStore(ttl=60, grace=5)
    stream = store.create()
    store.sweep(now=time.monotonic() + 60)  # still opening the upstream: never abandoned
    assert stream.size() == (0, False)
    stream.on_cancel(lambda problem: None)  # generation starts; the grace clock with it
    store.sweep(now=time.monotonic() + 4)
    assert stream.size() == (0, False)
    store.sweep(now=time.monotonic() + 6)
    assert stream.size() == (1, True)


def test_a_stream_that_is_never_finished_ends_after_twice_the_ttl() -> None:
    """Regression: sweeps skipped streams with no producer, so one stayed forever."""
    store = MemoryStore(ttl=5, grace=1)
    stream = store.create()  # its request died while opening the upstream
    store.sweep(now=time.monotonic() + 9)
    assert stream.size() == (0, False) and store.unfinished() == [stream.id]
    store.sweep(now=time.monotonic() + 11)
    assert stream.size() == (1, True) and store.unfinished() == []
    store.sweep(now=time.monotonic() + 30)
    assert store.get(stream.id) is None
