"""Conformance: the same pika programs against QueueLab's listener and a real RabbitMQ.

Each test runs once per broker (the `target` fixture) and asserts the same observable outcome:
what the client received, which error it got, with which reply code and text. Names are unique
per test and everything declared on the real RabbitMQ is deleted afterwards.
"""

# ruff: noqa: F811  (the fixtures imported from tests.amqp_helpers are test parameters)

from __future__ import annotations

import datetime as dt
import decimal
import time
from collections.abc import Iterator

import pika
import pytest
from pika.exceptions import (
    ChannelClosedByBroker,
    ConnectionClosedByBroker,
    NackError,
    UnroutableError,
)

from tests.amqp_helpers import (  # noqa: F401  (fixtures used as parameters)
    amqp_broker,
    amqp_server,
    amqp_url,
    pika_connect,
    rabbitmq_url,
    target,
    unique,
)

pytestmark = pytest.mark.timeout(30)


class Session:
    """One pika connection plus a record of what to delete on the way out."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.connection = pika_connect(url)
        self.channel = self.connection.channel()
        self.queues: list[str] = []
        self.exchanges: list[str] = []

    def queue(self, label: str = "q", **kwargs: object) -> str:
        name = unique(label)
        self.channel.queue_declare(name, **kwargs)
        if not kwargs.get("exclusive"):  # an exclusive queue goes with its connection
            self.queues.append(name)
        return name

    def exchange(self, kind: str, label: str = "x") -> str:
        name = unique(label)
        self.channel.exchange_declare(name, kind)
        self.exchanges.append(name)
        return name

    def fresh_channel(self):  # noqa: ANN201
        if self.connection.is_closed:
            self.connection = pika_connect(self.url)
        self.channel = self.connection.channel()
        return self.channel

    def cleanup(self) -> None:
        connection = pika_connect(self.url)
        channel = connection.channel()
        for name in self.queues:
            channel.queue_delete(name)
        for name in self.exchanges:
            channel.exchange_delete(name)
        connection.close()
        if self.connection.is_open:
            self.connection.close()


def pump_until(connection: pika.BlockingConnection, done, seconds: float = 3.0) -> None:  # noqa: ANN001
    """Let pika dispatch deliveries until `done()` holds (it returns after the first batch)."""
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        connection.process_data_events(time_limit=0.05)


@pytest.fixture
def session(target: str) -> Iterator[Session]:
    session = Session(target)
    yield session
    session.cleanup()


def test_publish_get_ack_with_properties(session: Session) -> None:
    queue = session.queue()
    ch = session.channel
    headers = {
        "int": 7,
        "big": 2**40,
        "neg": -3,
        "str": "héllo",
        "bool": True,
        "list": [1, "two", False],
        "table": {"nested": "yes"},
        "decimal": decimal.Decimal("3.14"),
        "none": None,
    }
    props = pika.BasicProperties(
        content_type="application/json",
        content_encoding="utf-8",
        headers=headers,
        delivery_mode=2,
        priority=3,
        correlation_id="corr-1",
        reply_to="replies",
        message_id="m-1",
        timestamp=1700000000,
        type="order.created",
        app_id="tests",
    )
    for body in (b"one", b"two", b""):
        ch.basic_publish("", queue, body, props)
    method, got_props, body = ch.basic_get(queue)
    assert body == b"one"
    assert (method.delivery_tag, method.redelivered, method.message_count) == (1, False, 2)
    assert (method.exchange, method.routing_key) == ("", queue)
    assert got_props.headers == headers
    for name in ("content_type", "correlation_id", "reply_to", "message_id", "type", "app_id"):
        assert getattr(got_props, name) == getattr(props, name)
    assert (got_props.delivery_mode, got_props.priority, got_props.timestamp) == (2, 3, 1700000000)
    ch.basic_ack(method.delivery_tag)
    assert ch.basic_get(queue, auto_ack=True)[2] == b"two"
    method, _, body = ch.basic_get(queue, auto_ack=True)
    assert (body, method.message_count) == (b"", 0)
    assert ch.basic_get(queue) == (None, None, None)


def test_nack_requeue_then_reject(session: Session) -> None:
    queue = session.queue()
    ch = session.channel
    for body in (b"m1", b"m2", b"m3"):
        ch.basic_publish("", queue, body)
    tags = [ch.basic_get(queue)[0].delivery_tag for _ in range(3)]
    ch.basic_nack(tags[1], requeue=True)
    ch.basic_reject(tags[0], requeue=False)
    ch.basic_nack(tags[2], requeue=True)
    got = [ch.basic_get(queue, auto_ack=True) for _ in range(2)]
    assert [(m.redelivered, body) for m, _, body in got] == [(True, b"m2"), (True, b"m3")]
    assert ch.queue_declare(queue, passive=True).method.message_count == 0


def test_prefetch_limits_unacked_deliveries(session: Session) -> None:
    queue = session.queue()
    ch = session.channel
    for i in range(5):
        ch.basic_publish("", queue, b"m%d" % i)
    ch.basic_qos(prefetch_count=2)
    delivered: list[int] = []
    ch.basic_consume(queue, lambda c, m, p, b: delivered.append(m.delivery_tag))
    session.connection.process_data_events(time_limit=0.3)
    assert delivered == [1, 2]
    ch.basic_ack(1)
    session.connection.process_data_events(time_limit=0.3)
    assert delivered == [1, 2, 3]
    ch.basic_ack(0, multiple=True)
    session.connection.process_data_events(time_limit=0.3)
    assert delivered == [1, 2, 3, 4, 5]


def test_a_full_channel_prefetch_holds_back_auto_ack_consumers_too(session: Session) -> None:
    manual_queue, auto_queue = session.queue("manual"), session.queue("auto")
    ch = session.channel
    ch.basic_qos(prefetch_count=1, global_qos=True)  # one unacked message on the whole channel
    held: list[bytes] = []
    free: list[bytes] = []
    ch.basic_consume(manual_queue, lambda c, m, p, b: held.append(b))
    ch.basic_consume(auto_queue, lambda c, m, p, b: free.append(b), auto_ack=True)
    for i in range(3):
        ch.basic_publish("", manual_queue, b"m%d" % i)
        ch.basic_publish("", auto_queue, b"a%d" % i)
    pump_until(session.connection, lambda: len(held) + len(free) > 1, seconds=0.5)
    assert (held, free) == ([b"m0"], []), "the channel's limit is reached: nothing more goes out"


def test_priority_queue_order_cap_requeue_and_drop_head(session: Session) -> None:
    ch = session.channel

    def publish(queue: str, *messages: tuple[str, int | None]) -> None:
        for body, priority in messages:
            ch.basic_publish("", queue, body.encode(), pika.BasicProperties(priority=priority))

    def drain(queue: str) -> list[tuple[str, int | None, bool]]:
        out = []
        while (got := ch.basic_get(queue, auto_ack=True))[0] is not None:
            out.append((got[2].decode(), got[1].priority, got[0].redelivered))
        return out

    ordered = session.queue("prio", arguments={"x-max-priority": 5})
    publish(ordered, ("a0", None), ("b3", 3), ("c9", 9), ("d5", 5), ("e3", 3), ("f0", 0))
    # 9 is capped at 5 but keeps its property; equals stay first in, first out.
    assert drain(ordered) == [
        ("c9", 9, False),
        ("d5", 5, False),
        ("b3", 3, False),
        ("e3", 3, False),
        ("a0", None, False),
        ("f0", 0, False),
    ]
    requeued = session.queue("prio", arguments={"x-max-priority": 5})
    publish(requeued, ("h1", 5), ("h2", 5), ("l1", 1))
    tags = [ch.basic_get(requeued)[0].delivery_tag for _ in range(2)]
    publish(requeued, ("h3", 5))
    ch.basic_nack(tags[0], requeue=True)
    assert drain(requeued) == [("h1", 5, True), ("h3", 5, False), ("l1", 1, False)]
    ch.basic_ack(tags[1])
    bounded = session.queue("prio", arguments={"x-max-priority": 5, "x-max-length": 2})
    publish(bounded, ("low", 1), ("high", 5), ("mid", 3))
    assert drain(bounded) == [("mid", 3, False), ("low", 1, False)], "drop-head drops the highest"


def test_exchanges_route_like_rabbitmq(session: Session) -> None:
    ch = session.channel
    direct, fanout, topic = (session.exchange(k) for k in ("direct", "fanout", "topic"))
    a, b = session.queue("a"), session.queue("b")
    ch.queue_bind(a, direct, "red")
    ch.queue_bind(a, fanout)
    ch.queue_bind(b, fanout)
    ch.queue_bind(b, topic, "*.orange.#")
    ch.basic_publish(direct, "red", b"direct-red")
    ch.basic_publish(direct, "blue", b"direct-blue")
    ch.basic_publish(fanout, "whatever", b"fanout")
    ch.basic_publish(topic, "quick.orange.fox.jumps", b"topic-hit")
    ch.basic_publish(topic, "orange", b"topic-miss")

    def drain(queue: str) -> list[bytes]:
        bodies = []
        while (got := ch.basic_get(queue, auto_ack=True))[0] is not None:
            bodies.append(got[2])
        return bodies

    assert drain(a) == [b"direct-red", b"fanout"]
    assert drain(b) == [b"fanout", b"topic-hit"]


def test_unusual_names_are_accepted(session: Session) -> None:
    ch = session.channel
    queue = session.queue("café ✓ *!(x)")
    exchange = session.exchange("topic", "ünï")
    ch.queue_bind(queue, exchange, "ключ.*")
    ch.basic_publish(exchange, "ключ.1", b"hi")
    method, _, body = ch.basic_get(queue, auto_ack=True)
    assert (method.exchange, method.routing_key, body) == (exchange, "ключ.1", b"hi")


def test_confirms_ack_and_nack_on_overflow(session: Session) -> None:
    queue = session.queue(arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
    ch = session.channel
    ch.confirm_delivery()
    ch.basic_publish("", queue, b"fits")
    with pytest.raises(NackError):
        ch.basic_publish("", queue, b"overflows")
    assert ch.queue_declare(queue, passive=True).method.message_count == 1


def test_mandatory_unroutable_is_returned_before_the_ack(session: Session) -> None:
    ch = session.channel
    ch.confirm_delivery()
    with pytest.raises(UnroutableError) as raised:
        ch.basic_publish("", unique("nowhere"), b"lost", mandatory=True)
    (returned,) = raised.value.messages
    assert (returned.method.reply_code, returned.method.reply_text) == (312, "NO_ROUTE")
    assert returned.body == b"lost"
    queue = session.queue()
    ch.basic_publish("", queue, b"routed", mandatory=True)  # routable: plain ack, no error


def test_large_body_split_across_frames(session: Session) -> None:
    queue = session.queue()
    ch = session.channel
    body = bytes(range(256)) * 4096  # 1 MiB: eight 128 KiB frames each way
    ch.basic_publish("", queue, body)
    method, _, got = ch.basic_get(queue, auto_ack=True)
    assert got == body


def test_dead_lettering_after_reject(session: Session) -> None:
    ch = session.channel
    dlx = session.exchange("fanout", "dlx")
    dead = session.queue("dead")
    ch.queue_bind(dead, dlx)
    queue = session.queue(arguments={"x-dead-letter-exchange": dlx})
    props = pika.BasicProperties(headers={"custom": "v"}, expiration="60000")
    ch.basic_publish("", queue, b"bad", props)
    method = ch.basic_get(queue)[0]
    ch.basic_reject(method.delivery_tag, requeue=False)
    time.sleep(0.1)
    method, props, body = ch.basic_get(dead, auto_ack=True)
    assert (method.exchange, method.routing_key, body) == (dlx, queue, b"bad")
    assert props.expiration is None
    (death,) = props.headers["x-death"]
    assert death["count"] == 1
    assert (death["reason"], death["queue"], death["exchange"]) == ("rejected", queue, "")
    assert death["routing-keys"] == [queue]
    assert death["original-expiration"] == "60000"
    assert isinstance(death["time"], dt.datetime | int)
    assert props.headers["custom"] == "v"
    assert props.headers["x-first-death-reason"] == "rejected"


def test_transactions_hold_publishes_until_commit(session: Session) -> None:
    queue = session.queue()
    ch = session.channel
    ch.tx_select()
    ch.basic_publish("", queue, b"held")
    assert session.connection.channel().queue_declare(queue, passive=True).method.message_count == 0
    ch.tx_commit()
    ch.basic_publish("", queue, b"dropped")
    ch.tx_rollback()
    assert ch.queue_declare(queue, passive=True).method.message_count == 1


def test_consumer_cancelled_when_its_queue_is_deleted(session: Session) -> None:
    queue = session.queue()
    ch = session.channel
    cancelled: list[str] = []
    ch.add_on_cancel_callback(lambda frame: cancelled.append(frame.method.consumer_tag))
    tag = ch.basic_consume(queue, lambda *args: None, auto_ack=True)
    session.connection.channel().queue_delete(queue)
    session.connection.process_data_events(time_limit=0.5)
    assert cancelled == [tag]


def test_consumer_priorities_fill_the_highest_first(session: Session) -> None:
    queue = session.queue()
    got: list[tuple[str, bytes]] = []
    low, high = session.connection.channel(), session.connection.channel()
    low.basic_qos(prefetch_count=10)
    high.basic_qos(prefetch_count=2)
    low.basic_consume(queue, lambda c, m, p, b: got.append(("low", b)), arguments={"x-priority": 0})
    high.basic_consume(
        queue, lambda c, m, p, b: got.append(("high", b)), arguments={"x-priority": 10}
    )
    for i in range(5):
        session.channel.basic_publish("", queue, b"%d" % i)
    pump_until(session.connection, lambda: len(got) == 5)
    # pika runs each channel's callbacks in turn, so compare what each consumer got.
    assert [b for who, b in got if who == "high"] == [b"0", b"1"]
    assert [b for who, b in got if who == "low"] == [b"2", b"3", b"4"]


def test_single_active_consumer_fails_over_when_its_connection_closes(session: Session) -> None:
    queue = session.queue(arguments={"x-single-active-consumer": True})
    got: list[tuple[str, bytes, bool]] = []
    first_connection = pika_connect(session.url)
    first = first_connection.channel()
    first.basic_qos(prefetch_count=1)
    first.basic_consume(queue, lambda c, m, p, b: got.append(("first", b, m.redelivered)))
    second = session.connection.channel()
    second.basic_consume(
        queue,
        lambda c, m, p, b: got.append(("second", b, m.redelivered)),
        arguments={"x-priority": 10},  # the first consumer takes the turn, whatever its priority
    )
    for i in range(3):
        session.channel.basic_publish("", queue, b"%d" % i)
    pump_until(first_connection, lambda: bool(got))
    pump_until(session.connection, lambda: len(got) > 1, seconds=0.5)
    assert got == [("first", b"0", False)], "the second consumer waits, though it has room"
    first_connection.close()  # its unacked message goes back first, then the second takes over
    pump_until(session.connection, lambda: len(got) == 4)
    assert got[1:] == [("second", b"0", True), ("second", b"1", False), ("second", b"2", False)]


def test_single_active_consumer_passes_the_turn_to_the_highest_priority(session: Session) -> None:
    queue = session.queue(arguments={"x-single-active-consumer": True})
    names = ["A", "B", "C", "D", "E"]
    priorities = {"A": 0, "B": 0, "C": 5, "D": 5, "E": 1}
    turns: list[str] = []
    connections = {}
    for name in names:  # each on its own connection, registered in this order
        connections[name] = pika_connect(session.url)
        connections[name].channel().basic_consume(
            queue,
            lambda c, m, p, b, name=name: turns.append(name),
            auto_ack=True,
            arguments={"x-priority": priorities[name]},
        )
    for n in range(len(names)):  # one message, see who has the turn, then that one leaves
        session.channel.basic_publish("", queue, b"%d" % n)
        for connection in connections.values():
            pump_until(connection, lambda n=n: len(turns) > n, seconds=0.3)
        connections.pop(turns[-1]).close()
    assert turns == ["A", "C", "D", "E", "B"]


def test_single_active_consumer_hands_over_on_cancel(session: Session) -> None:
    queue = session.queue(arguments={"x-single-active-consumer": True})
    got: list[tuple[str, bytes]] = []
    first = session.connection.channel()
    tag = first.basic_consume(queue, lambda c, m, p, b: got.append(("first", b)), auto_ack=True)
    session.connection.channel().basic_consume(
        queue, lambda c, m, p, b: got.append(("second", b)), auto_ack=True
    )
    session.channel.basic_publish("", queue, b"0")
    pump_until(session.connection, lambda: bool(got))
    first.basic_cancel(tag)
    session.channel.basic_publish("", queue, b"1")
    pump_until(session.connection, lambda: len(got) == 2)
    assert got == [("first", b"0"), ("second", b"1")]


# --- errors: code, text, and the connection keeps working after a channel error -------------


def _channel_error(session: Session, action) -> tuple[int, str]:  # noqa: ANN001
    ch = session.fresh_channel()
    with pytest.raises(ChannelClosedByBroker) as raised:
        action(ch)
    assert session.connection.is_open  # only the channel closed
    session.fresh_channel().queue_declare(unique("after"), exclusive=True)
    return raised.value.reply_code, raised.value.reply_text


REPLY_TO = "amq.rabbitmq.reply-to"


def test_direct_reply_to_rpc_round_trip(session: Session) -> None:
    """The client consumes the pseudo-queue; the server sees a rewritten reply_to naming the
    client's channel and answers through the default exchange; the answer comes straight back.
    Once the client's consumer is gone, a reply to that key is unroutable."""
    requests = session.queue("rpc")
    client = session.channel
    replies: list[tuple[object, object, bytes]] = []
    tag = client.basic_consume(REPLY_TO, lambda c, m, p, b: replies.append((m, p, b)), True)
    client.basic_publish("", requests, b"2+2", pika.BasicProperties(reply_to=REPLY_TO))
    server = pika_connect(session.url)
    server_channel = server.channel()
    server_channel.confirm_delivery()
    method, properties, body = None, None, b""
    for _ in range(100):
        method, properties, body = server_channel.basic_get(requests, auto_ack=True)
        if method is not None:
            break
        time.sleep(0.01)
    assert body == b"2+2"
    reply_key = properties.reply_to
    assert reply_key.startswith(REPLY_TO + ".") and len(reply_key) > len(REPLY_TO) + 8
    server_channel.basic_publish("", reply_key, b"4", pika.BasicProperties(correlation_id="c"))
    session.connection.process_data_events(time_limit=0.3)
    ((deliver, reply_properties, reply),) = replies
    assert reply == b"4" and reply_properties.correlation_id == "c"
    assert (deliver.consumer_tag, deliver.delivery_tag, deliver.redelivered) == (tag, 1, False)
    assert (deliver.exchange, deliver.routing_key) == ("", reply_key)
    with pytest.raises(UnroutableError):  # only the default exchange knows reply keys
        server_channel.basic_publish("amq.direct", reply_key, b"no", mandatory=True)
    client.basic_cancel(tag)
    with pytest.raises(UnroutableError):
        server_channel.basic_publish("", reply_key, b"late", mandatory=True)
    server.close()


