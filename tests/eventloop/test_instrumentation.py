"""The recorder's mirror matches asyncio's semantics, checked step by step on a real loop.

Every test runs a real ServiceLoop in its own thread, paused, and steps it one callback at a
time; after each step the snapshot must show exactly what asyncio holds at that point.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventloop import ServiceLoop, report_handled
from tests.waiting import wait_for

pytestmark = pytest.mark.timeout(30)

SUBMIT = "submit from thread MainThread: start task main"


@pytest.fixture
def svc() -> Iterator[ServiceLoop]:
    service = ServiceLoop(name="test loop", paused=True, log_unhandled=False).start()
    yield service
    assert service.stop(timeout=5)


def ready(svc: ServiceLoop) -> list[str]:
    return [entry["label"] for entry in svc.snapshot()["ready"]]


def timers(svc: ServiceLoop) -> list[str]:
    return [entry["label"] for entry in svc.snapshot()["timers"]]


def task(svc: ServiceLoop, name: str) -> dict[str, Any]:
    matches = [t for t in svc.snapshot()["tasks"] if t["name"] == name]
    assert len(matches) == 1, f"one task named {name!r} expected, got {matches}"
    return matches[0]


def start_main(svc: ServiceLoop, coro: Any) -> Any:
    """Submit ``coro`` as task "main" and step the submit callback, so main's first step is next."""
    future = svc.submit(coro, name="main")
    assert svc.settle()
    assert ready(svc) == [SUBMIT]
    assert svc.step() == SUBMIT
    assert ready(svc) == ["step of task main"]
    return future


def test_new_tasks_queue_first_steps_fifo_then_sleep_sets_timers(svc: ServiceLoop) -> None:
    async def worker() -> None:
        await asyncio.sleep(1)

    async def main() -> None:
        a = asyncio.create_task(worker(), name="A")
        b = asyncio.create_task(worker(), name="B")
        await asyncio.gather(a, b)

    start_main(svc, main())
    main_task = task(svc, "main")
    assert main_task["state"] == "pending" and not main_task["started"]
    assert main_task["line"]["code"] == "async def main() -> None:"

    assert svc.step() == "step of task main"
    assert ready(svc) == ["step of task A", "step of task B"]
    assert timers(svc) == []
    main_task = task(svc, "main")
    assert main_task["line"]["code"] == "await asyncio.gather(a, b)"
    assert "_GatheringFuture" in main_task["awaiting"]
    assert task(svc, "A")["created_by"] == "task main"
    assert task(svc, "A")["ready"] and task(svc, "B")["ready"]

    assert svc.step() == "step of task A"
    assert ready(svc) == ["step of task B"]
    snap = svc.snapshot()
    assert len(snap["timers"]) == 1
    (timer,) = snap["timers"]
    assert timer["label"] == f"timer #{timer['id']}: asyncio.sleep() of task A is over"
    assert 0.5 < timer["due_in"] <= 1.0
    a = task(svc, "A")
    assert a["state"] == "pending" and not a["ready"] and a["started"]
    assert a["line"]["code"] == "await asyncio.sleep(1)"
    assert a["line"]["file"].endswith("tests/eventloop/test_instrumentation.py")
    assert a["awaiting"].startswith("sleep() → future #")
    assert a["awaiting"].endswith(f"resolved by timer #{timer['id']}")
    assert timer["set_by"] == a["id"]

    assert svc.step() == "step of task B"
    assert ready(svc) == []
    labels = timers(svc)
    assert [label.split(": ", 1)[1] for label in labels] == [
        "asyncio.sleep() of task A is over",
        "asyncio.sleep() of task B is over",
    ]
    snap = svc.snapshot()
    assert snap["timers"][0]["when"] <= snap["timers"][1]["when"]  # due order
    assert snap["control"]["idle"] and not snap["control"]["waiting_at_gate"]


