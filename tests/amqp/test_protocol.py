"""The AMQP protocol driven with bytes alone: no socket, no event loop, no clock.

A client's frames are built with pamqp and fed to `AMQPProtocol.receive_data`; what it would
write is read back from its output and decoded with pamqp; its events say what the transport
would do (a timer, a hang-up). Behind it is a real in-process `Broker`.
"""

from __future__ import annotations

import pytest
from pamqp import body as pamqp_body
from pamqp import commands, heartbeat
from pamqp import frame as pamqp_frame
from pamqp import header as pamqp_header

from amqp.codec import PROTOCOL_HEADER
from amqp.events import HangUp, Opened, SetTimer
from amqp.handshake import Settings
from amqp.protocol import AMQPProtocol
from broker import Broker

CAPABILITIES = {"authentication_failure_close": True, "consumer_cancel_notify": True}


# --- a client made of bytes -------------------------------------------------------------------


def marshal(channel: int, *methods: object) -> bytes:
    return b"".join(pamqp_frame.marshal(method, channel) for method in methods)


def content(channel: int, body: bytes, **properties: object) -> bytes:
    header = pamqp_header.ContentHeader(0, len(body), commands.Basic.Properties(**properties))
    return pamqp_frame.marshal(header, channel) + pamqp_frame.marshal(
        pamqp_body.ContentBody(body), channel
    )


def publish(channel: int, routing_key: str, body: bytes, exchange: str = "") -> bytes:
    method = commands.Basic.Publish(exchange=exchange, routing_key=routing_key)
    return marshal(channel, method) + content(channel, body)


def written(protocol: AMQPProtocol) -> list[tuple[int, object]]:
    """Everything the protocol would write now, as (channel, frame) pairs; then, as the
    transport does, tell it that went to the socket."""
    data = protocol.output.data_to_send()
    protocol.output.output_written(socket_behind=False)
    frames = []
    while data:
        used, channel, value = pamqp_frame.unmarshal(data)
        frames.append((channel, value))
        data = data[used:]
    return frames


def methods(protocol: AMQPProtocol) -> list[object]:
    return [value for _, value in written(protocol)]


def shape(value: object) -> tuple:
    """A decoded frame as a comparable tuple (pamqp's frames compare by identity)."""
    return (value.name, *(getattr(value, slot) for slot in getattr(value, "__slots__", ())))


def shapes(protocol: AMQPProtocol) -> list[tuple]:
    return [shape(value) for value in methods(protocol)]


def shapes_on_channels(protocol: AMQPProtocol) -> list[tuple[int, tuple]]:
    return [(channel, shape(value)) for channel, value in written(protocol)]


def start_ok(user: str = "guest", password: str = "guest", **capabilities: bool) -> bytes:
    properties = {"capabilities": capabilities or CAPABILITIES}
    method = commands.Connection.StartOk(
        client_properties=properties, mechanism="PLAIN", response=f"\x00{user}\x00{password}"
    )
    return marshal(0, method)


def opened(broker: Broker, heartbeat: int = 0, vhost: str = "/") -> AMQPProtocol:
    """A protocol that went through the handshake; its output and events are taken."""
    protocol = AMQPProtocol(broker, Settings(heartbeat=60), name="test client")
    protocol.receive_data(PROTOCOL_HEADER + start_ok())
    protocol.receive_data(
        marshal(0, commands.Connection.TuneOk(2047, 131072, heartbeat))
        + marshal(0, commands.Connection.Open(vhost))
    )
    assert isinstance(methods(protocol)[-1], commands.Connection.OpenOk)
    protocol.take_events()
    return protocol


def with_channel(broker: Broker, number: int = 1, heartbeat: int = 0) -> AMQPProtocol:
    protocol = opened(broker, heartbeat)
    protocol.receive_data(marshal(number, commands.Channel.Open()))
    assert [method.name for method in methods(protocol)] == ["Channel.OpenOk"]
    return protocol


