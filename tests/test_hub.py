"""The hub monitor and its opening gate: unit tests under gevent in a subprocess (the
gate waits on a clock it measures), and the lag histogram from a real worker."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from interview_app.streaming.hub import QUEUED_AFTER
from tests.helpers.env import relay_env
from tests.helpers.fakes import FakeUpstream
from tests.helpers.server import ROOT, Server

_UNDER_GEVENT = r"""
from gevent import monkey; monkey.patch_all()
import json, time, gevent
from interview_app.streaming.hub import Hub

hub = Hub(bound=0.02, max_wait=1.0, per_tick=2)
hub.start()
gevent.sleep(0.1)
calm = hub.lag

def busy(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

# The loop held for 150 ms: the monitor wakes that late.
ticks = hub.ticks
busy(0.15)
while hub.ticks == ticks:  # the monitor's first wake-up after the hold
    gevent.sleep(0.001)
late = hub.lag

# While the hub is late, an opening waits; once it runs on time again (a later tick),
# it goes. (How long it waits is up to the tick: with two test processes on two cores
# this one ran up to 9 ms late into its tick and waited 1.3 ms.)
before = hub.ticks
waited = hub.wait_turn()
ticked = hub.ticks - before

# At most `per_tick` openings pass in one tick: 8 openings take at least 3 more ticks.
passed = []
def open_one():
    hub.wait_turn()
    passed.append(hub.ticks)
gevent.joinall([gevent.spawn(open_one) for _ in range(8)])
per_tick = max(passed.count(t) for t in set(passed))
print(json.dumps({"calm": calm, "late": late, "waited": waited, "ticked": ticked,
                  "spread": max(passed) - min(passed), "per_tick": per_tick}))
"""


def test_the_monitor_sees_a_held_loop_and_the_gate_waits_for_it() -> None:
    out = subprocess.run([sys.executable, "-c", _UNDER_GEVENT], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True).stdout  # fmt: skip
    found = json.loads(out.strip().splitlines()[-1])
    assert found["calm"] < 0.02, found
    assert found["late"] >= 0.1, found  # the 150 ms the loop was held
    assert found["waited"] > 0 and found["ticked"] >= 1, found  # it waited for a tick
    assert found["per_tick"] <= 2 and found["spread"] >= 3, found


_QUEUE_UNDER_GEVENT = r"""
from gevent import monkey; monkey.patch_all()
import json, time, gevent
import interview_app.streaming.hub as module
from interview_app.streaming.hub import Hub

hub = Hub(bound=0.02, max_wait=3.0, per_tick=3)
hub.start()
gevent.sleep(0.05)
sleeps = [0]

class Clock:  # the module's clock, counting every sleep (the monitor's and any waiter's)
    def __getattr__(self, name):
        return getattr(time, name)
    def sleep(self, seconds):
        sleeps[0] += 1
        time.sleep(seconds)

module.time = Clock()
hub.lag = 1.0  # as after a second-long hold: none passes before the next tick
ticks = hub.ticks
order = []
def open_one(i):
    hub.wait_turn()
    order.append(i)
gevent.joinall([gevent.spawn(open_one, i) for i in range(30)])
print(json.dumps({"order": order, "sleeps": sleeps[0], "ticks": hub.ticks - ticks}))
"""


def test_waiting_openings_polled_the_clock_instead_of_queueing() -> None:
    """Each waiter slept 5 ms in a loop: 1,000 waiters woke 200,000 times a second, CPU
    taken from the running streams. Waiters now queue, in arrival order, and only the
    monitor's tick wakes them."""
    out = subprocess.run([sys.executable, "-c", _QUEUE_UNDER_GEVENT], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True).stdout  # fmt: skip
    found = json.loads(out.strip().splitlines()[-1])
    assert found["order"] == list(range(30)), found
    assert found["ticks"] >= 10, found  # they waited for ticks on time, 3 per tick
    assert found["sleeps"] <= found["ticks"] + 2, found  # the monitor's sleeps alone


def test_without_a_bound_the_gate_never_waits() -> None:
    from interview_app.streaming.hub import Hub

    hub = Hub(bound=0, max_wait=5)
    hub.lag = 10.0  # however late
    assert hub.wait_turn() < 0.01


def test_a_worker_reports_its_hub_lag_to_prometheus(upstream_server: FakeUpstream) -> None:
    server = Server(relay_env(upstream_server))
    try:
        conn = server.connection()
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
        conn.close()
    finally:
        server.stop()
    counts = [line for line in text.splitlines()
              if line.startswith("interview_app_hub_lag_seconds_count")]  # fmt: skip
    assert counts and float(counts[0].split()[-1]) > 0, counts


_ONE_LATE_TICK = r"""
from gevent import monkey; monkey.patch_all()
import json, time, gevent
from interview_app.streaming.hub import Hub

hub = Hub(bound=0.02, max_wait=3.0, per_tick=8)
hub.start()
gevent.sleep(0.1)
ticks = hub.ticks
end = time.perf_counter() + 0.5
while time.perf_counter() < end:  # the loop held once, for half a second
    pass
while hub.ticks == ticks:  # the monitor's wake-up after the hold: half a second late
    gevent.sleep(0.001)
late = hub.lag
before = hub.ticks
waited = hub.wait_turn()
print(json.dumps({"late": late, "waited": waited, "ticks": hub.ticks - before}))
"""


def test_one_late_wake_up_held_new_streams_for_several_ticks() -> None:
    """The gate read a decaying maximum of the lag: one late wake-up kept it closed for
    several ticks (after half a second, about nine) while the loop was on time again, and
    at 100 streams that alone raised TTFB p99 from Node's ~80 ms to 111-119 ms. It reads
    the last tick now: the next tick on time lets the opening through."""
    out = subprocess.run([sys.executable, "-c", _ONE_LATE_TICK], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True).stdout  # fmt: skip
    found = json.loads(out.strip().splitlines()[-1])
    assert found["late"] >= 0.4, found
    # One tick or two, not nine: counted in ticks, which a busy machine makes late.
    assert found["ticks"] <= 2, found


@pytest.mark.parametrize("max_wait", ["0.5", "0.1"])
def test_a_stream_held_at_the_gate_sent_no_byte_until_the_grace_ran_out(
    upstream: FakeUpstream, max_wait: str
) -> None:
    """Regression (issue 35, the burst bench): a new stream waiting its turn at the gate
    got its headers only when the one-second grace for a prompt HTTP refusal ran out, so
    500 streams in half a second waited 1.9 s (p99) for a first byte. Held past
    `QUEUED_AFTER` it begins at once: the gate here holds every stream (a bound no loop
    meets) and refuses it after `max_wait`, which came back as a bare 503 and now ends
    the begun stream; a hold shorter than that is still a prompt HTTP status."""
    server = Server(relay_env(upstream, HUB_LAG_BOUND_MS="0.000001",
                              HUB_GATE_MAX_WAIT_SECONDS=max_wait))  # fmt: skip
    try:
        conn = server.connection()
        conn.request("POST", "/api/answer", json.dumps({"question": "Why this role?"}),
                     {"Content-Type": "application/json"})  # fmt: skip
        response = conn.getresponse()
        body = response.read().decode()
        conn.close()
    finally:
        server.stop()
    assert upstream.total_streams == 0  # refused at the gate: never asked
    if float(max_wait) < QUEUED_AFTER:
        assert response.status == 503 and response.getheader("Retry-After") == "2", body
        assert json.loads(body)["error"]["code"] == "server_busy"
        return
    assert response.status == 200, body
    assert response.getheader("Content-Type", "").startswith("text/event-stream")
    assert body.startswith("retry:"), body
    assert "event: error" in body and '"server_busy"' in body, body


def test_a_refusal_at_the_gate_after_the_stream_began_was_counted_as_an_upstream_failure(
    upstream: FakeUpstream,
) -> None:
    """Regression: a stream that began while it waited its turn and was then refused ended
    with `server_busy` but without `retry_after`, and counted in
    `interview_app_upstream_errors_total` with an "upstream failed mid-stream" warning,
    though the model server was never asked."""
    server = Server(relay_env(upstream, HUB_LAG_BOUND_MS="0.000001",
                              HUB_GATE_MAX_WAIT_SECONDS="0.5"))  # fmt: skip
    try:
        conn = server.connection()
        conn.request("POST", "/api/answer", json.dumps({"question": "Why this role?"}),
                     {"Content-Type": "application/json"})  # fmt: skip
        body = conn.getresponse().read().decode()
        conn.request("GET", "/metrics")
        metrics = conn.getresponse().read().decode()
        conn.close()
        log = server.output()
    finally:
        server.stop()
    error = body.split("event: error\n", 1)[1]
    data = json.loads(error.split("data: ", 1)[1].splitlines()[0])
    assert data["code"] == "server_busy" and data["retry_after"] == 2, data

    assert 'interview_app_upstream_errors_total{kind="server_busy"}' not in metrics
    assert "upstream failed mid-stream" not in log


def test_the_interviewers_words_waited_the_whole_gate_though_they_go_anyway(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An opening that is never refused (an interview's next question) waits at most
    `UNREFUSED_MAX_WAIT`, not the gate's 15 s: its caller holds a request until then."""
    from interview_app.streaming import hub as module

    monkeypatch.setattr(module, "UNREFUSED_MAX_WAIT", 0.2)
    hub = module.Hub(bound=0.02, max_wait=30.0)
    hub._started = True  # no monitor: nothing lets it through
    hub.lag = 1.0
    flow = hub.forecast.flow()
    waited = hub.wait_turn(flow, refuse=False)
    assert 0.2 <= waited < 5.0
    assert flow.active and hub.forecast.flows == 1  # it went, counted