def test_done_callback_joins_ready_queue_after_set_result(svc: ServiceLoop) -> None:
    seen: list[int] = []

    def on_done(future: asyncio.Future[int]) -> None:
        seen.append(future.result())

    async def main() -> None:
        future = asyncio.get_running_loop().create_future()
        future.add_done_callback(on_done)
        await asyncio.sleep(0)
        future.set_result(42)
        await asyncio.sleep(0)

    start_main(svc, main())
    assert svc.step() == "step of task main"
    assert ready(svc) == ["step of task main"]  # sleep(0): back of the queue, nothing else
    assert svc.step() == "step of task main"
    labels = ready(svc)
    assert len(labels) == 2
    assert labels[0].startswith("done-callback of future #")
    assert labels[0].endswith(
        ": test_done_callback_joins_ready_queue_after_set_result.<locals>.on_done"
    )
    assert labels[1] == "step of task main"
    assert seen == []  # set_result() only queued it
    assert svc.step() == labels[0]
    assert seen == [42]


def test_awaited_future_wakes_its_task_through_the_ready_queue(svc: ServiceLoop) -> None:
    async def main() -> str:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        loop.call_soon(future.set_result, "hello")
        return await future

    outcome = start_main(svc, main())
    assert svc.step() == "step of task main"
    (label,) = ready(svc)
    assert label.startswith("Future.set_result of future #")
    assert task(svc, "main")["awaiting"] == label.split(" of ", 1)[1]
    assert svc.step() == label
    (wakeup,) = ready(svc)
    assert wakeup.startswith("step of task main (wake-up: future #") and wakeup.endswith(
        " is done)"
    )
    assert svc.step() == wakeup
    # The submit() bridge is a done-callback of the task, like run_coroutine_threadsafe's.
    (bridge,) = ready(svc)
    assert bridge == "done-callback of task main: ServiceLoop.submit.<locals>.report_outcome"
    assert task(svc, "main")["state"] == "done"
    assert task(svc, "main")["result"] == "'hello'"
    svc.step()
    assert outcome.result(timeout=2) == "hello"


def test_cancelled_timer_disappears(svc: ServiceLoop) -> None:
    def never() -> None:
        raise AssertionError("a cancelled timer ran")

    async def main() -> None:
        handle = asyncio.get_running_loop().call_later(10, never)
        await asyncio.sleep(0)
        handle.cancel()
        await asyncio.sleep(0)

    with svc.subscribe() as sub:
        start_main(svc, main())
        svc.step()
        (label,) = timers(svc)
        assert label.endswith(": test_cancelled_timer_disappears.<locals>.never (set by task main)")
        timer_id = svc.snapshot()["timers"][0]["id"]
        svc.step()  # this step cancels it
        assert timers(svc) == []
        events = sub.get(timeout=0.5).events
        assert {"id": timer_id, "reason": "cancelled"}.items() <= next(
            e for e in events if e["type"] == "removed"
        ).items()


def test_due_timer_moves_to_ready_queue_and_lag_leaves_out_paused_time(svc: ServiceLoop) -> None:
    def ring() -> None:
        pass

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, ring)
        loop.call_soon(ring)
        await asyncio.Event().wait()  # stay pending: no done-callbacks in the way

    start_main(svc, main())
    svc.step()
    assert len(ready(svc)) == 1 and len(timers(svc)) == 1
    # Held at the gate in front of call_soon(ring) while the timer comes due, and then some
    # more: if held time counted as lag, the lag below would be over 0.2 s.
    wait_for(lambda: svc.snapshot()["timers"][0]["due_in"] < -0.2, 3.0, "the timer overdue")
    assert len(timers(svc)) == 1  # the loop thread is held: asyncio has not looked at its heap
    svc.step()
    wait_for(lambda: svc.snapshot()["control"]["waiting_at_gate"], 3.0, "the timer at the gate")
    snap = svc.snapshot()
    assert snap["timers"] == []
    (entry,) = snap["ready"]
    assert entry["kind"] == "timer" and entry["at_gate"]
    assert entry["label"].startswith(f"timer #{entry['id']} fired: ")
    sample = next(s for s in snap["lag"]["samples"] if s["source"] == f"timer #{entry['id']}")
    assert sample["lag"] < 0.1, "time held at the gate must not count as lag"