# --- protocol header and handshake --------------------------------------------------------------


@pytest.mark.parametrize("header", [b"AMQP\x00\x00\x09\x02", b"GET / HTTP/1.1\r\n\r\n"])
def test_a_wrong_protocol_header_is_answered_with_ours_and_a_hang_up(
    broker: Broker, header: bytes
) -> None:
    protocol = AMQPProtocol(broker, Settings(), name="test")
    protocol.receive_data(header)
    assert protocol.output.data_to_send() == PROTOCOL_HEADER
    assert protocol.take_events() == [SetTimer(10.0), HangUp()]
    assert broker.connections == {}


def test_the_protocol_header_may_come_in_pieces(broker: Broker) -> None:
    protocol = AMQPProtocol(broker, Settings(), name="test")
    protocol.receive_data(PROTOCOL_HEADER[:3])
    assert protocol.output.data_to_send() == b""
    protocol.receive_data(PROTOCOL_HEADER[3:])
    [start] = methods(protocol)
    assert isinstance(start, commands.Connection.Start)


def test_the_handshake_start_tune_open(broker: Broker) -> None:
    protocol = AMQPProtocol(broker, Settings(heartbeat=30, frame_max=65536), name="test client")
    assert protocol.take_events() == [SetTimer(10.0)]  # the handshake must finish in time
    protocol.receive_data(PROTOCOL_HEADER)
    [start] = methods(protocol)
    assert isinstance(start, commands.Connection.Start)
    assert (start.version_major, start.version_minor) == (0, 9)
    assert start.mechanisms == "PLAIN AMQPLAIN"
    assert start.server_properties["capabilities"]["publisher_confirms"] is True

    protocol.receive_data(start_ok())
    [tune] = methods(protocol)
    assert (tune.channel_max, tune.frame_max, tune.heartbeat) == (2047, 65536, 30)

    protocol.receive_data(
        marshal(0, commands.Connection.TuneOk(100, 8192, 20), commands.Connection.Open("/"))
    )
    assert shapes(protocol) == [shape(commands.Connection.OpenOk())]
    assert protocol.take_events() == [SetTimer(10.0), Opened("guest", "/", 20)]
    assert protocol.frame_max == 8192
    [connection] = broker.connections.values()
    assert (connection.name, connection.user, connection.kind) == ("test client", "guest", "amqp")


def test_a_refused_login_is_closed_with_403_then_hung_up(broker: Broker) -> None:
    protocol = AMQPProtocol(broker, Settings(), name="test")
    protocol.receive_data(PROTOCOL_HEADER)
    written(protocol)
    protocol.receive_data(start_ok(password="wrong"))
    [close] = methods(protocol)
    assert close.reply_code == 403
    assert close.reply_text.startswith("ACCESS_REFUSED - Login was refused using")
    assert (close.class_id, close.method_id) == (10, 11)
    assert protocol.take_events()[-1] == HangUp()


def test_guest_logs_in_only_from_this_machine(broker: Broker) -> None:
    """RabbitMQ's loopback_users: guest's password is known to all, so only localhost may use it;
    another user logs in from anywhere."""
    users = {"guest": "guest", "student": "s3cret"}
    remote = AMQPProtocol(broker, Settings(users=users), name="from the classroom")
    remote.handshake.from_loopback = False  # what the transport sets for a peer like 10.0.0.7
    remote.receive_data(PROTOCOL_HEADER)
    written(remote)
    remote.receive_data(start_ok())
    [close] = methods(remote)
    assert (close.reply_code, close.reply_text) == (
        403,
        "ACCESS_REFUSED - user 'guest' can only connect via localhost",
    )
    student = AMQPProtocol(broker, Settings(users=users), name="student")
    student.handshake.from_loopback = False
    student.receive_data(PROTOCOL_HEADER)
    written(student)
    student.receive_data(start_ok(user="student", password="s3cret"))
    assert shapes(student) == [shape(commands.Connection.Tune(2047, 131072, 60))]


