"""Publish/subscribe (pika): a fanout exchange "logs" copies each message to every subscriber.

Each subscriber has its own server-named, exclusive queue bound to the exchange.
"""

import os

import pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")


def main() -> None:
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    channel = connection.channel()
    channel.exchange_declare("logs", "fanout")
    subscribers = []
    for _ in range(2):
        queue = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(queue, "logs")
        subscribers.append(queue)
    for line in ("info: started", "warning: disk 80%", "error: out of coffee"):
        channel.basic_publish("logs", "", line.encode())
        print(f" [x] Sent {line!r}")
    for number, queue in enumerate(subscribers, 1):
        while True:
            method, _, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                break
            print(f" [subscriber {number} on {queue}] {body.decode()}")
    connection.close()


if __name__ == "__main__":
    main()
