"""Thread-safety, proven under load: many publisher threads, consumers that randomly nack and
requeue, and checks that nothing is lost, nothing is duplicated except as a redelivery, and each
publisher's order is kept for messages that were never requeued. Then the hand-over of acks to a
busy lock's holder, step by step, with a clock that stops a thread inside an operation."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import defaultdict

import pytest

from broker import Broker, VirtualClock
from clients.aio import connect
from clients.blocking import BlockingConnection

PUBLISHERS = 8
PER_PUBLISHER = 20_000
CONSUMERS = 4
NACK_RATE = 0.03


class Ledger:
    """What consumers saw, recorded from many threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: dict[tuple[int, int], int] = defaultdict(int)
        self.first_seen: dict[int, list[tuple[int, int]]] = defaultdict(list)  # consumer → order
        self.deliveries: dict[tuple[int, int], list[bool]] = defaultdict(list)  # → redelivered
        self.requeued: set[tuple[int, int]] = set()
        self.done = threading.Event()
        self.total = PUBLISHERS * PER_PUBLISHER

    def saw(self, consumer: int, key: tuple[int, int], redelivered: bool) -> None:
        with self.lock:
            self.deliveries[key].append(redelivered)
            if not redelivered:
                self.first_seen[consumer].append(key)

    def settled(self, key: tuple[int, int], acked: bool) -> None:
        with self.lock:
            if acked:
                self.acked[key] += 1
                if len(self.acked) == self.total:
                    self.done.set()
            else:
                self.requeued.add(key)

    def check(self) -> None:
        expected = {(p, n) for p in range(PUBLISHERS) for n in range(PER_PUBLISHER)}
        assert set(self.acked) == expected, f"lost: {len(expected - set(self.acked))}"
        assert all(count == 1 for count in self.acked.values()), "a message was acked twice"
        for key, flags in self.deliveries.items():
            assert flags[0] is False, f"{key}: first delivery marked redelivered"
            assert all(flags[1:]), f"{key}: a repeat delivery was not marked redelivered"
            assert len(flags) == 1 or key in self.requeued, f"{key}: duplicate without requeue"
        for order in self.first_seen.values():
            last: dict[int, int] = {}
            for publisher, number in order:
                assert number > last.get(publisher, -1), "publisher order broken"
                last[publisher] = number


def parse(body: bytes) -> tuple[int, int]:
    publisher, number = body.split(b":")
    return int(publisher), int(number)


def publish_all(broker: Broker, queue: str) -> list[threading.Thread]:
    def publisher(index: int) -> None:
        with broker.connect(f"publisher {index}") as connection:
            channel = connection.channel()
            for number in range(PER_PUBLISHER):
                channel.basic_publish("", queue, b"%d:%d" % (index, number))

    threads = [threading.Thread(target=publisher, args=(i,)) for i in range(PUBLISHERS)]
    for thread in threads:
        thread.start()
    return threads


@pytest.mark.timeout(300)
def test_threads_publish_and_consume_without_loss_or_duplicates(broker):
    ledger = Ledger()
    connections = []
    for index in range(CONSUMERS):
        connection = BlockingConnection(broker, f"consumer {index}")
        channel = connection.channel()
        channel.queue_declare("stress")
        channel.basic_qos(prefetch_count=50)
        rng = random.Random(index)

        def on_message(ch, method, properties, body, index=index, rng=rng):
            key = parse(body)
            ledger.saw(index, key, method.redelivered)
            if rng.random() < NACK_RATE:
                ledger.settled(key, acked=False)
                ch.basic_nack(method.delivery_tag, requeue=True)
            else:
                ledger.settled(key, acked=True)
                ch.basic_ack(method.delivery_tag)

        channel.basic_consume("stress", on_message)
        connections.append(connection)
    started = time.monotonic()
    for thread in publish_all(broker, "stress"):
        thread.join()
    assert ledger.done.wait(240), f"only {len(ledger.acked)} of {ledger.total} acked"
    elapsed = time.monotonic() - started
    for connection in connections:
        connection.close()
    ledger.check()
    assert ledger.requeued, "the test must exercise requeues"
    info = broker.snapshot()["queues"][0]
    assert info["messages"] == 0
    print(f"{ledger.total} messages, {len(ledger.requeued)} requeued, {elapsed:.1f}s")