def test_direct_reply_to_pseudo_queue_answers_like_rabbitmq(session: Session) -> None:
    ch = session.channel
    declared = ch.queue_declare(REPLY_TO, passive=True).method
    assert (declared.queue, declared.message_count, declared.consumer_count) == (REPLY_TO, 0, 1)
    assert ch.queue_declare(REPLY_TO).method.queue == REPLY_TO
    assert ch.queue_delete(REPLY_TO).method.message_count == 0
    not_found = (404, f"NOT_FOUND - no queue '{REPLY_TO}' in vhost '/'")
    assert _channel_error(session, lambda c: c.basic_get(REPLY_TO)) == not_found
    assert _channel_error(session, lambda c: c.queue_purge(REPLY_TO)) == not_found
    assert _channel_error(session, lambda c: c.queue_bind(REPLY_TO, "amq.direct", "k")) == not_found


def test_direct_reply_to_key_checks_and_limits(session: Session) -> None:
    """A passive declare of a reply key says whether its client still waits (RabbitMQ's advice
    to RPC servers); the reply consumer ignores arguments and is not held back by prefetch."""
    client = session.channel
    client.queue_declare(REPLY_TO)
    replies: list[bytes] = []
    tag = client.basic_consume(
        "", lambda c, m, p, b: replies.append(b), True, arguments={"x-priority": "x"}
    )
    work = session.queue("work")
    client.basic_qos(prefetch_count=1, global_qos=True)
    held: list[bytes] = []
    client.basic_consume(work, lambda c, m, p, b: held.append(b))
    requests = session.queue("rpc")
    client.basic_publish("", work, b"w0")
    client.basic_publish("", requests, b"ask", pika.BasicProperties(reply_to=REPLY_TO))
    server = pika_connect(session.url)
    server_channel = server.channel()
    properties = None
    for _ in range(100):
        method, properties, _body = server_channel.basic_get(requests, auto_ack=True)
        if method is not None:
            break
        time.sleep(0.01)
    key = properties.reply_to
    declared = server_channel.queue_declare(key, passive=True).method
    assert (declared.queue, declared.message_count, declared.consumer_count) == (key, 0, 1)
    server_channel.basic_publish("", key, b"answer")
    pump_until(session.connection, lambda: bool(replies) and bool(held))
    assert (held, replies) == ([b"w0"], [b"answer"]), "the reply passes the full prefetch"
    client.basic_cancel(tag)
    with pytest.raises(ChannelClosedByBroker) as gone:
        server_channel.queue_declare(key, passive=True)
    assert gone.value.reply_code == 404
    server.close()