def test_channels_beyond_the_negotiated_channel_max_close_the_connection(broker: Broker) -> None:
    protocol = AMQPProtocol(broker, Settings(), name="test")
    protocol.receive_data(PROTOCOL_HEADER + start_ok())
    protocol.receive_data(
        marshal(0, commands.Connection.TuneOk(2, 131072, 0))
        + marshal(0, commands.Connection.Open("/"))
        + marshal(1, commands.Channel.Open())
        + marshal(2, commands.Channel.Open())
        + marshal(3, commands.Channel.Open())
    )
    close = methods(protocol)[-1]
    assert (close.reply_code, close.reply_text) == (
        530,
        "NOT_ALLOWED - number of channels opened (2) has reached the negotiated channel_max (2)",
    )


def test_the_transport_knows_a_loopback_peer() -> None:
    from amqp.transport import is_loopback

    assert all(map(is_loopback, ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]))
    assert not any(map(is_loopback, ["10.0.0.7", "192.168.1.20", "::ffff:10.0.0.7", "?"]))


def test_an_old_client_refused_at_login_is_just_hung_up(broker: Broker) -> None:
    protocol = AMQPProtocol(broker, Settings(), name="test")
    protocol.receive_data(PROTOCOL_HEADER)
    written(protocol)
    protocol.receive_data(start_ok(password="wrong", consumer_cancel_notify=True))
    assert shapes(protocol) == []
    assert protocol.take_events()[-1] == HangUp()


def test_a_method_out_of_turn_in_the_handshake_is_503(broker: Broker) -> None:
    protocol = AMQPProtocol(broker, Settings(), name="test")
    protocol.receive_data(PROTOCOL_HEADER + marshal(0, commands.Connection.Open("/")))
    _start, close = methods(protocol)
    assert close.reply_code == 503
    assert (
        close.reply_text == "COMMAND_INVALID - expected 'connection.startok', got 'connection.open'"
    )


def test_the_handshake_timer_hangs_up_a_slow_client(broker: Broker) -> None:
    protocol = AMQPProtocol(broker, Settings(), name="test")
    protocol.receive_data(PROTOCOL_HEADER)
    protocol.take_events()
    protocol.timer_fired()
    assert protocol.take_events() == [HangUp()]


# --- framing ------------------------------------------------------------------------------------


def test_a_frame_with_a_bad_end_byte_closes_with_501_and_hangs_up(broker: Broker) -> None:
    protocol = with_channel(broker)
    frame = bytearray(marshal(1, commands.Basic.Qos(prefetch_count=1)))
    frame[-1] = 0xCD
    protocol.receive_data(bytes(frame))
    [close] = methods(protocol)
    assert close.reply_code == 501
    assert close.reply_text.startswith("FRAME_ERROR - type 1, all octets = <<0,60,0,10,")
    assert close.reply_text.endswith(": {invalid_frame_end_marker,205}")
    assert protocol.take_events() == [SetTimer(2.0), HangUp()]
    assert broker.connections == {}


def test_frames_split_anywhere_across_reads_are_put_back_together(broker: Broker) -> None:
    protocol = with_channel(broker)
    data = marshal(1, commands.Queue.Declare(queue="orders")) + publish(1, "orders", b"hello")
    for i in range(len(data)):
        protocol.receive_data(data[i : i + 1])
    [declare_ok] = methods(protocol)
    assert declare_ok.queue == "orders"
    assert broker.queue_depths()["orders"] == (1, 0, 0)


def test_content_without_a_publish_is_505(broker: Broker) -> None:
    protocol = with_channel(broker)
    protocol.receive_data(content(1, b"stray"))
    [close] = methods(protocol)
    assert close.reply_code == 505


# --- channels and the broker behind them --------------------------------------------------------


