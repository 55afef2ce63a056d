"""QueueLab's listener itself: lifecycle, heartbeats, the broker's view of AMQP clients, aio-pika.

These need QueueLab (they stop and restart the server, read the broker's snapshot, or mix
in-process and AMQP clients), so they do not run against RabbitMQ.
"""

# ruff: noqa: F811  (the fixtures imported from tests.amqp_helpers are test parameters)

from __future__ import annotations

import asyncio
import socket
import struct
import time

import aio_pika
import pika
import pytest
from pamqp import commands

from amqp import AMQPServer
from broker import Broker
from clients.blocking import BlockingConnection as InProcessConnection
from tests.amqp_helpers import (  # noqa: F401  (fixtures used as parameters)
    RawClient,
    amqp_broker,
    amqp_server,
    amqp_url,
    pika_connect,
    unique,
)

pytestmark = pytest.mark.timeout(30)


def test_connections_and_channels_show_in_the_broker(amqp_broker: Broker, amqp_url: str) -> None:
    connection = pika_connect(amqp_url)
    connection.channel()
    connection.channel()
    (info,) = amqp_broker.snapshot()["connections"]
    assert info["type"] == "amqp" and info["user"] == "guest" and info["channels"] == 2
    assert info["client_properties"]["product"] == "Pika Python Client Library"
    types = [event.type for event in amqp_broker.events.recent()]
    assert "connection.opened" in types and "channel.opened" in types
    connection.close()
    time.sleep(0.1)
    assert amqp_broker.snapshot()["connections"] == []


def test_delivery_from_another_thread_reaches_the_amqp_consumer(
    amqp_broker: Broker, amqp_url: str
) -> None:
    """A publish by the in-process client runs the AMQP consumer's sink on its thread."""
    connection = pika_connect(amqp_url)
    channel = connection.channel()
    queue = unique("cross")
    channel.queue_declare(queue)
    got: list[bytes] = []
    channel.basic_consume(queue, lambda c, m, p, b: got.append(b), auto_ack=True)
    with InProcessConnection(amqp_broker) as local:
        local_channel = local.channel()
        for i in range(20):
            local_channel.basic_publish("", queue, b"m%d" % i)
    deadline = time.monotonic() + 5
    while len(got) < 20 and time.monotonic() < deadline:
        connection.process_data_events(time_limit=0.05)
    assert got == [b"m%d" % i for i in range(20)]
    connection.close()


def test_heartbeats_keep_an_idle_connection_alive(amqp_url: str) -> None:
    connection = pika_connect(amqp_url, heartbeat=1)
    channel = connection.channel()
    connection.sleep(3.2)  # idle for more than three intervals; pika answers our heartbeats
    channel.queue_declare(unique("alive"), exclusive=True)
    connection.close()


def test_a_silent_client_is_dropped_after_two_heartbeat_intervals(amqp_server: AMQPServer) -> None:
    client = RawClient(amqp_server.port, timeout=6)
    client.send(b"AMQP\x00\x00\x09\x01")
    client.read_frame()
    client.send_method(
        0, commands.Connection.StartOk(mechanism="PLAIN", response="\x00guest\x00guest")
    )
    client.read_frame()
    client.send_method(0, commands.Connection.TuneOk(2047, 131072, 1))
    client.send_method(0, commands.Connection.Open("/"))
    client.read_frame()
    start = time.monotonic()
    rest = client.read_until_closed()  # we send nothing at all
    assert 1.5 < time.monotonic() - start < 4.5
    assert rest.startswith(b"\x08\x00\x00\x00\x00\x00\x00\xce")  # it sent us heartbeats first
    client.close()


def test_amqplain_login(amqp_server: AMQPServer) -> None:
    client = RawClient(amqp_server.port)
    client.send(b"AMQP\x00\x00\x09\x01")
    start = client.read_frame()[1]
    assert start.mechanisms.split() == ["PLAIN", "AMQPLAIN"]
    table = b"".join(
        struct.pack(">B", len(k)) + k + b"S" + struct.pack(">I", len(v)) + v
        for k, v in ((b"LOGIN", b"guest"), (b"PASSWORD", b"guest"))
    )
    client.send_method(
        0, commands.Connection.StartOk(mechanism="AMQPLAIN", response=table.decode())
    )
    assert isinstance(client.read_frame()[1], commands.Connection.Tune)
    client.close()


def test_server_capabilities_are_advertised(amqp_server: AMQPServer) -> None:
    client = RawClient(amqp_server.port)
    client.send(b"AMQP\x00\x00\x09\x01")
    start = client.read_frame()[1]
    properties = start.server_properties
    assert properties["product"] == "QueueLab"
    assert set(properties["capabilities"]) == {
        "publisher_confirms",
        "exchange_exchange_bindings",
        "basic.nack",
        "consumer_cancel_notify",
        "connection.blocked",
        "authentication_failure_close",
        "per_consumer_qos",
    }
    client.close()