def test_a_transaction_checks_each_publish_as_it_arrives(session: Session) -> None:
    def publish_in_tx(ch) -> None:  # noqa: ANN001
        ch.tx_select()
        ch.basic_publish("", unique("nowhere"), b"fine")  # unroutable is not an error
        ch.basic_publish(unique("no-x"), "k", b"x", pika.BasicProperties(reply_to=REPLY_TO))
        ch.tx_commit()  # the channel was closed before this: the commit gets the error

    code, text = _channel_error(session, publish_in_tx)
    assert code == 404 and text.startswith("NOT_FOUND - no exchange"), "404 before the 406"


def test_direct_reply_to_in_a_transaction_is_named_at_publish(session: Session) -> None:
    """The reply key is fixed when the request arrives: a commit after the reply consumer went
    away still sends the request, with the key it was given."""
    requests = session.queue("rpc")
    client = session.channel
    tag = client.basic_consume(REPLY_TO, lambda *args: None, auto_ack=True)
    client.tx_select()
    client.basic_publish("", requests, b"ask", pika.BasicProperties(reply_to=REPLY_TO))
    client.basic_cancel(tag)
    client.tx_commit()
    method, properties, _body = client.basic_get(requests, auto_ack=True)
    assert method is not None and properties.reply_to.startswith(REPLY_TO + ".")


