"""The in-process clients: pika-shaped blocking and aio-pika-shaped asyncio, over one broker."""

from __future__ import annotations

import asyncio
import threading

import pytest

from broker import AMQPError, Broker, Properties
from clients.aio import DeliveryError, Message, QueueEmpty, connect
from clients.blocking import BlockingConnection, NackError, UnroutableError


def test_the_article_flow_reads_naturally_with_asyncio(broker):
    async def main() -> list[bytes]:
        connection = await connect(broker)
        received = []
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue("hello")
            for text in ("Hello", "World"):
                await channel.default_exchange.publish(Message(text.encode()), routing_key="hello")
            async with queue.iterator() as messages:
                async for message in messages:
                    async with message.process():
                        received.append(message.body)
                    if len(received) == 2:
                        break
        return received

    assert asyncio.run(main()) == [b"Hello", b"World"]
    info = broker.snapshot()["queues"][0]
    assert (info["messages_ready"], info["messages_unacknowledged"]) == (0, 0)


def test_process_rejects_when_the_block_raises(broker):
    async def main() -> None:
        async with await connect(broker) as connection:
            channel = await connection.channel()
            await channel.declare_exchange("dlx", "fanout")
            dead = await channel.declare_queue("dead")
            await dead.bind("dlx")
            work = await channel.declare_queue("work", arguments={"x-dead-letter-exchange": "dlx"})
            await channel.default_exchange.publish(Message(b"poison"), routing_key="work")
            message = await work.get()
            with pytest.raises(ValueError):
                async with message.process():
                    raise ValueError("cannot handle this")
            assert message.processed
            dead_message = await dead.get(no_ack=True)
            assert dead_message.body == b"poison"
            assert dead_message.headers["x-death"][0]["reason"] == "rejected"
            assert await work.get(fail=False) is None
            with pytest.raises(QueueEmpty):
                await work.get()

    asyncio.run(main())


def test_asyncio_consume_callback_and_confirms(broker):
    async def main() -> list[bytes]:
        got: list[bytes] = []
        done = asyncio.Event()
        async with await connect(broker) as connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=2)
            queue = await channel.declare_queue("", exclusive=True)

            async def on_message(message) -> None:
                await asyncio.sleep(0)
                got.append(message.body)
                await message.ack()
                if len(got) == 5:
                    done.set()

            await queue.consume(on_message)
            for i in range(5):
                result = await channel.default_exchange.publish(
                    Message(b"%d" % i, expiration=30), routing_key=queue.name
                )
                assert result.confirmed
            await asyncio.wait_for(done.wait(), 5)
            full = await channel.declare_queue(
                "full", arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
            )
            with pytest.raises(DeliveryError):
                await channel.default_exchange.publish(Message(b"x"), routing_key=full.name)
        return got

    assert asyncio.run(main()) == [b"0", b"1", b"2", b"3", b"4"]


def test_blocking_consume_with_callbacks_on_a_worker_thread(broker):
    connection = BlockingConnection(broker)
    channel = connection.channel()
    channel.queue_declare("tasks")
    threads = set()
    done = threading.Event()
    bodies = []

    def callback(ch, method, properties, body):
        threads.add(threading.current_thread().name)
        bodies.append(body)
        ch.basic_ack(method.delivery_tag)
        if len(bodies) == 3:
            ch.stop_consuming()
            done.set()

    channel.basic_consume("tasks", callback)
    for text in ("a", "b", "c"):
        channel.basic_publish("", "tasks", text, Properties(delivery_mode=2))
    channel.start_consuming(timeout=5)
    assert done.is_set() and bodies == [b"a", b"b", b"c"]
    assert threads == {"queuelab-consumer"}
    connection.close()


def test_blocking_consume_generator_and_get(broker):
    with BlockingConnection(broker) as connection:
        channel = connection.channel()
        declared = channel.queue_declare("gen")
        assert declared.method.queue == "gen"
        channel.basic_publish("", "gen", b"1")
        method, properties, body = channel.basic_get("gen", auto_ack=True)
        assert body == b"1" and method.message_count == 0
        assert channel.basic_get("gen") == (None, None, None)
        channel.basic_publish("", "gen", b"2")
        for method, _properties, body in channel.consume("gen", inactivity_timeout=0.1):
            if method is None:
                break
            assert body == b"2"
            channel.basic_ack(method.delivery_tag)


def test_blocking_confirms_raise_like_pika(broker):
    with BlockingConnection(broker) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        with pytest.raises(UnroutableError):
            channel.basic_publish("amq.direct", "nowhere", b"x", mandatory=True)
        channel.queue_declare("one", arguments={"x-max-length": 0, "x-overflow": "reject-publish"})
        with pytest.raises(NackError):
            channel.basic_publish("", "one", b"x")


def test_closing_a_connection_requeues_unacked_and_deletes_exclusive_queues(broker):
    consumer = BlockingConnection(broker, "consumer")
    channel = consumer.channel()
    channel.queue_declare("jobs")
    channel.queue_declare("private", exclusive=True)
    received = threading.Event()
    channel.basic_consume("jobs", lambda ch, m, p, b: received.set())
    with BlockingConnection(broker, "producer") as producer:
        producer.channel().basic_publish("", "jobs", b"job")
    assert received.wait(5)
    consumer.close()
    with BlockingConnection(broker) as checker:
        again = checker.channel().basic_get("jobs", auto_ack=True)
        assert again[2] == b"job" and again[0].redelivered
        with pytest.raises(AMQPError) as info:
            checker.channel().queue_declare("private", passive=True)
        assert info.value.reply_code == 404


def test_an_unknown_tag_closes_the_channel_and_stops_its_consumer_workers(broker):
    connection = BlockingConnection(broker)
    channel = connection.channel()
    channel.queue_declare("q")
    channel.basic_consume("q", lambda *args: None)
    channel.basic_ack(42)  # sent, not awaited, as pika sends it
    channel.start_consuming(timeout=5)  # returns: the channel is closed and its workers stopped
    assert not channel.is_open
    with pytest.raises(AMQPError) as info:  # the channel's next call says why, as in pika
        channel.queue_declare("q")
    assert (info.value.reply_code, info.value.reply_text) == (
        406,
        "PRECONDITION_FAILED - unknown delivery tag 42",
    )
    connection.close()


def test_two_clients_share_one_broker():
    broker = Broker()
    blocking = BlockingConnection(broker, "thread side").channel()
    blocking.queue_declare("shared")

    async def publish() -> None:
        async with await connect(broker, "asyncio side") as connection:
            channel = await connection.channel()
            await channel.default_exchange.publish(Message(b"from asyncio"), routing_key="shared")

    asyncio.run(publish())
    assert blocking.basic_get("shared", auto_ack=True)[2] == b"from asyncio"
    broker.close()
