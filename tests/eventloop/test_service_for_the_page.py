"""What broker/loop gained for the event-loop page: the running line, cancelling by name, the
order of the queues, deliveries named in labels, demo parameters and the demo context."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from broker import Broker
from eventloop import ServiceLoop
from eventloop.context import DemoContext
from eventloop.demos import BROKER_DEMOS, DEMOS, DemoParamError, all_demos, register_demo
from tests.waiting import wait_for

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def svc() -> Iterator[ServiceLoop]:
    service = ServiceLoop(name="page loop", log_unhandled=False).start()
    yield service
    assert service.stop(timeout=5)


def blocking_callback(seconds: float) -> None:
    time.sleep(seconds)  # the line the page points at


def test_running_line_points_at_the_code_blocking_the_loop(svc: ServiceLoop) -> None:
    files = {__file__}
    assert svc.running_line(files) is None  # idle in select()
    svc.loop.call_soon_threadsafe(blocking_callback, 0.3)
    line = wait_for(lambda: svc.running_line(files))
    assert line["function"] == "blocking_callback"
    assert line["code"] == "time.sleep(seconds)  # the line the page points at"
    order = svc.loop.recorder.order()
    assert order["current"] is not None
    wait_for(lambda: svc.running_line(files) is None)
    svc.pause()
    svc.loop.call_soon_threadsafe(blocking_callback, 0)
    assert svc.settle()
    assert svc.running_line(files) is None  # held at the gate: nothing of ours runs


def test_cancel_by_name_is_a_callback_that_waits_while_paused(svc: ServiceLoop) -> None:
    future = svc.submit(asyncio.sleep(60), name="sleeper")
    wait_for(lambda: any(t["name"] == "sleeper" for t in svc.snapshot()["tasks"]))
    svc.pause()
    assert svc.cancel("sleeper")
    snap = svc.snapshot()
    assert [e["label"] for e in snap["ready"]] == ["from thread MainThread: cancel task sleeper"]
    svc.step()  # the cancel callback: it cancels; the task's last step is queued
    svc.run()
    wait_for(future.done)
    states = {t["name"]: t["state"] for t in svc.snapshot()["tasks"]}
    assert states["sleeper"] == "cancelled"


def test_order_lists_ready_and_timer_ids_first_in_first(svc: ServiceLoop) -> None:
    svc.pause()
    calls: list[str] = []
    handles = [svc.loop.call_soon_threadsafe(calls.append, x) for x in "abc"]
    late = svc.loop.call_soon_threadsafe(svc.loop.call_later, 30, calls.append, "late")
    del handles, late
    assert svc.settle()
    order = svc.loop.recorder.order()
    snap = svc.snapshot()
    assert order["ready"] == [e["id"] for e in snap["ready"]]
    assert order["ready_total"] == 4 and order["timers"] == [] and order["current"] is None
    svc.run()
    wait_for(lambda: svc.loop.recorder.order()["timers_total"] == 1)
    assert svc.loop.recorder.order()["timers"] == [e["id"] for e in svc.snapshot()["timers"]]


def test_a_delivery_is_named_in_the_threadsafe_callback_label(
    broker: Broker, svc: ServiceLoop
) -> None:
    from clients.aio import connect

    got: list[int] = []

    async def consume() -> None:
        connection = await connect(broker)
        channel = await connection.channel()
        queue = await channel.declare_queue("labels")
        async with queue.iterator() as messages:
            async for message in messages:
                got.append(message.broker_message_id)
                await message.ack()
                return

    svc.submit(consume(), name="consumer")
    wait_for(lambda: broker.snapshot()["consumers"])
    svc.pause()
    with broker.connect("publisher") as connection:
        connection.channel().basic_publish("", "labels", b"x")
    assert svc.settle()
    (entry,) = svc.snapshot()["ready"]
    message_id = entry["message"]
    assert entry["label"] == (
        f"call_soon_threadsafe from thread {threading.current_thread().name}: "
        f"Queue.put_nowait(message #{message_id})"
    )
    svc.run()
    wait_for(lambda: got == [message_id])


def test_a_task_not_started_yet_points_at_its_def_line(svc: ServiceLoop) -> None:
    svc.pause()
    svc.submit(DEMOS["event_loop"].func(), name="event_loop")
    svc.step()
    (task,) = svc.snapshot()["tasks"]
    assert not task["started"]
    assert task["line"]["code"].startswith("async def event_loop_demo(")
    assert task["line"]["line"] == DEMOS["event_loop"].first_line


def test_demo_params_are_checked() -> None:
    demo = DEMOS["callback_delay"]
    assert demo.params == {"callbacks": 50, "work": 0.01, "delay": 0.05}
    assert demo.check_params({"callbacks": 5.0, "work": 0}) == {"callbacks": 5, "work": 0.0}
    for bad in ({"x": 1}, {"work": "1"}, {"work": 99}, {"callbacks": -1}, {"callbacks": 1.5}):
        with pytest.raises(DemoParamError):
            demo.check_params(bad)
    assert DEMOS["blocking_call"].params == {"block": 1.5, "tick": 0.1}  # ctx is not a param


def test_broker_demos_need_a_context() -> None:
    assert list(all_demos()) == [*DEMOS, *BROKER_DEMOS]
    assert "consumer_service" in BROKER_DEMOS and "consumer_service" not in DEMOS
    consumer = BROKER_DEMOS["consumer_service"]
    with pytest.raises(ValueError, match="needs a DemoContext"):
        consumer.coroutine()
    with pytest.raises(TypeError, match="first parameter must be ctx"):

        @register_demo("broken", "Broken", "one\ntwo", needs_broker=True)
        async def broken(delay: float = 1.0) -> None: ...

    with pytest.raises(ValueError, match="already registered"):
        register_demo("consumer_service", "again", "one\ntwo")
    assert "broken" not in all_demos()


def test_feed_orders_publishes_only_while_the_queue_has_a_consumer(broker: Broker) -> None:
    context = DemoContext(broker)
    channel = broker.connect("consumer").channel()
    channel.queue_declare("orders")

    def published() -> int:
        return sum(1 for e in broker.events.recent() if e.type == "published")

    with context.feed_orders(every=0.01):
        time.sleep(0.1)  # no consumer yet: the feeder waits (nothing else shows that)
        assert published() == 0
        seen: list[bytes] = []
        channel.basic_consume("orders", lambda delivery: seen.append(delivery.body), no_ack=True)
        wait_for(lambda: len(seen) >= 2)
    count = published()
    time.sleep(0.05)
    assert published() == count  # stopped with the block
    assert seen[0] == b"order 1 (published while the blocking demo ran)"
    assert not [c for c in broker.snapshot()["connections"] if "feeder" in c["name"]]
