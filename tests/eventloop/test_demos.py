"""Every demo runs to completion on the service loop, and shows what it says it shows."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from eventloop import DEMOS, ServiceLoop, register_demo

pytestmark = pytest.mark.timeout(30)

# Short times so the whole file stays fast; the defaults are for the classroom.
FAST: dict[str, dict[str, Any]] = {
    "callback": {"delay": 0.02},
    "event": {"delay": 0.02},
    "event_loop": {},
    "timeout": {"slow": 0.5, "limit": 0.05},
    "error_handling": {},
    "blocking_call": {"block": 0.3, "tick": 0.02},
    "callback_delay": {"callbacks": 20, "work": 0.002, "delay": 0.01},
}


@pytest.fixture
def svc() -> Iterator[ServiceLoop]:
    service = ServiceLoop(name="demo loop", log_unhandled=False).start()
    yield service
    assert service.stop(timeout=5)


def run_demo(svc: ServiceLoop, name: str) -> Any:
    return svc.submit(DEMOS[name].func(**FAST[name]), name=name).result(timeout=10)


def test_registry_lists_every_demo_with_title_explanation_and_source() -> None:
    assert list(DEMOS) == list(FAST)
    for name, demo in DEMOS.items():
        assert demo.name == name and demo.title
        assert len(demo.explanation.splitlines()) == 2
        assert demo.source.startswith("async def ")
        assert "register_demo" not in demo.source
        assert json.loads(json.dumps(demo.as_dict()))["source"] == demo.source


def test_register_demo_checks_what_it_registers() -> None:
    with pytest.raises(ValueError, match="two lines"):
        register_demo("x", "X", "only one line")
    with pytest.raises(ValueError, match="already registered"):
        register_demo("event", "again", "one\ntwo")
    with pytest.raises(TypeError, match="async def"):
        register_demo("y", "Y", "one\ntwo")(lambda: None)  # type: ignore[arg-type, return-value]
    assert "x" not in DEMOS and "y" not in DEMOS


@pytest.mark.parametrize("name", list(FAST))
def test_demo_runs_to_completion_on_the_service_loop(svc: ServiceLoop, name: str) -> None:
    result = run_demo(svc, name)
    assert isinstance(result, str) and result
    snap = svc.snapshot()
    json.dumps(snap)
    demo_task = next(t for t in snap["tasks"] if t["name"] == name)
    assert demo_task["state"] == "done"


@pytest.mark.parametrize("name", list(FAST))
def test_demo_also_runs_on_a_plain_asyncio_loop(name: str) -> None:
    assert asyncio.run(DEMOS[name].func(**FAST[name]))


def test_callback_demo_runs_the_done_callback_before_waking_the_task(svc: ServiceLoop) -> None:
    assert run_demo(svc, "callback") == "awaited 'pong'"
    notes = [n["text"] for n in svc.snapshot()["notes"]]
    assert notes == ["waiting for the future…", "done-callback: the future holds 'pong'"]


def test_event_demo_wakes_every_waiter_in_order(svc: ServiceLoop) -> None:
    svc.pause()
    future = svc.submit(DEMOS["event"].func(**FAST["event"]), name="event")
    for _ in range(50):
        svc.step()
        labels = [e["label"] for e in svc.snapshot()["ready"]]
        if any("event.set" in n["text"] for n in svc.snapshot()["notes"]):
            break
    # event.set() has just run: one wake-up per waiter, in the order they started waiting.
    assert [label.split(" (")[0] for label in labels] == [
        "step of task waiter 1",
        "step of task waiter 2",
        "step of task waiter 3",
    ]
    waiting = {t["name"]: t for t in svc.snapshot()["tasks"] if t["name"].startswith("waiter")}
    assert all(t["line"]["code"] == "await event.wait()" for t in waiting.values())
    assert all(t["awaiting"].startswith("Event.wait() → future #") for t in waiting.values())
    svc.run()
    assert future.result(timeout=5) == "woke in order: waiter 1, waiter 2, waiter 3"


def test_event_loop_demo_interleaves_tasks(svc: ServiceLoop) -> None:
    assert run_demo(svc, "event_loop") == "A1 B1 C1 A2 B2 C2 A3 B3 C3"


def test_timeout_demo_handles_both_timeouts(svc: ServiceLoop) -> None:
    result = run_demo(svc, "timeout")
    assert result == "wait_for: TimeoutError handled; timeout: TimeoutError handled"
    exceptions = svc.snapshot()["exceptions"]
    assert [(e["handled"], e["type"]) for e in exceptions] == [(True, "TimeoutError")] * 2
    assert svc.snapshot()["timers"] == []  # the slow operations' timers were cancelled


def test_error_handling_demo_reports_one_handled_and_two_unhandled(svc: ServiceLoop) -> None:
    run_demo(svc, "error_handling")
    exceptions = svc.snapshot()["exceptions"]
    summary = [(e["handled"], e["type"], e["message"]) for e in exceptions]
    assert summary == [
        (True, "ValueError", "caught by the awaiter"),
        (False, "RuntimeError", "a callback crashed"),
        (False, "ValueError", "nobody awaited me"),
    ]
    assert exceptions[1]["callback"] == "error_handling_demo.<locals>.broken_callback"
    assert exceptions[2]["how"] == "Task exception was never retrieved"
    assert exceptions[2]["task"] == "forgotten failure"
    assert "raise ValueError(message)" in exceptions[2]["traceback"]
    states = {t["name"]: t["state"] for t in svc.snapshot()["tasks"]}
    assert states["awaited failure"] == "failed"


def test_blocking_call_demo_makes_lag_at_least_the_blocking_time() -> None:
    block, tick = FAST["blocking_call"]["block"], FAST["blocking_call"]["tick"]
    heartbeat = 0.01
    # A heartbeat is always due within `heartbeat` seconds, so one was due soon after
    # time.sleep() began and fired when it ended: lag >= block - heartbeat (5 ms of slack).
    service = ServiceLoop(heartbeat=heartbeat, log_unhandled=False).start()
    try:
        result = run_demo(service, "blocking_call")
        lag = service.snapshot()["lag"]
    finally:
        assert service.stop()
    assert lag["max"] >= block - heartbeat - 0.005
    # The demo's own ticker saw it too, and saw nothing like it with asyncio.to_thread().
    blocked, fixed = (float(x) for x in re.findall(r"(\d+\.\d+) s", result))
    assert blocked >= block - tick - 0.005
    assert fixed < block / 2
    spikes = [s for s in lag["samples"] if s["lag"] >= block / 2]
    assert 1 <= len(spikes) <= 3  # the blocked moment only, not the to_thread phase


def test_callback_delay_demo_fires_the_timer_late(svc: ServiceLoop) -> None:
    params = FAST["callback_delay"]
    result = run_demo(svc, "callback_delay")
    late_ms = float(re.search(r"fired (\d+) ms late", result).group(1))
    # All callbacks were queued before the timer came due; it waits for every one of them.
    assert late_ms >= (params["callbacks"] * params["work"] - params["delay"]) * 1000 - 1


def test_callback_delay_demo_shows_callbacks_queued_ahead_of_the_timer() -> None:
    service = ServiceLoop(paused=True, log_unhandled=False).start()
    try:
        future = service.submit(DEMOS["callback_delay"].func(callbacks=5, work=0), name="demo")
        service.step()  # submit
        service.step()  # the demo's first step queues everything
        snap = service.snapshot()
        assert [e["label"] for e in snap["ready"]] == [
            "callback_delay_demo.<locals>.busy_callback"
        ] * 5
        (timer,) = snap["timers"]
        assert timer["label"].endswith(
            "callback_delay_demo.<locals>.timer_fired (set by task demo)"
        )
        service.run()
        assert "behind 5 callbacks" in future.result(timeout=5)
    finally:
        assert service.stop()
