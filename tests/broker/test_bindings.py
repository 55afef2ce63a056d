"""Bindings: to missing things, exchange to exchange, auto-delete exchanges.

Reply codes and texts as RabbitMQ 3.10 sends them (probed against a real RabbitMQ 3.10.8 with pika)."""

from __future__ import annotations

from tests.broker.expect import raises


def test_binding_to_missing_things(broker):
    with broker.connect() as connection:
        connection.channel().queue_declare("q")
        with raises(404, "NOT_FOUND - no exchange 'nope' in vhost '/'"):
            connection.channel().queue_bind("q", "nope", "k")
        with raises(404, "NOT_FOUND - no queue 'nope' in vhost '/'"):
            connection.channel().queue_bind("nope", "amq.direct", "k")
        with raises(404, "NOT_FOUND - no exchange 'nope' in vhost '/'"):
            connection.channel().queue_bind("nope", "nope", "k")  # exchange reported first
        channel = connection.channel()
        channel.queue_unbind("nope", "nope", "k")  # unbinding what is not there is fine
        channel.queue_unbind("q", "amq.direct", "never-bound")
        assert not channel.closed


def test_exchange_to_exchange_bindings(channel):
    channel.exchange_declare("front", "topic")
    channel.exchange_declare("eu", "fanout")
    channel.exchange_bind("eu", "front", "*.eu.#")
    channel.queue_declare("eu-orders")
    channel.queue_bind("eu-orders", "eu")
    assert channel.basic_publish("front", "order.eu.paid", b"x").routed_to == ["eu-orders"]
    assert channel.basic_publish("front", "order.us.paid", b"x").routed_to == []


def test_auto_delete_exchange_goes_with_its_last_binding(channel):
    channel.exchange_declare("tmp", "direct", auto_delete=True)
    channel.queue_declare("q")
    channel.queue_bind("q", "tmp", "k")
    channel.queue_unbind("q", "tmp", "k")
    with raises(404, "NOT_FOUND - no exchange 'tmp' in vhost '/'"):
        channel.exchange_declare("tmp", passive=True)