@pytest.mark.parametrize(
    ("case", "text"),
    [
        ("consume with acks", "PRECONDITION_FAILED - reply consumer cannot acknowledge"),
        ("consume twice", "PRECONDITION_FAILED - reply consumer already set"),
        ("publish without consumer", "PRECONDITION_FAILED - fast reply consumer does not exist"),
        ("consumer on another channel", "PRECONDITION_FAILED - fast reply consumer does not exist"),
    ],
)
def test_direct_reply_to_misuse_closes_the_channel_with_406(
    session: Session, case: str, text: str
) -> None:
    def ignore(*args: object) -> None:
        pass

    def action(ch) -> None:  # noqa: ANN001
        request = pika.BasicProperties(reply_to=REPLY_TO)
        if case == "consume with acks":
            ch.basic_consume(REPLY_TO, ignore, auto_ack=False)
        elif case == "consume twice":
            ch.basic_consume(REPLY_TO, ignore, auto_ack=True)
            ch.basic_consume(REPLY_TO, ignore, auto_ack=True)
        elif case == "publish without consumer":
            ch.basic_publish("", "anywhere", b"x", request)
            ch.basic_qos(prefetch_count=1)  # the error surfaces at the next synchronous call
        else:
            ch.basic_consume(REPLY_TO, ignore, auto_ack=True)
            other = session.connection.channel()
            other.basic_publish("", "anywhere", b"x", request)
            other.basic_qos(prefetch_count=1)

    assert _channel_error(session, action) == (406, text)