def test_task_states_running_done_failed_cancelled(svc: ServiceLoop) -> None:
    seen_inside: dict[str, Any] = {}

    async def look() -> None:
        snap = svc.snapshot()  # from inside the loop thread, during this task's step
        seen_inside["current"] = snap["current"]["label"]
        seen_inside["state"] = next(t["state"] for t in snap["tasks"] if t["name"] == "look")

    async def fail() -> None:
        raise ValueError("broken")

    async def forever() -> None:
        await asyncio.sleep(100)

    async def main() -> None:
        tasks = [
            asyncio.create_task(look(), name="look"),
            asyncio.create_task(fail(), name="fail"),
            asyncio.create_task(forever(), name="forever"),
        ]
        await asyncio.sleep(0)
        tasks[2].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    future = start_main(svc, main())
    svc.run()
    future.result(timeout=3)
    assert seen_inside == {"current": "step of task look", "state": "running"}
    assert task(svc, "look")["state"] == "done"
    failed = task(svc, "fail")
    assert failed["state"] == "failed" and failed["error"] == "ValueError: broken"
    assert task(svc, "forever")["state"] == "cancelled"
    assert task(svc, "main")["state"] == "done"


def test_exceptions_handled_and_unhandled_are_logged_with_tracebacks(svc: ServiceLoop) -> None:
    def explode() -> None:
        raise RuntimeError("callback crashed")

    async def main() -> None:
        try:
            raise KeyError("missing")
        except KeyError as exc:
            report_handled(exc, "caught in main")
        asyncio.get_running_loop().call_soon(explode)

    future = start_main(svc, main())
    svc.run()
    future.result(timeout=3)
    wait_for(lambda: len(svc.snapshot()["exceptions"]) == 2, 3.0, "two exceptions")
    handled, unhandled = svc.snapshot()["exceptions"]
    assert handled["handled"] and handled["type"] == "KeyError"
    assert handled["how"] == "caught in main" and handled["task"] == "main"
    assert 'raise KeyError("missing")' in handled["traceback"]
    assert not unhandled["handled"] and unhandled["type"] == "RuntimeError"
    assert unhandled["message"] == "callback crashed"
    assert unhandled["callback"].endswith("explode")
    assert unhandled["how"] == f"Exception in callback {unhandled['callback']}"
    assert 'raise RuntimeError("callback crashed")' in unhandled["traceback"]


def test_call_soon_threadsafe_is_labelled_with_the_calling_thread(svc: ServiceLoop) -> None:
    def from_producer() -> None:
        pass

    thread = threading.Thread(
        target=svc.loop.call_soon_threadsafe, args=(from_producer,), name="producer"
    )
    thread.start()
    thread.join()
    assert ready(svc) == [
        "call_soon_threadsafe from thread producer: "
        "test_call_soon_threadsafe_is_labelled_with_the_calling_thread.<locals>.from_producer"
    ]
    assert svc.step().startswith("call_soon_threadsafe from thread producer")
    assert ready(svc) == []


def test_snapshot_is_json_and_done_tasks_are_pruned() -> None:
    service = ServiceLoop(keep_done_tasks=5, log_unhandled=False).start()
    try:

        async def main() -> None:
            for i in range(20):
                await asyncio.create_task(asyncio.sleep(0), name=f"short {i}")

        service.submit(main(), name="main").result(timeout=3)
        snap = service.snapshot()
        assert json.loads(json.dumps(snap))["name"] == service.name
        names = [t["name"] for t in snap["tasks"]]
        assert names == ["main", "short 16", "short 17", "short 18", "short 19"]
        assert snap["stats"]["tasks_created"] == 21
    finally:
        assert service.stop()


