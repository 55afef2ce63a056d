"""Bad input over a raw socket, against QueueLab's listener and a real RabbitMQ alike.

Each case checks the reply (our protocol header, or connection.close with RabbitMQ's code and
text), and that a bystander connection opened before it still works afterwards.
"""

# ruff: noqa: F811  (the fixtures imported from tests.amqp_helpers are test parameters)

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest
from pamqp import body as pamqp_body
from pamqp import commands
from pamqp import frame as pamqp_frame
from pamqp import header as pamqp_header

from tests.amqp_helpers import (  # noqa: F401  (fixtures used as parameters)
    RABBITMQ_PORT,
    RawClient,
    amqp_broker,
    amqp_server,
    amqp_url,
    pika_connect,
    rabbitmq_url,
    unique,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(params=["queuelab", "rabbitmq"])
def port(request: pytest.FixtureRequest) -> Iterator[int]:
    """The broker's port, with a pika connection open beside the raw one that must survive."""
    if request.param == "queuelab":
        url, number = (
            request.getfixturevalue("amqp_url"),
            request.getfixturevalue("amqp_server").port,
        )
    else:
        url, number = request.getfixturevalue("rabbitmq_url"), RABBITMQ_PORT
    bystander = pika_connect(url)
    channel = bystander.channel()
    yield number
    channel.queue_declare(unique("bystander"), exclusive=True)  # still works
    bystander.close()
    again = pika_connect(url)  # and the server still accepts new connections
    again.close()


def method_frame(channel: int, method: object) -> bytes:
    return pamqp_frame.marshal(method, channel)


def raw_frame(frame_type: int, channel: int, payload: bytes, end: int = 0xCE) -> bytes:
    return struct.pack(">BHI", frame_type, channel, len(payload)) + payload + bytes((end,))


@pytest.mark.parametrize(
    "header",
    [b"AMQP\x00\x00\x09\x02", b"GET / HTTP/1.1\r\n\r\n", b"\x00\x01\x02\x03\x04\x05\x06\x07"],
)
def test_wrong_protocol_header_gets_ours_and_a_hang_up(port: int, header: bytes) -> None:
    client = RawClient(port)
    client.send(header)
    assert client.read_until_closed() == b"AMQP\x00\x00\x09\x01"
    client.close()


CASES = {
    "frame on an unopened channel": (
        lambda: method_frame(5, commands.Queue.Declare(queue="x")),
        504,
        "CHANNEL_ERROR - expected 'channel.open'",
    ),
    "content header without a method": (
        lambda: pamqp_frame.marshal(
            pamqp_header.ContentHeader(0, 3, commands.Basic.Properties()), 1
        ),
        505,
        "UNEXPECTED_FRAME - expected method frame, got non method frame instead",
    ),
    "content body without a method": (
        lambda: pamqp_frame.marshal(pamqp_body.ContentBody(b"abc"), 1),
        505,
        "UNEXPECTED_FRAME - expected method frame, got non method frame instead",
    ),
    "oversized frame": (
        lambda: raw_frame(1, 1, b"\x00" * 200_000),
        501,
        "FRAME_ERROR - type 1, all octets = <<>>: {frame_too_large,200000,131064}",
    ),
    "bad frame end": (
        lambda: raw_frame(1, 1, b"\x00\x0a\x00\x28", end=0xCD),
        501,
        "FRAME_ERROR - type 1, all octets = <<0,10,0,40>>: {invalid_frame_end_marker,205}",
    ),
    "garbage bytes": (
        lambda: b"\xde\xad\xbe\xef" * 10,
        501,
        "FRAME_ERROR - type 222, all octets = <<>>: {frame_too_large,4024348094,131064}",
    ),
    "unknown frame type": (
        lambda: raw_frame(9, 1, b"\x00"),
        501,
        "FRAME_ERROR - type 9, all octets = <<0>>: unknown_frame",
    ),
    "truncated method arguments": (
        lambda: raw_frame(1, 1, b"\x00\x32\x00\x0a\x00"),
        501,
        "FRAME_ERROR - cannot decode <<0>>",
    ),
    "heartbeat on a channel": (
        lambda: raw_frame(8, 1, b""),
        505,
        "UNEXPECTED_FRAME - type 8, all octets = <<>>",
    ),
    "non-connection method on channel 0": (
        lambda: method_frame(0, commands.Queue.Declare(queue="x")),
        504,
        "CHANNEL_ERROR - unexpected method in connection state running",
    ),
    "method where content was expected": (
        lambda: (
            method_frame(1, commands.Basic.Publish(exchange="", routing_key="x"))
            + method_frame(1, commands.Basic.Qos(prefetch_count=1))
        ),
        505,
        "UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead",
    ),
    "publish with immediate=true": (
        lambda: (
            method_frame(1, commands.Basic.Publish(exchange="", routing_key="x", immediate=True))
            + pamqp_frame.marshal(pamqp_header.ContentHeader(0, 1, commands.Basic.Properties()), 1)
            + pamqp_frame.marshal(pamqp_body.ContentBody(b"x"), 1)
        ),
        540,
        "NOT_IMPLEMENTED - immediate=true",
    ),
    "channel.flow active=false": (
        lambda: method_frame(1, commands.Channel.Flow(active=False)),
        540,
        "NOT_IMPLEMENTED - active=false",
    ),
    "second channel.open": (
        lambda: method_frame(1, commands.Channel.Open()),
        504,
        "CHANNEL_ERROR - second 'channel.open' seen",
    ),
    "basic.recover requeue=false": (
        lambda: method_frame(1, commands.Basic.Recover(requeue=False)),
        540,
        "NOT_IMPLEMENTED - requeue=false",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_closes_the_connection_with_rabbitmqs_code(port: int, case: str) -> None:
    make, code, text = CASES[case]
    client = RawClient(port)
    client.handshake()
    client.open_channel(1)
    client.send(make())
    close = client.expect_connection_close()
    assert (close.reply_code, close.reply_text) == (code, text)
    client.close()


@pytest.mark.parametrize(
    "first, second, text",
    [
        (commands.Tx.Select(), commands.Confirm.Select(), "cannot switch from tx to confirm mode"),
        (commands.Confirm.Select(), commands.Tx.Select(), "cannot switch from confirm to tx mode"),
        (None, commands.Tx.Commit(), "channel is not transactional"),
    ],
)
def test_tx_and_confirm_mode_errors_close_the_channel(
    port: int, first: object, second: object, text: str
) -> None:
    client = RawClient(port)
    client.handshake()
    client.open_channel(1)
    if first is not None:
        client.send_method(1, first)
        client.read_frame()
    client.send_method(1, second)
    channel, close = client.read_frame()
    assert channel == 1 and isinstance(close, commands.Channel.Close)
    assert (close.reply_code, close.reply_text) == (406, f"PRECONDITION_FAILED - {text}")
    client.send_method(1, commands.Channel.CloseOk())
    client.open_channel(1)  # the number can be used again, the connection is fine
    client.close()


def test_truncated_frame_then_hang_up_leaves_the_server_fine(port: int) -> None:
    client = RawClient(port)
    client.handshake()
    client.open_channel(1)
    client.send(method_frame(1, commands.Queue.Declare(queue="x"))[:9])
    client.close()  # the bystander check in the fixture does the rest


def test_channel_close_race_is_answered_with_close_ok(port: int) -> None:
    client = RawClient(port)
    client.handshake()
    client.open_channel(1)
    client.send_method(1, commands.Queue.Declare(queue=unique("gone"), passive=True))
    client.send_method(1, commands.Channel.Close(200, "bye", 0, 0))
    frames = [client.read_frame()[1], client.read_frame()[1]]
    assert isinstance(frames[0], commands.Channel.Close) and frames[0].reply_code == 404
    assert isinstance(frames[1], commands.Channel.CloseOk)
    client.send_method(1, commands.Channel.CloseOk())
    client.open_channel(1)
    client.close()
