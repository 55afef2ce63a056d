"""TTL, expiry, length limits and dead-letter chains, on a virtual clock (no sleeping)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from broker import Broker, Properties


@pytest.fixture
def channel(virtual_broker: Broker):
    with virtual_broker.connect("ttl") as connection:
        yield connection.channel()


def ready(channel, queue: str) -> int:
    return channel.queue_declare(queue, passive=True).message_count


def drain(channel, queue: str) -> list:
    out = []
    while (delivery := channel.basic_get(queue, no_ack=True)) is not None:
        out.append(delivery)
    return out


def test_queue_ttl_expires_on_the_virtual_clock(channel, clock):
    channel.queue_declare("q", arguments={"x-message-ttl": 5000})
    channel.basic_publish("", "q", b"old")
    clock.advance(3)
    channel.basic_publish("", "q", b"new")
    clock.advance(2.5)
    assert [d.body for d in drain(channel, "q")] == [b"new"]


def test_per_message_ttl_only_expires_at_the_head(channel, clock):
    channel.queue_declare("q")
    channel.basic_publish("", "q", b"forever")
    channel.basic_publish("", "q", b"short", Properties(expiration="1000"))
    clock.advance(5)
    assert ready(channel, "q") == 2, "an expired message behind a live one waits its turn"
    assert channel.basic_get("q", no_ack=True).body == b"forever"
    assert channel.basic_get("q", no_ack=True) is None, "it expires when it reaches the head"


def test_ttl_zero_is_delivered_only_to_a_consumer_ready_now(channel):
    channel.queue_declare("q")
    channel.basic_publish("", "q", b"x", Properties(expiration="0"))
    assert ready(channel, "q") == 0
    got = []
    channel.basic_consume("q", got.append, no_ack=True)
    channel.basic_publish("", "q", b"y", Properties(expiration="0"))
    assert [d.body for d in got] == [b"y"]


def test_queue_expires_when_unused(channel, clock, virtual_broker):
    channel.queue_declare("temp", arguments={"x-expires": 10_000})
    clock.advance(6)
    channel.queue_declare("temp", passive=True, arguments={"x-expires": 10_000})  # use resets it
    clock.advance(6)
    assert "temp" in virtual_broker.vhosts["/"].queues
    clock.advance(5)
    assert "temp" not in virtual_broker.vhosts["/"].queues
    deleted = [e for e in virtual_broker.events.recent() if e.type == "queue.deleted"]
    assert deleted[-1].get("reason") == "x-expires: unused for too long"


def test_queue_with_a_consumer_does_not_expire(channel, clock, virtual_broker):
    channel.queue_declare("kept", arguments={"x-expires": 1000})
    channel.basic_consume("kept", lambda d: None)
    clock.advance(5)
    assert "kept" in virtual_broker.vhosts["/"].queues


def setup_dlx(channel, queue_args: dict | None = None) -> None:
    channel.exchange_declare("dlx", "fanout")
    channel.queue_declare("dead")
    channel.queue_bind("dead", "dlx")
    channel.exchange_declare("orders", "direct")
    channel.queue_declare("work", arguments={"x-dead-letter-exchange": "dlx", **(queue_args or {})})
    channel.queue_bind("work", "orders", "rk")


def test_rejected_message_is_dead_lettered_with_x_death(channel, clock):
    setup_dlx(channel)
    properties = Properties(
        content_type="text/plain",
        expiration="60000",
        headers={"CC": ["cc1"], "custom": "v"},
    )
    channel.basic_publish("orders", "rk", b"body", properties)
    delivery = channel.basic_get("work")
    channel.basic_reject(delivery.delivery_tag, requeue=False)
    dead = channel.basic_get("dead", no_ack=True)
    assert (dead.exchange, dead.routing_key, dead.body) == ("dlx", "rk", b"body")
    assert dead.properties.expiration is None
    assert dead.properties.content_type == "text/plain"
    headers = dead.properties.headers
    assert headers["custom"] == "v" and headers["CC"] == ["cc1"]
    (death,) = headers["x-death"]
    assert list(death) == [
        "count",
        "reason",
        "queue",
        "time",
        "exchange",
        "routing-keys",
        "original-expiration",
    ]
    assert death["count"] == 1
    assert death["reason"] == "rejected"
    assert death["queue"] == "work"
    assert death["exchange"] == "orders"
    assert death["routing-keys"] == ["rk", "cc1"]
    assert death["original-expiration"] == "60000"
    assert isinstance(death["time"], dt.datetime)
    assert headers["x-first-death-reason"] == "rejected"
    assert headers["x-first-death-queue"] == "work"
    assert headers["x-first-death-exchange"] == "orders"


def test_x_death_counts_and_moves_to_front(channel, clock):
    # work -> dlx -> dead ; dead -> back -> work: a reject loop a student might build.
    setup_dlx(channel)
    channel.exchange_declare("back", "fanout")
    channel.queue_bind("work", "back")
    channel.queue_delete("dead")
    channel.queue_declare("dead", arguments={"x-dead-letter-exchange": "back"})
    channel.queue_bind("dead", "dlx")
    channel.basic_publish("orders", "rk", b"x")
    for queue in ("work", "dead", "work"):
        clock.advance(1)
        delivery = channel.basic_get(queue)
        channel.basic_reject(delivery.delivery_tag, requeue=False)
    deaths = channel.basic_get("dead", no_ack=True).properties.headers["x-death"]
    assert [(d["queue"], d["count"]) for d in deaths] == [("work", 2), ("dead", 1)]
    assert list(deaths[0]) == sorted(deaths[0]), "an updated head entry has sorted keys"
    assert deaths[0]["exchange"] == "orders", "exchange and time stay those of the first death"


def test_expired_message_is_dead_lettered(channel, clock):
    channel.exchange_declare("dlx", "fanout")
    channel.queue_declare("dead")
    channel.queue_bind("dead", "dlx")
    channel.queue_declare("short", arguments={"x-dead-letter-exchange": "dlx"})
    channel.basic_publish("", "short", b"x", Properties(expiration="10"))
    clock.advance(0.02)
    dead = channel.basic_get("dead", no_ack=True)
    (death,) = dead.properties.headers["x-death"]
    assert death["reason"] == "expired"
    assert death["exchange"] == "" and death["routing-keys"] == ["short"]
    assert death["original-expiration"] == "10"


def test_dead_letter_routing_key_overrides(channel, clock):
    channel.exchange_declare("dlx", "direct")
    channel.queue_declare("parked")
    channel.queue_bind("parked", "dlx", "newrk")
    channel.queue_declare(
        "ttl",
        arguments={
            "x-message-ttl": 100,
            "x-dead-letter-exchange": "dlx",
            "x-dead-letter-routing-key": "newrk",
        },
    )
    channel.basic_publish("", "ttl", b"x")
    clock.advance(1)
    dead = channel.basic_get("parked", no_ack=True)
    assert dead.routing_key == "newrk"
    (death,) = dead.properties.headers["x-death"]
    assert death["routing-keys"] == ["ttl"] and "original-expiration" not in death


def test_max_length_drop_head_dead_letters_maxlen(channel):
    setup_dlx(channel, {"x-max-length": 1})
    channel.basic_publish("orders", "rk", b"m1")
    channel.basic_publish("orders", "rk", b"m2")
    assert [d.body for d in drain(channel, "work")] == [b"m2"]
    (dead,) = drain(channel, "dead")
    assert dead.body == b"m1"
    assert dead.properties.headers["x-death"][0]["reason"] == "maxlen"


def test_max_length_bytes(channel):
    channel.queue_declare("q", arguments={"x-max-length-bytes": 10})
    for body in (b"aaaa", b"bbbb", b"cccc"):
        channel.basic_publish("", "q", body)
    assert [d.body for d in drain(channel, "q")] == [b"bbbb", b"cccc"]


def test_reject_publish_nacks_the_publisher(channel):
    channel.queue_declare("q", arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
    channel.confirm_select()
    assert channel.basic_publish("", "q", b"m1").confirmed
    refused = channel.basic_publish("", "q", b"m2")
    assert not refused.confirmed and refused.sequence == 2
    assert [d.body for d in drain(channel, "q")] == [b"m1"]


def test_reject_publish_dlx_also_dead_letters(channel):
    setup_dlx(channel, {"x-max-length": 1, "x-overflow": "reject-publish-dlx"})
    channel.confirm_select()
    channel.basic_publish("orders", "rk", b"m1")
    assert not channel.basic_publish("orders", "rk", b"m2").confirmed
    (dead,) = drain(channel, "dead")
    assert dead.body == b"m2" and dead.properties.headers["x-death"][0]["reason"] == "maxlen"


def test_dead_letter_cycle_without_reject_is_dropped(channel, clock, virtual_broker):
    channel.exchange_declare("loop", "fanout")
    channel.queue_declare("q", arguments={"x-message-ttl": 100, "x-dead-letter-exchange": "loop"})
    channel.queue_bind("q", "loop")
    channel.basic_publish("", "q", b"x")
    clock.advance(1)
    assert ready(channel, "q") == 0
    dropped = [e for e in virtual_broker.events.recent() if e.type == "dropped"]
    assert dropped and "cycle" in dropped[-1].get("reason")


def test_retry_loop_with_a_reject_in_it_is_allowed(channel, clock):
    # The classic delayed-retry pattern: work rejects to a wait queue whose TTL sends it back.
    channel.exchange_declare("retry", "fanout")
    channel.exchange_declare("back", "fanout")
    channel.queue_declare("work", arguments={"x-dead-letter-exchange": "retry"})
    channel.queue_declare(
        "wait", arguments={"x-message-ttl": 5000, "x-dead-letter-exchange": "back"}
    )
    channel.queue_bind("wait", "retry")
    channel.queue_bind("work", "back")
    channel.basic_publish("", "work", b"job")
    delivery = channel.basic_get("work")
    channel.basic_reject(delivery.delivery_tag, requeue=False)
    assert ready(channel, "wait") == 1
    clock.advance(5)
    retried = channel.basic_get("work", no_ack=True)
    assert retried.body == b"job"
    reasons = [(d["queue"], d["reason"]) for d in retried.properties.headers["x-death"]]
    assert reasons == [("wait", "expired"), ("work", "rejected")]


def test_missing_dead_letter_exchange_drops_with_an_event(channel, virtual_broker):
    channel.queue_declare("q", arguments={"x-dead-letter-exchange": "nowhere"})
    channel.basic_publish("", "q", b"x")
    channel.basic_reject(channel.basic_get("q").delivery_tag, requeue=False)
    dropped = [e for e in virtual_broker.events.recent() if e.type == "dropped"]
    assert "'nowhere' does not exist" in dropped[-1].get("reason")


def test_real_clock_ticker_expires_without_any_call(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q", arguments={"x-message-ttl": 50})
        channel.basic_publish("", "q", b"x")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if any(e.type == "expired" for e in broker.events.recent()):
                break
            time.sleep(0.01)
        assert any(e.type == "expired" for e in broker.events.recent())


def test_priority_queue_serves_the_highest_first_and_expires_at_its_head(channel, clock):
    channel.queue_declare("jobs", arguments={"x-max-priority": 5, "x-message-ttl": 1000})
    for body, priority in [(b"low", 1), (b"high", 5), (b"none", None), (b"capped", 9)]:
        channel.basic_publish("", "jobs", body, Properties(priority=priority))
    first = channel.basic_get("jobs")
    assert (first.body, first.message.properties.priority) == (b"high", 5)
    assert channel.basic_get("jobs", no_ack=True).body == b"capped", "9 counts as 5, behind 'high'"
    channel.basic_nack(first.delivery_tag, requeue=True)
    clock.advance(2)  # all expired; the head goes first, the rest as they reach the head
    channel.basic_publish("", "jobs", b"fresh", Properties(priority=0))
    assert [d.body for d in drain(channel, "jobs")] == [b"fresh"]


def test_an_expired_message_that_reaches_the_head_goes_at_once(channel, clock):
    channel.queue_declare("jobs", arguments={"x-max-priority": 5, "x-message-ttl": 300})
    channel.basic_publish("", "jobs", b"low", Properties(priority=1))
    clock.advance(0.15)
    channel.basic_publish("", "jobs", b"high", Properties(priority=5))
    clock.advance(0.25)  # 'low' is past its time, but 'high' (not yet) stands before it
    got = channel.basic_get("jobs", no_ack=True)
    assert (got.body, got.message_count, ready(channel, "jobs")) == (b"high", 0, 0)


def test_requeued_messages_obey_length_limits_and_ttl(channel, clock):
    channel.queue_declare("bounded", arguments={"x-max-length": 2})
    channel.basic_publish("", "bounded", b"a")
    channel.basic_publish("", "bounded", b"b")
    taken = channel.basic_get("bounded")
    channel.basic_publish("", "bounded", b"c")
    channel.basic_nack(taken.delivery_tag, requeue=True)  # back in front: one too many
    assert [d.body for d in drain(channel, "bounded")] == [b"b", b"c"], "drop-head dropped 'a'"
    channel.queue_declare("short", arguments={"x-message-ttl": 100})
    channel.basic_publish("", "short", b"late")
    taken = channel.basic_get("short")
    clock.advance(0.2)
    channel.basic_nack(taken.delivery_tag, requeue=True)
    assert ready(channel, "short") == 0, "a requeued message past its time expires at once"