# -- property: the ready queue shown is what runs next --------------------------------------

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("task"), st.integers(0, 3)),
        st.tuples(st.just("soon"), st.integers(1, 3)),
        st.tuples(st.just("timer"), st.integers(0, 15)),
        st.tuples(st.just("cancel_soon"), st.just(0)),
        st.tuples(st.just("cancel_timer"), st.just(0)),
        st.tuples(st.just("future"), st.integers(0, 2)),
        st.tuples(st.just("threadsafe"), st.just(0)),
        st.tuples(st.just("yield"), st.just(0)),
    ),
    min_size=1,
    max_size=12,
)


def noop(*args: object) -> None:
    pass


async def program(ops: list[tuple[str, int]]) -> None:
    """Run a random mix of scheduling operations; finishes when everything it started has."""
    loop = asyncio.get_running_loop()
    children = []
    for op, n in ops:
        if op == "task":

            async def child(turns: int) -> None:
                for _ in range(turns):
                    await asyncio.sleep(0)

            children.append(asyncio.create_task(child(n)))
        elif op == "soon":
            for _ in range(n):
                loop.call_soon(noop)
        elif op == "timer":
            loop.call_later(n / 1000, noop)
        elif op == "cancel_soon":
            loop.call_soon(noop).cancel()
        elif op == "cancel_timer":
            loop.call_later(10, noop).cancel()
        elif op == "future":
            future = loop.create_future()
            for _ in range(n):
                future.add_done_callback(noop)
            loop.call_soon(future.set_result, None)
            children.append(future)
        elif op == "threadsafe":
            thread = threading.Thread(target=loop.call_soon_threadsafe, args=(noop,))
            thread.start()
            thread.join()
        else:
            await asyncio.sleep(0)
    await asyncio.gather(*children)
    await asyncio.sleep(0.02)  # let every timer fire


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(OPS)
def test_head_of_ready_queue_is_the_next_callback_to_run(ops: list[tuple[str, int]]) -> None:
    service = ServiceLoop(paused=True, log_unhandled=False).start()
    try:
        future = service.submit(program(ops), name="main")
        for _ in range(500):
            if future.done():
                break
            assert service.settle(timeout=5)
            snap = service.snapshot()
            if snap["control"]["waiting_at_gate"]:
                head = snap["ready"][0]
                assert head["at_gate"], snap["ready"]
                assert not any(e["at_gate"] for e in snap["ready"][1:])
                assert service.step() == head["label"]
            else:  # idle: the next callback is a timer still to come
                service.step()
        future.result(timeout=5)
        snap = service.snapshot()
        assert snap["timers"] == [] and snap["ready"] == []
        assert all(t["state"] == "done" for t in snap["tasks"])
    finally:
        assert service.stop()


def test_io_readiness_is_labelled_with_its_file_descriptor() -> None:
    service = ServiceLoop(heartbeat=0, log_unhandled=False).start()
    reader, writer = socket.socketpair()
    try:

        async def main() -> bytes:
            loop = asyncio.get_running_loop()
            arrived = loop.create_future()

            def on_readable() -> None:
                loop.remove_reader(reader.fileno())
                arrived.set_result(reader.recv(10))

            loop.add_reader(reader.fileno(), on_readable)
            return await arrived

        with service.subscribe() as sub:
            outcome = service.submit(main(), name="main")
            assert service.settle()
            writer.send(b"ping")
            assert outcome.result(timeout=3) == b"ping"
            events = sub.get(timeout=1).events
        io = [e for e in events if e["type"] == "ready" and e["entry"]["kind"] == "io"]
        assert [e["entry"]["label"] for e in io] == [f"I/O ready: fd {reader.fileno()} is readable"]
        removed = [e for e in events if e["type"] == "removed"]
        assert [(e["id"], e["reason"]) for e in removed] == [(io[0]["entry"]["id"], "ran")]
        assert service.snapshot()["ready"] == []
    finally:
        assert service.stop()
        reader.close()
        writer.close()
