"""RPC with direct reply-to (pika): no reply queue at all.

The client consumes from the pseudo-queue "amq.rabbitmq.reply-to" (auto-ack: it must) and sends
each request with reply_to="amq.rabbitmq.reply-to" on that same channel. The broker rewrites
reply_to to a key naming the client's channel; the server answers to that key through the
default exchange, and the answer goes straight to the client's consumer, through no queue.
"""

import os
import threading
import uuid

import pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")
REPLY_TO = "amq.rabbitmq.reply-to"


def server(ready: threading.Event, requests: int) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    channel = connection.channel()
    channel.queue_declare("rpc_squares")
    channel.queue_purge("rpc_squares")
    answered = 0

    def on_request(ch, method, props, body) -> None:
        nonlocal answered
        print(f" [server] replying to {props.reply_to[:30]}…")
        reply = pika.BasicProperties(correlation_id=props.correlation_id)
        ch.basic_publish("", props.reply_to, str(int(body) ** 2).encode(), reply)
        ch.basic_ack(method.delivery_tag)
        answered += 1
        if answered == requests:
            ch.stop_consuming()

    channel.basic_consume("rpc_squares", on_request)
    ready.set()
    channel.start_consuming()
    connection.close()


def main() -> None:
    numbers = [3, 12]
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
        channel.basic_publish("", "rpc_squares", str(n).encode(), props)
        while correlation_id not in answers:
            connection.process_data_events(time_limit=0.1)
        print(f" [client] {n} squared = {answers[correlation_id].decode()}")
    thread.join(10)
    connection.close()


if __name__ == "__main__":
    main()
