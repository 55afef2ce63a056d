"""The event stream: numbered, complete, explained, and never able to slow the broker down."""

from __future__ import annotations

import gc
import threading
import tracemalloc
import weakref

from broker import Broker


def types(events) -> list[str]:
    return [event.type for event in events]


def test_a_message_tells_its_whole_story(broker):
    with broker.connect("story") as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        since = broker.events.last_seq
        channel.basic_publish("", "q", b"hello")
        delivery = channel.basic_get("q")
        channel.basic_ack(delivery.delivery_tag)
        story = [e for e in broker.events.recent(since_seq=since)]
        assert types(story) == ["published", "routed", "enqueued", "delivered", "acked"]
        assert len({e.get("message_id") for e in story}) == 1
        seqs = [e.seq for e in story]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        published = story[0].to_dict()
        assert published["message"]["payload"] == "hello"
        assert published["connection"] == "story"


def test_routed_event_says_why_bindings_did_not_match(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.exchange_declare("orders", "topic")
        for queue, key in (("eu", "*.eu.#"), ("paid", "#.paid"), ("us", "order.us.*")):
            channel.queue_declare(queue)
            channel.queue_bind(queue, "orders", key)
        channel.basic_publish("orders", "order.us.paid", b"x")
        routed = next(e for e in reversed(broker.events.recent()) if e.type == "routed")
        assert sorted(routed.get("queues")) == ["paid", "us"]
        trace = {step["destination"]: step for step in routed.get("trace")}
        assert trace["eu"]["matched"] is False
        assert trace["eu"]["reason"] == "`*.eu.#` vs `order.us.paid`: word 2 `eu` ≠ `us`"
        assert trace["paid"]["matched"] and trace["us"]["matched"]
        assert {m["destination"] for m in routed.get("matched")} == {"paid", "us"}


def test_routed_event_trace_tells_what_was_true_when_the_message_was_routed(broker):
    """Read after the queue is gone, the trace still says the default exchange found it."""
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        channel.basic_publish("", "q", b"x")
        channel.queue_delete("q")
        channel.basic_publish("", "q", b"y")
        routed, unroutable = [
            e for e in broker.events.recent() if e.type in ("routed", "unroutable")
        ]
        assert routed.get("queues") == ["q"]
        assert routed.get("trace") == [
            {
                "destination": "q",
                "destination_type": "queue",
                "routing_key": "q",
                "matched": True,
                "reason": None,
            }
        ]
        assert unroutable.get("trace")[0]["matched"] is False
        assert unroutable.get("trace")[0]["reason"] == "no queue named `q`"


def test_routed_event_names_the_matched_bindings_on_direct_and_fanout_exchanges(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        channel.exchange_declare("tasks", "direct")
        channel.exchange_declare("news", "fanout")
        channel.queue_bind("q", "tasks", "urgent")
        channel.queue_bind("q", "news")
        channel.basic_publish("tasks", "urgent", b"x")
        channel.basic_publish("news", "", b"x")
    routed = [e.to_dict() for e in broker.events.recent() if e.type == "routed"]
    assert [event["matched"] for event in routed] == [
        [{"source": s, "destination": "q", "destination_type": "queue", "routing_key": k}]
        for s, k in (("tasks", "urgent"), ("news", "q"))
    ]


def test_the_history_does_not_keep_closed_channels_or_deleted_queues_alive(broker):
    """Events name channels and queues; holding the objects would keep a closed connection,
    or a deleted queue with its whole backlog, in memory for as long as the history lasts."""
    connection = broker.connect("short-lived")
    channel = connection.channel()
    channel.queue_declare("q")
    channel.basic_publish("", "q", b"x" * 1000)
    channel.basic_ack(channel.basic_get("q").delivery_tag)
    channel.basic_publish("", "q", b"backlog")
    queue = weakref.ref(broker.vhosts["/"].queues["q"])
    closed = weakref.ref(channel)
    channel.queue_delete("q")
    connection.close()
    del channel, connection
    gc.collect()
    assert queue() is None and closed() is None
    story = [e.to_dict() for e in broker.events.recent()]
    assert {"delivered", "acked", "queue.deleted"} <= {e["type"] for e in story}
    assert all(e["connection"] == "short-lived" for e in story if e["type"] == "acked")


def test_the_history_keeps_a_preview_of_large_bodies_not_the_bodies(broker):
    tracemalloc.start()
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("big")
        for _ in range(40):  # 40 MB through the broker
            channel.basic_publish("", "big", b"x" * 1_000_000)
            channel.basic_ack(channel.basic_get("big").delivery_tag)
    gc.collect()
    held, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert held < 2_000_000
    published = next(e for e in reversed(broker.events.recent()) if e.type == "published")
    assert published.get("size") == 1_000_000
    described = published.get("message")
    assert described["payload"] == "x" * 2048
    assert described["payload_bytes"] == 1_000_000 and described["truncated"]


def test_unroutable_event_on_the_default_exchange(broker):
    with broker.connect() as connection:
        connection.channel().basic_publish("", "nobody", b"x")
    event = next(e for e in broker.events.recent() if e.type == "unroutable")
    assert event.get("trace")[0]["reason"] == "no queue named `nobody`"


def test_subscribers_get_events_in_order(broker):
    subscription = broker.events.subscribe()
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        for _ in range(10):
            channel.basic_publish("", "q", b"x")
    events = subscription.get(timeout=1)
    assert types(events)[:3] == ["connection.opened", "channel.opened", "queue.declared"]
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    assert subscription.take_missed() == 0


def test_a_slow_subscriber_loses_events_and_is_told(broker):
    slow = broker.events.subscribe(maxlen=10)
    fast = broker.events.subscribe(maxlen=100_000)
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        for _ in range(100):
            channel.basic_publish("", "q", b"x")
    kept = slow.get(timeout=0)
    assert len(kept) == 10
    assert slow.take_missed() > 0
    assert kept[-1].seq == broker.events.last_seq, "it keeps the newest"
    assert len(fast.get(timeout=0)) > 300, "others are unaffected"


def test_history_then_live_without_gaps_or_repeats(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        stop = threading.Event()

        def publish() -> None:
            while not stop.is_set():
                channel.basic_publish("", "q", b"x")

        publisher = threading.Thread(target=publish)
        publisher.start()
        history, subscription = broker.events.subscribe_with_history(maxlen=1_000_000)
        stop.set()
        publisher.join()
        live = subscription.get(timeout=1)
        while more := subscription.get(timeout=0.1):
            live.extend(more)
        seqs = [e.seq for e in history] + [e.seq for e in live]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_no_sink_runs_while_the_broker_lock_is_held(broker):
    seen = []
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        channel.on_confirm = lambda *args: seen.append(broker._lock.locked())
        channel.on_return = lambda returned: seen.append(broker._lock.locked())
        channel.confirm_select()
        channel.basic_consume("q", lambda delivery: seen.append(broker._lock.locked()))
        subscription = broker.events.subscribe()
        subscription.push = lambda events: seen.append(broker._lock.locked())  # type: ignore
        channel.basic_publish("", "q", b"x")
        channel.basic_publish("amq.direct", "nowhere", b"x", mandatory=True)
    assert len(seen) >= 5 and not any(seen)


def test_a_subscriber_that_never_reads_does_not_block_publishing():
    broker = Broker(history=100)
    broker.events.subscribe(maxlen=5)
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q", arguments={"x-max-length": 10})
        for _ in range(5000):
            channel.basic_publish("", "q", b"x")
    assert len(broker.events.recent()) == 100, "the ring keeps the last N events only"
    broker.close()


def test_connections_report_message_rates(virtual_broker, clock):
    with (
        virtual_broker.connect("producer") as producer,
        virtual_broker.connect("consumer") as consumer,
    ):
        sender, receiver = producer.channel(), consumer.channel()
        sender.queue_declare("q")
        for _ in range(10):
            sender.basic_publish("", "q", b"x")
        for _ in range(4):
            receiver.basic_ack(receiver.basic_get("q").delivery_tag)
        clock.advance(2)
        stats = {c["name"]: c["message_stats"] for c in virtual_broker.snapshot()["connections"]}
        assert stats["producer"]["publish"] == 10
        assert stats["producer"]["publish_details"] == {"rate": 5.0}
        assert stats["consumer"]["deliver_get"] == 4 and stats["consumer"]["ack"] == 4
        assert stats["consumer"]["ack_details"] == {"rate": 2.0}


def test_queues_and_exchanges_report_message_rates(virtual_broker, clock):
    with virtual_broker.connect() as connection:
        channel = connection.channel()
        channel.exchange_declare("orders", "direct")
        channel.queue_declare("paid")
        channel.queue_bind("paid", "orders", "paid")
        for key in ("paid",) * 6 + ("lost",) * 2:
            channel.basic_publish("orders", key, b"x")
        for _ in range(3):
            channel.basic_ack(channel.basic_get("paid").delivery_tag)
        clock.advance(2)
        snapshot = virtual_broker.snapshot()
        queue = next(q for q in snapshot["queues"] if q["name"] == "paid")["message_stats"]
        assert queue["publish_details"] == {"rate": 3.0} and queue["ack"] == 3
        assert queue["deliver_get_details"] == {"rate": 1.5}
        exchange = next(e for e in snapshot["exchanges"] if e["name"] == "orders")
        assert exchange["message_stats"]["publish_in_details"] == {"rate": 4.0}
        assert exchange["message_stats"]["publish_out"] == 6