def test_consumer_and_queue_argument_types_are_checked(session: Session) -> None:
    queue, fresh = session.queue(), unique("sac")
    where = f"for queue '{queue}' in vhost '/'"
    fresh_where = f"for queue '{fresh}' in vhost '/'"
    assert _channel_error(
        session, lambda ch: ch.basic_consume(queue, print, arguments={"x-priority": "high"})
    ) == (
        406,
        f"PRECONDITION_FAILED - invalid arg 'x-priority' {where}: \"expected integer, got longstr\"",
    )
    assert _channel_error(
        session, lambda ch: ch.queue_declare(fresh, arguments={"x-single-active-consumer": 1})
    ) == (
        406,
        f"PRECONDITION_FAILED - invalid arg 'x-single-active-consumer' {fresh_where}: "
        "{unacceptable_type,signedint}",
    )


def test_exclusive_consumer_on_a_single_active_consumer_queue_is_403(session: Session) -> None:
    queue = session.queue(arguments={"x-single-active-consumer": True})
    assert _channel_error(session, lambda ch: ch.basic_consume(queue, print, exclusive=True)) == (
        403,
        f"ACCESS_REFUSED - queue '{queue}' in vhost '/' in exclusive use",
    )


def test_passive_declare_of_a_missing_queue_is_404(session: Session) -> None:
    name = unique("missing")
    code, text = _channel_error(session, lambda ch: ch.queue_declare(name, passive=True))
    assert (code, text) == (404, f"NOT_FOUND - no queue '{name}' in vhost '/'")