@pytest.mark.timeout(300)
def test_asyncio_consumers_under_thread_publishers(broker):
    ledger = Ledger()

    async def consumers() -> None:
        connection = await connect(broker, "asyncio consumers")
        async with connection:
            rng = random.Random(7)

            async def consume(index: int) -> None:
                channel = await connection.channel()
                await channel.set_qos(prefetch_count=50)
                queue = await channel.declare_queue("stress-aio")
                async with queue.iterator() as messages:
                    async for message in messages:
                        key = parse(message.body)
                        ledger.saw(index, key, message.redelivered)
                        if rng.random() < NACK_RATE:
                            ledger.settled(key, acked=False)
                            await message.nack(requeue=True)
                        else:
                            ledger.settled(key, acked=True)
                            await message.ack()
                        if ledger.done.is_set():
                            return

            tasks = [asyncio.create_task(consume(i)) for i in range(CONSUMERS)]
            ready.set()
            while not ledger.done.is_set():
                await asyncio.sleep(0.05)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    ready = threading.Event()
    loop_thread = threading.Thread(target=asyncio.run, args=(consumers(),))
    loop_thread.start()
    assert ready.wait(10)
    with broker.connect() as connection:
        connection.channel().queue_declare("stress-aio")
    for thread in publish_all(broker, "stress-aio"):
        thread.join()
    assert ledger.done.wait(240), f"only {len(ledger.acked)} of {ledger.total} acked"
    loop_thread.join(30)
    ledger.check()
    assert ledger.requeued


@pytest.mark.timeout(120)
def test_a_stuck_consumer_slows_only_itself(broker):
    stuck = threading.Event()
    with broker.connect() as setup:
        channel = setup.channel()
        channel.queue_declare("slow")
        channel.queue_declare("fast")
    slow = BlockingConnection(broker, "slow consumer").channel()
    slow.basic_qos(prefetch_count=1)
    slow.basic_consume("slow", lambda ch, m, p, b: stuck.wait(30))
    fast_got = []
    fast = BlockingConnection(broker, "fast consumer").channel()
    fast.basic_consume("fast", lambda ch, m, p, b: fast_got.append(b), auto_ack=True)
    publisher = BlockingConnection(broker, "publisher").channel()
    for i in range(1000):
        publisher.basic_publish("", "slow", b"x")
        publisher.basic_publish("", "fast", b"%d" % i)
    deadline = time.monotonic() + 10
    while len(fast_got) < 1000 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(fast_got) == 1000
    slow_info = next(q for q in broker.snapshot()["queues"] if q["name"] == "slow")
    assert slow_info["messages_unacknowledged"] == 1, "prefetch bounds what the stuck one holds"
    assert slow_info["messages_ready"] == 999
    stuck.set()


@pytest.mark.timeout(120)
def test_concurrent_declares_binds_and_deletes_keep_state_consistent(broker):
    errors: list[BaseException] = []

    def churn(index: int) -> None:
        try:
            with broker.connect(f"churn {index}") as connection:
                channel = connection.channel()
                for round_ in range(300):
                    queue = f"q{index}-{round_ % 5}"
                    channel.queue_declare(queue)
                    channel.exchange_declare(f"x{round_ % 3}", "topic")
                    channel.queue_bind(queue, f"x{round_ % 3}", "a.#")
                    channel.basic_publish(f"x{round_ % 3}", "a.b", b"x")
                    if round_ % 7 == 0:
                        channel.queue_delete(queue)
        except BaseException as error:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=churn, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    snapshot = broker.snapshot()
    queue_names = {q["name"] for q in snapshot["queues"]}
    for binding in snapshot["bindings"]:
        assert binding["destination"] in queue_names, "no binding may outlive its queue"