def test_a_publish_goes_through_to_the_broker(broker: Broker) -> None:
    protocol = with_channel(broker)
    protocol.receive_data(
        marshal(1, commands.Queue.Declare(queue="orders")) + publish(1, "orders", b"one")
    )
    assert shapes(protocol) == [shape(commands.Queue.DeclareOk("orders", 0, 0))]
    [message] = broker.peek("/", "orders")
    assert message["payload"] == "one"


def test_confirms_of_one_read_go_out_as_one_multiple_ack(broker: Broker) -> None:
    protocol = with_channel(broker)
    protocol.receive_data(
        marshal(1, commands.Queue.Declare(queue="orders"), commands.Confirm.Select())
    )
    written(protocol)
    protocol.receive_data(b"".join(publish(1, "orders", b"%d" % i) for i in range(5)))
    assert shapes_on_channels(protocol) == [
        (1, shape(commands.Basic.Ack(delivery_tag=5, multiple=True)))
    ]
    protocol.receive_data(publish(1, "orders", b"six"))
    assert shapes_on_channels(protocol) == [
        (1, shape(commands.Basic.Ack(delivery_tag=6, multiple=False)))
    ]


def test_a_consumer_gets_its_deliveries_after_consume_ok(broker: Broker) -> None:
    protocol = with_channel(broker)
    protocol.receive_data(
        marshal(1, commands.Queue.Declare(queue="work")) + publish(1, "work", b"job")
    )
    written(protocol)
    protocol.receive_data(marshal(1, commands.Basic.Consume(queue="work", consumer_tag="c1")))
    ok, deliver, header, body = methods(protocol)
    assert shape(ok) == shape(commands.Basic.ConsumeOk("c1"))
    assert (deliver.consumer_tag, deliver.delivery_tag, deliver.routing_key) == ("c1", 1, "work")
    assert (header.body_size, body.value) == (3, b"job")
    assert broker.queue_depths()["work"] == (0, 1, 1)
    protocol.receive_data(marshal(1, commands.Basic.Ack(delivery_tag=1)))
    assert broker.queue_depths()["work"] == (0, 0, 1)


def test_a_refill_to_a_consumer_with_work_in_hand_may_wait_for_company(broker: Broker) -> None:
    protocol = with_channel(broker)
    protocol.receive_data(
        marshal(1, commands.Queue.Declare(queue="work"), commands.Basic.Qos(prefetch_count=40))
        + b"".join(publish(1, "work", b"job") for _ in range(41))
        + marshal(1, commands.Basic.Consume(queue="work", consumer_tag="c1"))
    )
    assert not protocol.output.can_wait()  # replies go out at once
    assert len(methods(protocol)) == 2 + 1 + 40 * 3  # declare-ok, qos-ok, consume-ok, 40 × 3
    protocol.receive_data(marshal(1, commands.Basic.Ack(delivery_tag=1)))
    assert protocol.output.can_wait()  # one refill, while 39 are still in the client's hands
    deliver, _header, _body = methods(protocol)
    assert deliver.delivery_tag == 41


def test_a_channel_error_closes_the_channel_with_the_failing_method(broker: Broker) -> None:
    protocol = with_channel(broker)
    protocol.receive_data(marshal(1, commands.Queue.Declare(queue="missing", passive=True)))
    [(channel, close)] = written(protocol)
    assert channel == 1 and close.reply_code == 404
    assert (close.class_id, close.method_id) == (50, 10)
    protocol.receive_data(marshal(1, commands.Channel.CloseOk()))
    protocol.receive_data(marshal(1, commands.Channel.Open()))  # the number is free again
    assert [method.name for method in methods(protocol)] == ["Channel.OpenOk"]


def test_a_frame_on_an_unopened_channel_is_504(broker: Broker) -> None:
    protocol = opened(broker)
    protocol.receive_data(marshal(3, commands.Basic.Qos(prefetch_count=1)))
    [close] = methods(protocol)
    assert (close.reply_code, close.reply_text) == (504, "CHANNEL_ERROR - expected 'channel.open'")