def test_ack_of_an_unknown_tag_is_406(session: Session) -> None:
    def action(ch) -> None:  # noqa: ANN001
        ch.basic_ack(5)
        ch.basic_qos(prefetch_count=1)  # the error surfaces at the next synchronous call

    code, text = _channel_error(session, action)
    assert (code, text) == (406, "PRECONDITION_FAILED - unknown delivery tag 5")


def test_exclusive_queue_from_another_connection_is_405(session: Session) -> None:
    queue = session.queue("excl", exclusive=True)
    other = Session(session.url)
    try:
        code, text = _channel_error(other, lambda ch: ch.queue_declare(queue, passive=True))
    finally:
        other.connection.close()
    assert code == 405
    assert text.startswith(
        f"RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '{queue}'"
    )


def test_declaring_the_default_exchange_is_403(session: Session) -> None:
    code, text = _channel_error(session, lambda ch: ch.exchange_declare("", "direct"))
    assert (code, text) == (403, "ACCESS_REFUSED - operation not permitted on the default exchange")


def test_publish_to_a_missing_exchange_closes_the_channel_with_404(session: Session) -> None:
    name = unique("nox")

    def action(ch) -> None:  # noqa: ANN001
        ch.basic_publish(name, "k", b"x")
        ch.basic_qos(prefetch_count=1)

    code, text = _channel_error(session, action)
    assert (code, text) == (404, f"NOT_FOUND - no exchange '{name}' in vhost '/'")


