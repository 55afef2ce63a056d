"""Consuming: prefetch, credit, consumer tags, exclusive, priorities, single active consumer, dispatch rounds.

Reply codes and texts as RabbitMQ 3.10 sends them (probed against a real RabbitMQ 3.10.8 with pika)."""

from __future__ import annotations

import pytest

from tests.broker.expect import raises


def test_exclusive_consumer_conflicts(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        channel.basic_consume("q", lambda d: None, exclusive=True)
        with raises(403, "ACCESS_REFUSED - queue 'q' in vhost '/' in exclusive use"):
            connection.channel().basic_consume("q", lambda d: None)
        second = connection.channel()
        second.queue_declare("r")
        second.basic_consume("r", lambda d: None)
        with raises(403, "ACCESS_REFUSED - queue 'r' in vhost '/' in exclusive use"):
            connection.channel().basic_consume("r", lambda d: None, exclusive=True)


def test_duplicate_consumer_tag_is_a_connection_error(broker):
    connection = broker.connect()
    channel = connection.channel()
    channel.queue_declare("q")
    channel.basic_consume("q", lambda d: None, consumer_tag="dup")
    with raises(530, "NOT_ALLOWED - attempt to reuse consumer tag 'dup'"):
        channel.basic_consume("q", lambda d: None, consumer_tag="dup")
    assert connection.closed


def test_prefetch_is_per_consumer_and_zero_is_unlimited(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        for i in range(6):
            channel.basic_publish("", "q", b"%d" % i)
        channel.basic_qos(prefetch_count=2)
        got = []
        channel.basic_consume("q", got.append)
        assert [d.delivery_tag for d in got] == [1, 2]
        channel.basic_ack(1)
        assert [d.delivery_tag for d in got] == [1, 2, 3]
        channel.basic_ack(0, multiple=True)
        assert len(got) == 5
        unlimited = connection.channel()
        unlimited.queue_declare("u")
        for _ in range(50):
            unlimited.basic_publish("", "u", b"x")
        received = []
        unlimited.basic_consume("u", received.append)
        assert len(received) == 50


def test_delivery_credit_holds_a_no_ack_backlog_in_the_queue_until_granted(broker):
    """A writer that can fall behind (the AMQP listener) limits what it is handed by credit;
    the rest stays ready in the queue, and granting credit resumes delivery in order."""
    from broker.state import delivery_cost

    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("backlog")
        for i in range(10):
            channel.basic_publish("", "backlog", b"%d" % i)
        one = delivery_cost(channel.basic_get("backlog", no_ack=True))
        channel.delivery_credit = 3 * one
        got = []
        channel.basic_consume("backlog", got.append, no_ack=True)
        assert [d.body for d in got] == [b"1", b"2", b"3"]
        assert broker.queue_depths()["backlog"][0] == 6
        channel.grant_credit(one)  # back to one delivery's worth
        assert [d.body for d in got][3:] == [b"4"]
        channel.grant_credit(100 * one)
        assert [d.body for d in got] == [b"%d" % i for i in range(1, 10)]
        assert channel.delivery_credit == 95 * one


def test_global_qos_is_shared_by_the_channel(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        for name in ("a", "b"):
            channel.queue_declare(name)
            for _ in range(5):
                channel.basic_publish("", name, b"x")
        channel.basic_qos(prefetch_count=3, global_qos=True)
        got = []
        channel.basic_consume("a", got.append)
        channel.basic_consume("b", got.append)
        assert len(got) == 3


def test_round_robin_between_consumers(channel):
    channel.queue_declare("q")
    first, second = [], []
    channel.basic_consume("q", first.append, no_ack=True)
    channel.basic_consume("q", second.append, no_ack=True)
    for i in range(6):
        channel.basic_publish("", "q", b"%d" % i)
    assert [d.body for d in first] == [b"0", b"2", b"4"]
    assert [d.body for d in second] == [b"1", b"3", b"5"]


def test_consumer_priority_goes_first_and_lower_ones_get_the_overflow(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        low, high_a, high_b = [], [], []
        channel.basic_consume("q", low.append, arguments={"x-priority": -1})
        channel.basic_qos(prefetch_count=2)
        high = connection.channel()
        high.basic_qos(prefetch_count=2)
        high.basic_consume("q", high_a.append, arguments={"x-priority": 10})
        high.basic_consume("q", high_b.append, arguments={"x-priority": 10})
        for i in range(6):
            channel.basic_publish("", "q", b"%d" % i)
        # Equals take turns until both are full; only then does the low one get messages.
        assert [d.body for d in high_a] == [b"0", b"2"]
        assert [d.body for d in high_b] == [b"1", b"3"]
        assert [d.body for d in low] == [b"4", b"5"]
        high.basic_ack(high_a[0].delivery_tag)
        channel.basic_publish("", "q", b"6")
        assert high_a[-1].body == b"6", "room at the top is used before the low consumer"
        assert [c["priority"] for c in broker.snapshot()["consumers"]] == [-1, 10, 10]


@pytest.mark.parametrize(
    ("value", "got"), [("high", "longstr"), (1.5, "double"), (None, "void"), (True, "bool")]
)
def test_x_priority_must_be_an_integer(broker, value, got):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        text = (
            "PRECONDITION_FAILED - invalid arg 'x-priority' for queue 'q' in vhost '/': "
            f'"expected integer, got {got}"'
        )
        with raises(406, text):
            channel.basic_consume("q", lambda d: None, arguments={"x-priority": value})


def test_single_active_consumer_gets_everything_until_it_goes(broker):
    with broker.connect() as connection:
        queue_args = {"x-single-active-consumer": True}
        setup = connection.channel()
        setup.queue_declare("q", arguments=queue_args)
        first, second = connection.channel(), connection.channel()
        first.basic_qos(prefetch_count=1)
        got: list[tuple[str, bytes, bool]] = []
        first.basic_consume("q", lambda d: got.append(("first", d.body, d.redelivered)))
        tag = second.basic_consume(
            "q",
            lambda d: got.append(("second", d.body, d.redelivered)),
            arguments={"x-priority": 10},  # the first consumer takes the turn, priority or not
        )
        for i in range(3):
            setup.basic_publish("", "q", b"%d" % i)
        assert got == [("first", b"0", False)], "the other consumer waits, even with room"
        statuses = {c["consumer_tag"]: c["activity_status"] for c in broker.snapshot()["consumers"]}
        assert statuses[tag] == "waiting" and list(statuses.values()).count("single_active") == 1
        with raises(403, "ACCESS_REFUSED - queue 'q' in vhost '/' in exclusive use"):
            connection.channel().basic_consume("q", lambda d: None, exclusive=True)
        first.close()  # its unacked message goes back first, then the next consumer takes over
        assert got[1:] == [("second", b"0", True), ("second", b"1", False), ("second", b"2", False)]
        third = connection.channel()
        third_got: list[bytes] = []
        third.basic_consume("q", lambda d: third_got.append(d.body))
        second.basic_cancel(tag)  # with three messages unacked: the turn waits for them
        setup.basic_publish("", "q", b"3")
        assert third_got == []
        assert [c["activity_status"] for c in broker.snapshot()["consumers"]] == ["waiting"]
        second.basic_ack(0, multiple=True)
        assert third_got == [b"3"]
        assert [c["activity_status"] for c in broker.snapshot()["consumers"]] == ["single_active"]


@pytest.mark.parametrize(("value", "got"), [("yes", "longstr"), (1, "signedint"), (None, "void")])
def test_x_single_active_consumer_must_be_a_boolean(channel, value, got):
    text = (
        "PRECONDITION_FAILED - invalid arg 'x-single-active-consumer' for queue 'q' in vhost '/': "
        f"{{unacceptable_type,{got}}}"
    )
    with raises(406, text):
        channel.queue_declare("q", arguments={"x-single-active-consumer": value})


def test_a_deep_backlog_is_handed_over_in_rounds_in_order(broker):
    broker.dispatch_batch = 3
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("backlog")
        for i in range(10):
            channel.basic_publish("", "backlog", b"%d" % i)
        got = []
        # Each round runs after the lock is released: a sink can use the broker between rounds.
        channel.basic_consume(
            "backlog",
            lambda d: got.append((d.body, broker.queue_depths()["backlog"][0])),
            no_ack=True,
        )
        assert [body for body, _ in got] == [b"%d" % i for i in range(10)]
        assert [ready for _, ready in got][:4] == [7, 7, 7, 4], "three per round"
        assert broker.queue_depths()["backlog"] == (0, 0, 1)
        assert not broker.vhosts["/"].queues["backlog"].dispatch_pending