def test_stop_sends_connection_forced_to_clients(amqp_broker: Broker) -> None:
    server = AMQPServer(amqp_broker, port=0).start()
    connection = pika_connect(server.url)
    channel = connection.channel()
    queue = unique("unacked")
    channel.queue_declare(queue)
    channel.basic_publish("", queue, b"x")
    channel.basic_get(queue)  # unacked when the server goes
    server.stop(timeout=0.2)
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as raised:
        connection.process_data_events(time_limit=1)
        channel.queue_declare(queue, passive=True)
    assert (raised.value.reply_code, raised.value.reply_text) == (
        320,
        "CONNECTION_FORCED - broker shutdown",
    )
    assert amqp_broker.snapshot()["connections"] == []
    (info,) = amqp_broker.snapshot()["queues"]
    assert info["messages_ready"] == 1  # requeued when the connection went


def test_broker_shutdown_closes_amqp_clients_with_320(amqp_broker: Broker, amqp_url: str) -> None:
    connection = pika_connect(amqp_url)
    channel = connection.channel()
    amqp_broker.close()
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as raised:
        connection.process_data_events(time_limit=1)
        channel.queue_declare("x", passive=True)
    assert raised.value.reply_code == 320


def test_a_taken_port_falls_back_to_the_next_one(amqp_server: AMQPServer) -> None:
    other = AMQPServer(amqp_server.broker, port=amqp_server.port, heartbeat=0)
    with pytest.raises(OSError):
        other.start()
    fallback = AMQPServer(amqp_server.broker, port=amqp_server.port).start(port_attempts=20)
    try:
        assert fallback.port > amqp_server.port
        pika_connect(fallback.url).close()
    finally:
        fallback.stop()


def test_slow_reader_back_pressure_then_catch_up(amqp_broker: Broker, amqp_url: str) -> None:
    """An auto-ack consumer that does not read: once the socket is behind, the listener stops
    taking messages from the queue (its delivery credit runs out) instead of buffering all of
    them, and delivers everything once the client reads again."""
    queue = unique("slow")
    client = pika_connect(amqp_url)
    channel = client.channel()
    channel.queue_declare(queue)
    got: list[int] = []
    channel.basic_consume(queue, lambda c, m, p, b: got.append(len(b)), auto_ack=True)
    body = b"y" * 100_000
    with InProcessConnection(amqp_broker) as local:
        publisher = local.channel()
        for _ in range(300):  # 30 MB, more than socket buffers hold; pika reads nothing now
            publisher.basic_publish("", queue, body)
            time.sleep(0.001)
    time.sleep(0.3)
    held = next(q for q in amqp_broker.snapshot()["queues"] if q["name"] == queue)
    assert held["messages_ready"] > 0
    deadline = time.monotonic() + 20
    while len(got) < 300 and time.monotonic() < deadline:
        client.process_data_events(time_limit=0.1)
    assert got == [100_000] * 300
    client.close()


def test_a_deep_backlog_waits_in_the_queue_for_a_slow_auto_ack_consumer(
    amqp_broker: Broker, amqp_url: str
) -> None:
    """The backlog is there before the consumer: the broker hands it over in rounds, faster
    than the socket drains. Credit flow keeps all but a few hundred in the queue (where the
    pages show them) until the client reads, then they arrive complete and in order."""
    queue, count = unique("backlog"), 3000
    with InProcessConnection(amqp_broker) as local:
        publisher = local.channel()
        publisher.queue_declare(queue)
        for number in range(count):
            publisher.basic_publish("", queue, number.to_bytes(4, "big") + b"z" * 20_000)
    client = pika_connect(amqp_url)
    channel = client.channel()
    got: list[int] = []
    channel.basic_consume(
        queue, lambda c, m, p, b: got.append(int.from_bytes(b[:4], "big")), auto_ack=True
    )
    time.sleep(0.5)  # pika reads nothing now: the socket fills up
    ready = amqp_broker.queue_depths()[queue][0]
    assert ready > count // 2, f"only {ready} of {count} left in the queue"
    (waiting,) = [c for c in amqp_broker.snapshot()["channels"] if c["consumer_count"]]
    assert waiting["delivery_credit"] <= 0  # what the connections page shows
    consume_until(client, got, count, seconds=20)
    assert got == list(range(count))
    assert amqp_broker.queue_depths()[queue][0] == 0
    client.close()


def consume_until(connection, got: list, count: int, seconds: float = 5) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while len(got) < count and time.monotonic() < deadline:
        connection.process_data_events(time_limit=0.05)


def numbered_queue(amqp_url: str, count: int):  # noqa: ANN201
    """A pika connection, and a channel with prefetch 100 on a new queue of b"0", b"1", …"""
    client = pika_connect(amqp_url)
    channel = client.channel()
    queue = unique("numbered")
    channel.queue_declare(queue)
    for number in range(count):
        channel.basic_publish("", queue, b"%d" % number)
    channel.basic_qos(prefetch_count=100)
    return client, channel, queue