# --- heartbeats -----------------------------------------------------------------------------------


def test_a_quiet_server_sends_heartbeats_every_half_interval(broker: Broker) -> None:
    protocol = opened(broker, heartbeat=10)
    protocol.timer_fired()  # open-ok just went out: no heartbeat needed yet
    assert written(protocol) == []
    assert protocol.take_events() == [SetTimer(5.0)]
    protocol.receive_data(heartbeat.Heartbeat.marshal())
    for _ in range(3):
        protocol.timer_fired()
        assert shapes(protocol) == [shape(heartbeat.Heartbeat())]
        assert protocol.take_events() == [SetTimer(5.0)]


def test_a_client_silent_for_two_intervals_is_dropped(broker: Broker) -> None:
    protocol = opened(broker, heartbeat=10)
    protocol.timer_fired()  # the handshake was the last thing heard
    for _ in range(3):
        protocol.timer_fired()
        assert protocol.take_events()[-1] == SetTimer(5.0)
    protocol.receive_data(heartbeat.Heartbeat.marshal())  # just in time
    for _ in range(4):  # the tick that sees it, then three quiet ones
        protocol.timer_fired()
        assert protocol.take_events()[-1] == SetTimer(5.0)
    protocol.timer_fired()  # the fourth quiet one: two intervals without a word
    assert protocol.take_events()[-1] == HangUp(abort=True)
    assert broker.connections == {}


def test_a_heartbeat_on_a_channel_is_505(broker: Broker) -> None:
    protocol = opened(broker)
    protocol.receive_data(heartbeat.Heartbeat.marshal()[:1] + b"\x00\x01" + b"\x00" * 4 + b"\xce")
    [close] = methods(protocol)
    assert (close.reply_code, close.reply_text) == (
        505,
        "UNEXPECTED_FRAME - type 8, all octets = <<>>",
    )


# --- closing ------------------------------------------------------------------------------------


def test_the_client_closes_the_connection(broker: Broker) -> None:
    protocol = with_channel(broker)
    protocol.receive_data(marshal(0, commands.Connection.Close(200, "bye", 0, 0)))
    assert shapes(protocol) == [shape(commands.Connection.CloseOk())]
    assert protocol.take_events() == [HangUp()]
    assert broker.connections == {}


def test_the_broker_closes_the_connection_and_the_client_answers(broker: Broker) -> None:
    protocol = with_channel(broker)
    [connection] = broker.connections.values()
    connection.close("closed from the web page")  # as another thread would
    assert len(protocol.inbox) == 2  # the channel's close and the connection's, posted
    protocol.drain_inbox()  # what the transport does when woken
    [close] = methods(protocol)  # connection.close says it all
    assert (close.reply_code, close.reply_text) == (
        320,
        "CONNECTION_FORCED - closed from the web page",
    )
    assert protocol.take_events() == [SetTimer(2.0)]
    protocol.receive_data(marshal(0, commands.Connection.CloseOk()))
    assert protocol.take_events() == [HangUp()]


def test_without_close_ok_the_close_timer_hangs_up(broker: Broker) -> None:
    protocol = opened(broker)
    protocol.shut_down()
    [close] = methods(protocol)
    assert (close.reply_code, close.reply_text) == (320, "CONNECTION_FORCED - broker shutdown")
    assert protocol.take_events() == [SetTimer(2.0)]
    protocol.timer_fired()
    assert protocol.take_events() == [HangUp()]


def test_a_lost_socket_closes_the_broker_side(broker: Broker) -> None:
    protocol = with_channel(broker)
    protocol.connection_lost()
    assert broker.connections == {}
    [closed] = [e for e in broker.events.recent() if e.type == "connection.closed"]
    assert closed.get("reason") == "client unexpectedly closed TCP connection"
    protocol.receive_data(marshal(1, commands.Channel.Open()))  # nothing happens any more
    assert written(protocol) == []
