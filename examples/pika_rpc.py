"""RPC (pika): a client sends requests with reply_to and correlation_id; a server answers.

The server thread consumes "rpc_queue" and publishes each answer to the request's reply_to
queue with the same correlation_id, which is how the client matches answers to requests.
"""

import os
import threading
import uuid

import pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def server(ready: threading.Event, requests: int) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    channel = connection.channel()
    channel.queue_declare("rpc_queue")
    channel.queue_purge("rpc_queue")
    channel.basic_qos(prefetch_count=1)
    answered = 0

    def on_request(ch, method, props, body) -> None:
        nonlocal answered
        n = int(body)
        print(f" [server] fib({n}) -> reply_to {props.reply_to}")
        reply = pika.BasicProperties(correlation_id=props.correlation_id)
        ch.basic_publish("", props.reply_to, str(fib(n)).encode(), reply)
        ch.basic_ack(method.delivery_tag)
        answered += 1
        if answered == requests:
            ch.stop_consuming()

    channel.basic_consume("rpc_queue", on_request)
    ready.set()
    channel.start_consuming()
    connection.close()


def main() -> None:
    numbers = [10, 20, 25]
    ready = threading.Event()
    thread = threading.Thread(target=server, args=(ready, len(numbers)))
    thread.start()
    ready.wait(10)
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    channel = connection.channel()
    callback_queue = channel.queue_declare("", exclusive=True).method.queue
    answers: dict[str, bytes] = {}
    channel.basic_consume(
        callback_queue,
        lambda ch, method, props, body: answers.__setitem__(props.correlation_id, body),
        auto_ack=True,
    )
    for n in numbers:
        correlation_id = str(uuid.uuid4())
        props = pika.BasicProperties(reply_to=callback_queue, correlation_id=correlation_id)
        channel.basic_publish("", "rpc_queue", str(n).encode(), props)
        print(f" [x] Requesting fib({n})")
        while correlation_id not in answers:
            connection.process_data_events(time_limit=0.1)
        print(f" [.] Got fib({n}) = {answers[correlation_id].decode()}")
    thread.join(10)
    connection.close()


if __name__ == "__main__":
    main()