def test_unknown_exchange_type_closes_the_connection_with_503(session: Session) -> None:
    with pytest.raises(ConnectionClosedByBroker) as raised:
        session.channel.exchange_declare(unique("bad"), "foo")
    assert (raised.value.reply_code, raised.value.reply_text) == (
        503,
        "COMMAND_INVALID - invalid exchange type 'foo'",
    )
    assert session.fresh_channel().queue_declare(unique("new"), exclusive=True)


def test_prefetch_size_is_not_implemented_540(session: Session) -> None:
    with pytest.raises(ConnectionClosedByBroker) as raised:
        session.channel.basic_qos(prefetch_size=10)
    assert (raised.value.reply_code, raised.value.reply_text) == (
        540,
        "NOT_IMPLEMENTED - prefetch_size!=0 (10)",
    )


def test_bad_password_is_refused_with_403(target: str) -> None:
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as raised:
        pika_connect(target.replace("guest:guest", "guest:wrong"))
    assert "403" in str(raised.value)
    assert "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN" in str(
        raised.value
    )


def test_unknown_vhost_is_530(target: str) -> None:
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError) as raised:
        pika_connect(target.rsplit("/", 1)[0] + "/no-such-vhost")
    assert "530" in str(raised.value)
    assert "NOT_ALLOWED - vhost no-such-vhost not found" in str(raised.value)


def test_user_id_must_be_the_connections_own_user(session: Session) -> None:
    """Tampering: a publisher cannot claim to be someone else (RabbitMQ validates user_id)."""
    queue = session.queue("signed")
    session.channel.basic_publish("", queue, b"mine", pika.BasicProperties(user_id="guest"))

    def spoof(ch) -> None:  # noqa: ANN001
        ch.basic_publish("", queue, b"not mine", pika.BasicProperties(user_id="teacher"))
        ch.queue_declare(queue, passive=True)  # the close arrives before this answer

    assert _channel_error(session, spoof) == (
        406,
        "PRECONDITION_FAILED - user_id property set to 'teacher' but authenticated user was 'guest'",
    )
    ch = session.fresh_channel()
    method, properties, body = ch.basic_get(queue, auto_ack=True)
    assert (body, properties.user_id) == (b"mine", "guest")
    assert ch.basic_get(queue, auto_ack=True) == (None, None, None)
