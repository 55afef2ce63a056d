"""Controls of the service loop: pause, step, run, slow motion, stop; heartbeat; event stream."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Iterator

import pytest

from eventloop import ServiceLoop
from tests.waiting import wait_for

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def svc() -> Iterator[ServiceLoop]:
    service = ServiceLoop(name="control loop", log_unhandled=False).start()
    yield service
    assert service.stop(timeout=5)


@pytest.fixture
def quiet() -> Iterator[ServiceLoop]:
    """No heartbeat: no events unless something happens."""
    service = ServiceLoop(name="quiet loop", heartbeat=0, log_unhandled=False).start()
    yield service
    assert service.stop(timeout=5)


async def count_to(n: int, into: list[int]) -> int:
    for i in range(n):
        into.append(i)
        await asyncio.sleep(0)
    return n


def test_pause_holds_only_the_loop_thread(svc: ServiceLoop) -> None:
    svc.pause()
    started = time.monotonic()
    counted: list[int] = []
    future = svc.submit(count_to(3, counted), name="counter")
    snap = svc.snapshot()
    assert time.monotonic() - started < 0.5  # submit and snapshot return at once
    assert [e["label"] for e in snap["ready"]] == [
        "submit from thread MainThread: start task counter"
    ]
    assert svc.settle()
    time.sleep(0.2)  # a window in which nothing may run
    assert not future.done() and counted == []
    snap = svc.snapshot()
    assert snap["control"]["mode"] == "paused" and snap["control"]["waiting_at_gate"]
    assert snap["ready"][0]["at_gate"]
    svc.run()
    assert future.result(timeout=2) == 3
    assert counted == [0, 1, 2]


def test_pause_while_running_stops_callbacks_until_run(svc: ServiceLoop) -> None:
    counted: list[int] = []
    future = svc.submit(count_to(10**9, counted), name="busy")
    wait_for(lambda: counted, what="the task to count")
    svc.pause()
    assert svc.settle()
    frozen = len(counted)
    time.sleep(0.1)  # a window in which nothing may run
    assert len(counted) == frozen
    svc.run()
    wait_for(lambda: len(counted) > frozen, what="counting to go on")
    assert len(counted) > frozen
    future.cancel()  # already running: cannot cancel, the loop's stop() cancels the task
    assert not future.done()


def test_step_runs_exactly_one_callback_then_pauses_again(svc: ServiceLoop) -> None:
    svc.pause()
    calls: list[str] = []
    for name in "abc":
        svc.loop.call_soon_threadsafe(calls.append, name)
    assert svc.settle()
    assert svc.step() == "call_soon_threadsafe from thread MainThread: list.append"
    assert calls == ["a"]
    time.sleep(0.1)  # a window in which nothing more may run
    assert calls == ["a"]
    assert svc.snapshot()["ready_total"] == 2
    svc.step()
    assert calls == ["a", "b"]
    assert svc.snapshot()["control"]["mode"] == "paused"


def test_step_with_nothing_to_run_times_out_and_takes_back_the_step(svc: ServiceLoop) -> None:
    svc.pause()
    assert svc.step(timeout=0.1) is None
    calls: list[int] = []
    svc.loop.call_soon_threadsafe(calls.append, 1)
    time.sleep(0.1)  # a window in which nothing may run
    assert calls == []  # the unused step did not let this through later


def test_step_from_running_pauses_first(svc: ServiceLoop) -> None:
    counted: list[int] = []
    svc.submit(count_to(10**9, counted), name="busy")
    wait_for(lambda: counted, what="the task to count")
    assert svc.step() is not None
    assert svc.snapshot()["control"]["mode"] == "paused"
    assert svc.settle()
    frozen = len(counted)
    time.sleep(0.05)  # a window in which nothing may run
    assert len(counted) == frozen


def test_heartbeat_measures_lag_but_is_hidden_and_never_a_step(svc: ServiceLoop) -> None:
    svc.pause()
    steps = svc.snapshot()["control"]["steps"]
    before = len(svc.snapshot()["lag"]["samples"])
    # Paused but idle: heartbeats keep firing, unseen.
    wait_for(lambda: len(svc.snapshot()["lag"]["samples"]) >= before + 3, what="3 heartbeats")
    snap = svc.snapshot()
    assert len(snap["lag"]["samples"]) >= before + 3
    assert {s["source"] for s in snap["lag"]["samples"]} == {"heartbeat"}
    assert snap["ready"] == [] and snap["timers"] == []
    assert snap["control"]["steps"] == steps
    svc.submit(count_to(1, []), name="one")
    assert svc.step() == "submit from thread MainThread: start task one"


def test_lag_spikes_while_a_callback_blocks_the_loop(svc: ServiceLoop) -> None:
    svc.loop.call_soon_threadsafe(time.sleep, 0.25)
    wait_for(
        lambda: any(s["lag"] >= 0.15 for s in svc.snapshot()["lag"]["samples"]),
        3.0,
        "a lag sample of 0.15 s or more",
    )
    assert svc.snapshot()["lag"]["max"] >= 0.15


def test_slow_motion_waits_before_each_callback(svc: ServiceLoop) -> None:
    with pytest.raises(ValueError, match="between 0 and"):
        svc.set_slow_motion(-1)
    with pytest.raises(ValueError):
        svc.set_slow_motion(60)
    svc.set_slow_motion(0.05)
    started = time.monotonic()
    svc.submit(count_to(3, []), name="slow").result(timeout=5)
    # submit, 4 steps of the task, the done-callback: at least 6 callbacks of 50 ms
    assert time.monotonic() - started >= 0.25
    svc.set_slow_motion(0)
    started = time.monotonic()
    svc.submit(count_to(3, []), name="fast").result(timeout=5)
    assert time.monotonic() - started < 0.2
    # The slow-motion waits are left out of lag, like pauses.
    assert svc.snapshot()["lag"]["max"] < 0.2


def test_stop_works_while_paused_and_cancels_pending_tasks() -> None:
    service = ServiceLoop(paused=True, log_unhandled=False).start()
    sleeper = service.submit(asyncio.sleep(100), name="sleeper")
    service.step()  # submit ran; the sleeper's first step waits at the gate
    assert service.settle()
    assert service.snapshot()["control"]["waiting_at_gate"]
    started = time.monotonic()
    assert service.stop(timeout=5)
    assert time.monotonic() - started < 3
    with pytest.raises(concurrent.futures.CancelledError):
        sleeper.result(timeout=1)
    snap = service.snapshot()
    assert snap["control"]["mode"] == "stopped"
    assert {t["name"]: t["state"] for t in snap["tasks"]}["sleeper"] == "cancelled"
    assert service.stop()  # a second stop is harmless


def test_submit_checks_its_argument_and_the_loop_state() -> None:
    service = ServiceLoop()
    with pytest.raises(TypeError, match="coroutine object"):
        service.submit(count_to)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="call start"):
        service.submit(count_to(1, []))
    assert service.snapshot()["control"]["mode"] == "not started"
    assert service.stop()


def test_events_have_increasing_sequence_numbers(svc: ServiceLoop) -> None:
    events: list[dict] = []
    missed = 0

    def read_until_a_lag_sample() -> bool:
        nonlocal missed
        batch = sub.get(timeout=0.1)
        events.extend(batch.events)
        missed += batch.missed
        return any(e["type"] == "lag" for e in events)

    with svc.subscribe(maxlen=10_000) as sub:
        svc.submit(count_to(3, []), name="counter").result(timeout=2)
        svc.pause()
        svc.run()
        wait_for(read_until_a_lag_sample, what="a heartbeat lag sample")
    assert missed == 0
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert [e["t"] for e in events] == sorted(e["t"] for e in events)
    types = {e["type"] for e in events}
    assert {"ready", "run", "ran", "task", "control", "lag"} <= types
    controls = [e["mode"] for e in events if e["type"] == "control"]
    assert controls == ["paused", "running"]
    runs = [e["entry"]["label"] for e in events if e["type"] == "run"]
    assert runs[:2] == ["submit from thread MainThread: start task counter", "step of task counter"]


def test_slow_subscriber_loses_oldest_events_and_is_told(quiet: ServiceLoop) -> None:
    svc = quiet
    with svc.subscribe(maxlen=5) as small, svc.subscribe(maxlen=10_000) as big:
        svc.submit(count_to(20, []), name="counter").result(timeout=2)
        svc.pause()  # no more events while we read
        assert svc.settle()
        everything = big.get(timeout=1)
        kept = small.get(timeout=1)
    assert len(kept.events) == 5
    assert kept.missed == len(everything.events) - 5 > 0
    assert kept.events == everything.events[-5:]
    assert small.missed_total == kept.missed


def test_subscription_get_returns_empty_on_timeout_and_after_close(quiet: ServiceLoop) -> None:
    svc = quiet
    svc.pause()
    assert svc.settle()
    sub = svc.subscribe()
    started = time.monotonic()
    assert sub.get(timeout=0.05) == ([], 0)
    assert time.monotonic() - started < 1
    sub.close()
    assert sub.get(timeout=5) == ([], 0)  # closed: returns at once