def test_a_refill_held_back_for_company_still_goes_out_alone(amqp_url: str) -> None:
    """A consumer holding many unacked messages gets its refills in batches, but one ack that
    nobody follows still brings the next message (the listener's DELIVERY_DELAY)."""
    client, channel, queue = numbered_queue(amqp_url, 101)
    got: list = []
    channel.basic_consume(queue, lambda c, method, p, body: got.append((method, body)))
    consume_until(client, got, 100)
    assert len(got) == 100
    channel.basic_ack(got[0][0].delivery_tag)  # room for one; the client still holds 99
    consume_until(client, got, 101)
    assert got[-1][1] == b"100"
    client.close()


def test_refills_one_ack_at_a_time_arrive_complete_and_in_order(amqp_url: str) -> None:
    client, channel, queue = numbered_queue(amqp_url, 2_000)
    got: list[bytes] = []

    def on_message(ch, method, properties, body) -> None:  # noqa: ANN001
        got.append(body)
        ch.basic_ack(method.delivery_tag)

    channel.basic_consume(queue, on_message)
    consume_until(client, got, 2_000, seconds=20)
    assert got == [b"%d" % number for number in range(2_000)]
    client.close()


# --- aio-pika -------------------------------------------------------------------------------


def test_the_article_producer_and_consumer_with_aio_pika(amqp_url: str) -> None:
    async def main() -> list[bytes]:
        connection = await aio_pika.connect_robust(amqp_url)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue("hello")
            for i in range(3):
                await channel.default_exchange.publish(
                    aio_pika.Message(body=f"Hello {i}".encode()), routing_key="hello"
                )
            received = []
            async with queue.iterator() as messages:
                async for message in messages:
                    async with message.process():
                        received.append(message.body)
                        if len(received) == 3:
                            break
            return received

    assert asyncio.run(main()) == [b"Hello 0", b"Hello 1", b"Hello 2"]


def test_aio_pika_confirms_many_concurrent_publishes_and_returns(amqp_url: str) -> None:
    async def main() -> None:
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel(on_return_raises=True)
            queue = await channel.declare_queue(unique("many"), auto_delete=True)
            await asyncio.gather(
                *[
                    channel.default_exchange.publish(aio_pika.Message(b"%d" % i), queue.name)
                    for i in range(500)
                ]
            )
            declared = await channel.declare_queue(queue.name, passive=True)
            assert declared.declaration_result.message_count == 500
            with pytest.raises(aio_pika.exceptions.DeliveryError):
                await channel.default_exchange.publish(
                    aio_pika.Message(b"lost"), unique("nowhere"), mandatory=True
                )

    asyncio.run(main())


def test_aio_pika_consumer_is_cancelled_when_the_queue_is_deleted(amqp_url: str) -> None:
    async def main() -> None:
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(unique("doomed"))

            async def ignore(message: aio_pika.abc.AbstractIncomingMessage) -> None:
                pass

            await queue.consume(ignore, no_ack=True)
            other = await connection.channel()
            await other.queue_delete(queue.name)
            await asyncio.sleep(0.2)
            assert not channel.is_closed  # a cancel, not a channel error

    asyncio.run(main())


def test_connect_robust_reconnects_after_a_restart_on_the_same_port(amqp_broker: Broker) -> None:
    server = AMQPServer(amqp_broker, port=0).start()
    port = server.port
    url = f"amqp://guest:guest@127.0.0.1:{port}/?reconnect_interval=0.3"

    async def main() -> list[bytes]:
        connection = await aio_pika.connect_robust(url)
        reconnected = asyncio.Event()

        def on_reconnect(*args: object) -> None:
            reconnected.set()

        connection.reconnect_callbacks.add(on_reconnect)
        channel = await connection.channel()
        queue = await channel.declare_queue("robust-hello")
        received: list[bytes] = []

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            received.append(message.body)

        await queue.consume(on_message, no_ack=True)
        await channel.default_exchange.publish(aio_pika.Message(b"before"), "robust-hello")
        await asyncio.sleep(0.2)

        await asyncio.to_thread(server.stop, 0.5)
        await asyncio.sleep(0.3)
        restarted = AMQPServer(amqp_broker, port=port).start()
        try:
            await asyncio.wait_for(reconnected.wait(), 10)
            await channel.default_exchange.publish(aio_pika.Message(b"after"), "robust-hello")
            for _ in range(50):
                if len(received) == 2:
                    break
                await asyncio.sleep(0.1)
            await connection.close()
        finally:
            await asyncio.to_thread(restarted.stop, 0.2)
        return received

    assert asyncio.run(main()) == [b"before", b"after"]


def test_port_zero_picks_a_free_port(amqp_server: AMQPServer) -> None:
    assert amqp_server.port > 0
    assert amqp_server.url == f"amqp://guest:guest@127.0.0.1:{amqp_server.port}/"
    with socket.create_connection(("127.0.0.1", amqp_server.port), timeout=1):
        pass