class GatedClock(VirtualClock):
    """Stops one named thread the next time it reads the time, which the broker does while it
    holds its lock: that thread is then "in the middle of an operation" until `go` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.stop_thread: str | None = None
        self.stopped = threading.Event()
        self.go = threading.Event()

    def wall(self) -> float:
        if threading.current_thread().name == self.stop_thread:
            self.stop_thread = None
            self.stopped.set()
            self.go.wait(10)
        return super().wall()


class BusyBroker:
    """A broker, a consumer holding one unacked message ("first"), and another thread stopped
    in the middle of an operation (by default publishing "second"): it holds the broker lock
    until `finish()`."""

    def __init__(self, operation=None) -> None:  # noqa: ANN001  (called with this BusyBroker)
        self.clock = GatedClock()
        self.broker = Broker(clock=self.clock)
        self.consumer = self.broker.connect("consumer").channel()
        self.consumer.queue_declare("q")
        self.consumer.basic_publish("", "q", b"first")
        self.delivery = self.consumer.basic_get("q")
        self.producer = self.broker.connect("producer").channel()
        operation = operation or (lambda busy: busy.producer.basic_publish("", "q", b"second"))
        self.clock.stop_thread = "busy"
        self._busy = in_thread(lambda: operation(self), "busy")
        assert self.clock.stopped.wait(5) and self.broker._lock.locked()

    def finish(self) -> None:
        self.clock.go.set()
        self._busy.join(5)


def in_thread(action, name: str | None = None) -> threading.Thread:
    thread = threading.Thread(target=action, name=name)
    thread.start()
    return thread


@pytest.fixture
def busy():
    busy = BusyBroker()
    yield busy
    busy.broker.close()


def test_an_ack_does_not_wait_for_a_busy_broker_and_lands_before_it_is_free(busy):
    tag = busy.delivery.delivery_tag
    acker = in_thread(lambda: busy.consumer.send_settle("ack", tag))
    acker.join(2)
    assert not acker.is_alive(), "the ack waited for the lock"
    assert tag in busy.consumer.unacked, "not applied while the lock is busy"
    busy.finish()
    assert not busy.consumer.unacked, "the busy thread applied it before letting go of the lock"
    last = busy.broker.events.recent(limit=4)
    assert sorted(e.type for e in last) == ["acked", "enqueued", "published", "routed"]
    assert busy.broker.queue_depths()["q"] == (1, 0, 0)


def test_a_handed_over_ack_comes_before_its_threads_next_call(busy):
    def ack_then_close() -> None:
        busy.consumer.send_settle("ack", busy.delivery.delivery_tag)
        busy.consumer.close()  # would requeue the message if it came before the ack

    closer = in_thread(ack_then_close)
    while not busy.broker._settles and closer.is_alive():
        time.sleep(0.001)  # until the ack is handed over; close() then waits for the lock
    busy.finish()
    closer.join(5)
    types = [e.type for e in busy.broker.events.recent()]
    assert "acked" in types and "requeued" not in types
    assert busy.broker.queue_depths()["q"] == (1, 0, 0)


def test_an_unknown_tag_handed_over_closes_the_channel_with_406(busy):
    in_thread(lambda: busy.consumer.send_settle("ack", 99)).join(2)
    busy.finish()
    assert busy.consumer.closed
    assert busy.consumer.close_error.reply_text == "PRECONDITION_FAILED - unknown delivery tag 99"
    assert busy.broker.queue_depths()["q"] == (2, 0, 0), "its unacked message went back"
    assert busy.producer.basic_get("q").redelivered, "first in line again, marked redelivered"


@pytest.mark.parametrize(
    "reading",
    [
        lambda broker: broker.queue_depths(),
        lambda broker: broker.snapshot(),
        lambda broker: broker.events.recent(),
        lambda broker: broker.next_deadline(),
    ],
    ids=["queue_depths", "snapshot", "recent events", "next_deadline"],
)
def test_an_ack_handed_to_a_thread_that_only_reads_is_applied_when_it_lets_go(reading):
    """Pages and the timer only read, but they take the same lock: a settle left for them
    must not wait for somebody's next write (a prefetch-1 consumer would stall)."""
    busy = BusyBroker(operation=lambda busy: reading(busy.broker))
    in_thread(lambda: busy.consumer.send_settle("ack", busy.delivery.delivery_tag)).join(2)
    busy.finish()
    assert not busy.consumer.unacked
    assert busy.broker.queue_depths()["q"] == (0, 0, 0)
    busy.broker.close()
