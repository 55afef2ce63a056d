"""Declaring and deleting exchanges and queues: RabbitMQ's rules and reply texts.

Reply codes and texts as RabbitMQ 3.10 sends them (probed against a real RabbitMQ 3.10.8 with pika)."""

from __future__ import annotations

import pytest

from broker import AMQPError, ConnectionClosed
from tests.broker.expect import raises


@pytest.mark.parametrize(
    "action",
    [
        lambda ch: ch.exchange_declare(""),
        lambda ch: ch.exchange_declare("", passive=True),
        lambda ch: ch.exchange_delete(""),
        lambda ch: ch.queue_bind("q", ""),
        lambda ch: ch.queue_unbind("q", "", "q"),
    ],
    ids=["declare", "declare-passive", "delete", "bind", "unbind"],
)
def test_default_exchange_cannot_be_touched(broker, action):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        with raises(403, "ACCESS_REFUSED - operation not permitted on the default exchange"):
            action(channel)
        assert channel.closed, "a channel error closes the channel"


def test_amq_exchanges_exist_up_front(channel):
    for name in ("amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match"):
        channel.exchange_declare(name, passive=True)
    channel.exchange_declare("amq.direct", "direct", durable=True)  # equivalent: fine


def test_amq_prefix_is_reserved(broker):
    with broker.connect() as connection:
        with raises(
            403, "ACCESS_REFUSED - exchange name 'amq.foo' contains reserved prefix 'amq.*'"
        ):
            connection.channel().exchange_declare("amq.foo", "direct")
        with raises(403, "ACCESS_REFUSED - queue name 'amq.foo' contains reserved prefix 'amq.*'"):
            connection.channel().queue_declare("amq.foo")
        with raises(
            403,
            "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed",
        ):
            connection.channel().exchange_delete("amq.direct")


def test_passive_declare_of_missing_entities_is_404(broker):
    with broker.connect() as connection:
        with raises(404, "NOT_FOUND - no exchange 'nope' in vhost '/'"):
            connection.channel().exchange_declare("nope", passive=True)
        with raises(404, "NOT_FOUND - no queue 'nope' in vhost '/'"):
            connection.channel().queue_declare("nope", passive=True)


def test_exchange_redeclare_inequivalent(broker):
    with broker.connect() as connection:
        connection.channel().exchange_declare("x", "direct")
        cases = [
            (dict(exchange_type="fanout"), "'type' for exchange 'x' in vhost '/': received 'fanout' but current is 'direct'"),
            (dict(durable=True), "'durable' for exchange 'x' in vhost '/': received 'true' but current is 'false'"),
            (dict(auto_delete=True), "'auto_delete' for exchange 'x' in vhost '/': received 'true' but current is 'false'"),
            (dict(internal=True), "'internal' for exchange 'x' in vhost '/': received 'true' but current is 'false'"),
            (
                dict(arguments={"alternate-exchange": "foo"}),
                "'alternate-exchange' for exchange 'x' in vhost '/': received the value 'foo' of "
                "type 'longstr' but current is none",
            ),
        ]  # fmt: skip
        for kwargs, text in cases:
            kwargs.setdefault("exchange_type", "direct")
            with raises(406, f"PRECONDITION_FAILED - inequivalent arg {text}"):
                connection.channel().exchange_declare("x", **kwargs)
        connection.channel().exchange_declare("x", "fanout", passive=True)  # passive ignores type


def test_queue_redeclare_inequivalent(broker):
    with broker.connect() as connection:
        connection.channel().queue_declare("q", arguments={"x-message-ttl": 1000})
        prefix = "PRECONDITION_FAILED - inequivalent arg"
        with raises(
            406,
            f"{prefix} 'durable' for queue 'q' in vhost '/': received 'true' but current is 'false'",
        ):
            connection.channel().queue_declare("q", durable=True, arguments={"x-message-ttl": 1000})
        with raises(
            406,
            f"{prefix} 'x-message-ttl' for queue 'q' in vhost '/': received '2000' but current is '1000'",
        ):
            connection.channel().queue_declare("q", arguments={"x-message-ttl": 2000})
        with raises(
            406,
            f"{prefix} 'x-message-ttl' for queue 'q' in vhost '/': received none but current is "
            "the value '1000' of type 'signedint'",
        ):
            connection.channel().queue_declare("q")
        with raises(
            406,
            f"{prefix} 'x-max-length' for queue 'q' in vhost '/': received the value '5' of type "
            "'signedint' but current is none",
        ):
            connection.channel().queue_declare(
                "q", arguments={"x-message-ttl": 1000, "x-max-length": 5}
            )
        # Arguments RabbitMQ does not know are not compared.
        connection.channel().queue_declare("q", arguments={"x-message-ttl": 1000, "foo": 1})  # fmt: skip


def test_unknown_exchange_type_closes_the_connection(broker):
    connection = broker.connect()
    channel = connection.channel()
    with raises(503, "COMMAND_INVALID - invalid exchange type 'foo'"):
        channel.exchange_declare("x", "foo")
    assert connection.closed
    with pytest.raises(ConnectionClosed):
        connection.channel()


