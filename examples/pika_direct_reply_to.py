"""RPC with direct reply-to (pika): the client needs no reply queue at all.

The client consumes from the pseudo-queue "amq.rabbitmq.reply-to" (auto-ack: it must) and sends
each request with reply_to="amq.rabbitmq.reply-to" on that same channel. The broker rewrites
reply_to to a key naming the client's channel (the server prints it); the server answers to that
key through the default exchange, and the answer goes straight to the client's consumer.

The server is pika_rpc.py's, unchanged: it answers to whatever reply_to says.
"""

import os
import threading
import uuid

import pika
from pika_rpc import server

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")
REPLY_TO = "amq.rabbitmq.reply-to"


def main() -> None:
    numbers = [7, 12]
    ready = threading.Event()
    thread = threading.Thread(target=server, args=(ready, len(numbers)))
    thread.start()
    ready.wait(10)
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    channel = connection.channel()
    answers: dict[str, bytes] = {}
    channel.basic_consume(
        REPLY_TO,
        lambda ch, method, props, body: answers.__setitem__(props.correlation_id, body),
        auto_ack=True,
    )
    for n in numbers:
        correlation_id = str(uuid.uuid4())
        props = pika.BasicProperties(reply_to=REPLY_TO, correlation_id=correlation_id)
        channel.basic_publish("", "rpc_queue", str(n).encode(), props)
        while correlation_id not in answers:
            connection.process_data_events(time_limit=0.1)
        print(f" [client] fib({n}) = {answers[correlation_id].decode()}, no reply queue needed")
    thread.join(10)
    connection.close()


if __name__ == "__main__":
    main()
