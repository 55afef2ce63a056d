"""Publishing and routing: the default exchange, returns, expiration, CC/BCC, internal exchanges.

Reply codes and texts as RabbitMQ 3.10 sends them (probed against a real RabbitMQ 3.10.8 with pika)."""

from __future__ import annotations

import pytest

from broker import AMQPError, ChannelClosed, Properties
from tests.broker.expect import raises


def test_default_exchange_routes_by_queue_name(channel):
    channel.queue_declare("orders")
    result = channel.basic_publish("", "orders", b"one")
    assert result.routed_to == ["orders"]
    assert channel.basic_get("orders", no_ack=True).body == b"one"


def test_publish_to_missing_exchange_closes_channel(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        with raises(404, "NOT_FOUND - no exchange 'nope' in vhost '/'"):
            channel.basic_publish("nope", "k", b"x")
        with pytest.raises(ChannelClosed):
            channel.queue_declare("after")


def test_mandatory_unroutable_is_returned_before_the_confirm(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.confirm_select()
        order = []
        channel.on_return = lambda returned: order.append(("return", returned.reply_code))
        channel.on_confirm = lambda seq, ack, multiple: order.append(
            ("ack" if ack else "nack", seq)
        )
        result = channel.basic_publish("amq.direct", "nowhere", b"x", mandatory=True)
        assert result.returned and result.confirmed and result.routed_to == []
        assert order == [("return", 312), ("ack", 1)]
        channel.basic_publish("amq.direct", "nowhere", b"x")  # not mandatory: acked, no return
        assert order[-1] == ("ack", 2)


@pytest.mark.parametrize(
    ("expiration", "detail"),
    [
        ("abc", "no_integer"),
        ("-1", "{value_negative,-1}"),
        ("1.5", '{leftover_string,".5"}'),
        ("", "no_integer"),
        (" 10", "no_integer"),
    ],
)
def test_bad_per_message_expiration_is_406(broker, expiration, detail):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        with raises(406, f"PRECONDITION_FAILED - invalid expiration '{expiration}': {detail}"):
            channel.basic_publish("", "q", b"x", Properties(expiration=expiration))


def test_internal_exchange_refuses_publishes(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.exchange_declare("inner", "fanout", internal=True)
        with raises(
            403, "ACCESS_REFUSED - cannot publish to internal exchange 'inner' in vhost '/'"
        ):
            channel.basic_publish("inner", "", b"x")


def test_cc_and_bcc_headers_add_routing_keys_and_bcc_is_hidden(channel):
    channel.exchange_declare("logs", "direct")
    for queue in ("main", "copy", "secret"):
        channel.queue_declare(queue)
        channel.queue_bind(queue, "logs", queue)
    headers = {"CC": ["copy"], "BCC": ["secret"]}
    result = channel.basic_publish("logs", "main", b"x", Properties(headers=headers))
    assert sorted(result.routed_to) == ["copy", "main", "secret"]
    assert result.message_id is not None


@pytest.mark.parametrize(
    "properties",
    [
        Properties(headers={"CC": "not-a-list"}),
        Properties(expiration=5000),
        Properties(priority=-1),
        Properties(priority=256),
        Properties(priority="5"),
    ],
    ids=[
        "cc-not-a-list",
        "expiration-not-a-string",
        "priority-negative",
        "priority-256",
        "priority-str",
    ],
)
def test_badly_typed_routing_properties_are_406(broker, properties):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        with pytest.raises(AMQPError) as info:
            channel.basic_publish("", "q", b"x", properties)
        assert info.value.reply_code == 406 and channel.closed
        assert broker.queue_depths()["q"] == (0, 0, 0), "nothing was enqueued"


def test_direct_reply_to_answers_reach_the_requesting_channel_only_while_it_consumes(broker):
    """amq.rabbitmq.reply-to in-process: the same rewrite and routing as over AMQP, the reply
    consumer is listed with the others, and a closed channel leaves no route behind."""
    with broker.connect("rpc client") as client_connection, broker.connect("rpc server") as server:
        client, worker = client_connection.channel(), server.channel()
        worker.queue_declare("rpc")
        replies = []
        client.basic_consume("amq.rabbitmq.reply-to", replies.append, no_ack=True)
        client.basic_publish("", "rpc", b"ping", Properties(reply_to="amq.rabbitmq.reply-to"))
        request = worker.basic_get("rpc", no_ack=True)
        reply_key = request.message.properties.reply_to
        assert reply_key.startswith("amq.rabbitmq.reply-to.")
        consumers = broker.snapshot()["consumers"]
        assert [c["queue"] for c in consumers] == [reply_key]
        assert "amq.rabbitmq.reply-to" not in [q["name"] for q in broker.snapshot()["queues"]]
        assert worker.basic_publish("", reply_key, b"pong").routed_to == [reply_key]
        assert [d.body for d in replies] == [b"pong"]
        types = [e.type for e in broker.events.recent() if e.get("queue") == reply_key]
        assert types[-2:] == ["enqueued", "delivered"]
        client.close()
        assert worker.basic_publish("", reply_key, b"late").routed_to == []
        assert broker.snapshot()["consumers"] == []


def test_a_publisher_cannot_sign_as_someone_else(broker):
    """user_id names the connection's own user or nobody (RabbitMQ 3.10's 406)."""
    with broker.connect("mallory", user="guest") as connection:
        channel = connection.channel()
        channel.queue_declare("ledger")
        channel.basic_publish("", "ledger", b"ok", Properties(user_id="guest"))
        with raises(
            406,
            "PRECONDITION_FAILED - user_id property set to 'teacher' but authenticated user "
            "was 'guest'",
        ):
            channel.basic_publish("", "ledger", b"forged", Properties(user_id="teacher"))
        assert channel.closed
        assert broker.queue_depths()["ledger"][0] == 1