def test_exclusive_queue_is_locked_for_other_connections(broker):
    owner = broker.connect("owner")
    owner.channel().queue_declare("mine", exclusive=True)
    text = (
        "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'mine' in vhost '/'. "
        "It could be originally declared on another connection or the exclusive property value "
        "does not match that of the original declaration."
    )
    with broker.connect("other") as other:
        for action in (
            lambda ch: ch.queue_declare("mine", passive=True),
            lambda ch: ch.queue_declare("mine"),
            lambda ch: ch.queue_declare("mine", exclusive=True),
            lambda ch: ch.basic_consume("mine", lambda d: None),
            lambda ch: ch.basic_get("mine"),
            lambda ch: ch.queue_delete("mine"),
            lambda ch: ch.queue_bind("mine", "amq.direct", "k"),
            lambda ch: ch.queue_purge("mine"),
        ):
            with raises(405, text):
                action(other.channel())
        # Publishing to it is allowed.
        assert other.channel().basic_publish("", "mine", b"hi").routed_to == ["mine"]
    owner.close()
    with broker.connect() as later:
        with pytest.raises(AMQPError) as info:
            later.channel().queue_declare("mine", passive=True)
        assert info.value.reply_code == 404, "an exclusive queue goes with its connection"


def test_server_generated_names(channel):
    queue = channel.queue_declare("").queue
    assert queue.startswith("amq.gen-") and len(queue) > len("amq.gen-") + 10
    tag = channel.basic_consume(queue, lambda d: None)
    assert tag.startswith("amq.ctag-")


def test_empty_queue_name_means_last_declared_on_the_channel(channel):
    name = channel.queue_declare("").queue
    channel.queue_bind("", "amq.direct", "k")
    channel.basic_publish("amq.direct", "k", b"via binding")
    channel.basic_publish("", name, b"direct")
    assert channel.basic_get("").body == b"via binding"
    assert channel.queue_purge("") == 1


def test_empty_queue_name_without_a_declare_is_404(channel):
    with raises(404, "NOT_FOUND - no previously declared queue"):
        channel.basic_get("")


def test_auto_delete_queue_goes_with_its_last_consumer(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("never", auto_delete=True)
        channel.basic_get("never")
        assert channel.queue_declare("never", passive=True)  # never had a consumer: stays
        channel.queue_declare("ad", auto_delete=True)
        first = channel.basic_consume("ad", lambda d: None)
        second = channel.basic_consume("ad", lambda d: None)
        channel.basic_cancel(first)
        assert channel.queue_declare("ad", passive=True).consumer_count == 1
        channel.basic_cancel(second)
        with raises(404, "NOT_FOUND - no queue 'ad' in vhost '/'"):
            channel.queue_declare("ad", passive=True)


def test_message_count_counts_ready_messages_only(channel):
    channel.queue_declare("q")
    for _ in range(4):
        channel.basic_publish("", "q", b"x")
    assert channel.basic_get("q").message_count == 3
    assert channel.queue_declare("q", passive=True).message_count == 3
    assert channel.basic_get("q", no_ack=True).message_count == 2
    channel.basic_reject(1, requeue=True)
    assert channel.queue_declare("q", passive=True).message_count == 3


@pytest.mark.parametrize(
    ("arguments", "detail"),
    [
        ({"x-max-length": -1}, "invalid arg 'x-max-length' for queue 'q' in vhost '/': {value_negative,-1}"),
        ({"x-max-length": "1"}, "invalid arg 'x-max-length' for queue 'q' in vhost '/': \"expected integer, got longstr\""),
        ({"x-message-ttl": -1}, "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}"),
        ({"x-overflow": "bogus"}, "invalid arg 'x-overflow' for queue 'q' in vhost '/': invalid_overflow"),
        ({"x-expires": 0}, "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_zero,0}"),
        ({"x-max-priority": 300}, "invalid arg 'x-max-priority' for queue 'q' in vhost '/': {max_value_exceeded,300}"),
        ({"x-dead-letter-exchange": 1}, "invalid type 'signedint' for arg 'x-dead-letter-exchange' in queue 'q' in vhost '/'"),
        ({"x-dead-letter-routing-key": "k"}, "invalid arg 'x-dead-letter-routing-key' for queue 'q' in vhost '/': routing_key_but_no_dlx_defined"),
    ],
)  # fmt: skip
def test_bad_queue_arguments_are_406(broker, arguments, detail):
    with broker.connect() as connection:
        with raises(406, f"PRECONDITION_FAILED - {detail}"):
            connection.channel().queue_declare("q", arguments=arguments)


def test_delete_if_unused_and_if_empty(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        channel.basic_consume("q", lambda d: None)
        with raises(406, "PRECONDITION_FAILED - queue 'q' in vhost '/' in use"):
            channel.queue_delete("q", if_unused=True)
        channel = connection.channel()
        channel.queue_declare("full")
        channel.basic_publish("", "full", b"x")
        with raises(406, "PRECONDITION_FAILED - queue 'full' in vhost '/' not empty"):
            channel.queue_delete("full", if_empty=True)
        channel = connection.channel()
        assert channel.queue_delete("full") == 1
        assert channel.queue_delete("missing") == 0  # deleting what is not there is fine
        channel.exchange_declare("x", "direct")
        channel.queue_bind("q", "x", "k")
        with raises(406, "PRECONDITION_FAILED - exchange 'x' in vhost '/' in use"):
            channel.exchange_delete("x", if_unused=True)
        channel = connection.channel()
        channel.exchange_delete("missing")


def test_deleting_a_queue_cancels_its_consumers(channel):
    channel.queue_declare("q")
    cancelled = []
    channel.basic_consume("q", lambda d: None, consumer_tag="c1", on_cancel=cancelled.append)
    channel.queue_delete("q")
    assert cancelled == ["c1"]
    assert channel.consumers == {}


def test_errors_teach(broker):
    with broker.connect() as connection:
        with pytest.raises(AMQPError) as info:
            connection.channel().queue_declare("orders", passive=True)
        assert info.value.hint == "declare the queue first"
        assert info.value.to_dict()["error"] == "NOT_FOUND"
