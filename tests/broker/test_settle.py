"""Settling: delivery tags, unknown tags, multiple, requeue to the original position, cancel vs close.

Reply codes and texts as RabbitMQ 3.10 sends them (probed against a real RabbitMQ 3.10.8 with pika)."""

from __future__ import annotations

import pytest

from tests.broker.expect import raises


def test_delivery_tags_are_per_channel(broker):
    with broker.connect() as connection:
        first, second = connection.channel(), connection.channel()
        first.queue_declare("q")
        for _ in range(4):
            first.basic_publish("", "q", b"x")
        assert first.basic_get("q").delivery_tag == 1
        assert second.basic_get("q").delivery_tag == 1
        assert first.basic_get("q").delivery_tag == 2


@pytest.mark.parametrize(
    "settle",
    [
        lambda ch: ch.basic_ack(5),
        lambda ch: ch.basic_nack(5),
        lambda ch: ch.basic_reject(5),
        lambda ch: ch.basic_ack(5, multiple=True),
    ],
    ids=["ack", "nack", "reject", "ack-multiple"],
)
def test_unknown_delivery_tag_closes_channel_and_requeues(broker, settle):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        channel.basic_publish("", "q", b"held")
        held = channel.basic_get("q")
        assert held.delivery_tag == 1
        with raises(406, "PRECONDITION_FAILED - unknown delivery tag 5"):
            settle(channel)
        assert channel.closed
        again = connection.channel().basic_get("q", no_ack=True)
        assert again.body == b"held" and again.redelivered


def test_double_ack_and_tag_zero(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.basic_ack(0, multiple=True)  # nothing outstanding: fine
        channel.queue_declare("q")
        channel.basic_publish("", "q", b"x")
        tag = channel.basic_get("q").delivery_tag
        channel.basic_ack(tag)
        with raises(406, f"PRECONDITION_FAILED - unknown delivery tag {tag}"):
            channel.basic_ack(tag)
        with raises(406, "PRECONDITION_FAILED - unknown delivery tag 0"):
            connection.channel().basic_ack(0)


def test_multiple_covers_every_tag_up_to_n(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        for i in range(5):
            channel.basic_publish("", "q", b"%d" % i)
        tags = [channel.basic_get("q").delivery_tag for _ in range(5)]
        channel.basic_nack(tags[2], multiple=True, requeue=True)
        info = channel.queue_declare("q", passive=True)
        assert info.message_count == 3
        assert len(channel.unacked) == 2


def test_requeue_goes_back_to_original_position_with_redelivered(channel):
    channel.queue_declare("q")
    for i in range(1, 6):
        channel.basic_publish("", "q", b"m%d" % i)
    got = {channel.basic_get("q").body: None for _ in range(5)}
    tags = dict(zip(got, range(1, 6), strict=True))
    channel.basic_nack(tags[b"m4"], requeue=True)
    channel.basic_nack(tags[b"m2"], requeue=True)
    channel.basic_publish("", "q", b"m6")
    drained = []
    while (d := channel.basic_get("q", no_ack=True)) is not None:
        drained.append((d.body, d.redelivered))
    assert drained == [(b"m2", True), (b"m4", True), (b"m6", False)]


def test_requeue_restores_order_whatever_order_the_rejects_come_in(channel):
    channel.queue_declare("q")
    for i in range(1, 6):
        channel.basic_publish("", "q", b"m%d" % i)
    for tag in (1, 2, 3):
        assert channel.basic_get("q").delivery_tag == tag
    for tag in (3, 1, 2):
        channel.basic_reject(tag, requeue=True)
    drained = []
    while (d := channel.basic_get("q", no_ack=True)) is not None:
        drained.append((d.body, d.redelivered))
    assert drained == [
        (b"m1", True),
        (b"m2", True),
        (b"m3", True),
        (b"m4", False),
        (b"m5", False),
    ]


def test_cancel_keeps_unacked_but_channel_close_requeues(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        for _ in range(5):
            channel.basic_publish("", "q", b"x")
        channel.basic_qos(2)
        tag = channel.basic_consume("q", lambda d: None)
        assert channel.queue_declare("q", passive=True).message_count == 3
        channel.basic_cancel(tag)
        assert channel.queue_declare("q", passive=True).message_count == 3
        channel.basic_ack(1)  # still acknowledgeable after the cancel
        channel.close()
        assert connection.channel().queue_declare("q", passive=True).message_count == 4
