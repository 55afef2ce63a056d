"""Dead-lettering (pika): rejected messages move to a dead-letter exchange with an x-death header.

"orders" has x-dead-letter-exchange "orders.dlx" (fanout), bound to "orders.dead". A consumer
accepts good orders and rejects bad ones with requeue=False, so they are dead-lettered.
"""

import os

import pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")


def main() -> None:
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    channel = connection.channel()
    channel.exchange_declare("orders.dlx", "fanout")
    channel.queue_declare("orders.dead")
    channel.queue_bind("orders.dead", "orders.dlx")
    channel.queue_declare("orders", arguments={"x-dead-letter-exchange": "orders.dlx"})
    for queue in ("orders", "orders.dead"):
        channel.queue_purge(queue)
    for order in ("apples:3", "pears:-1", "plums:2", "nonsense"):
        channel.basic_publish("", "orders", order.encode())

    while (got := channel.basic_get("orders"))[0] is not None:
        method, _, body = got
        item, _, count = body.decode().partition(":")
        if count.isdigit():
            print(f" [ok] {item} x{count}")
            channel.basic_ack(method.delivery_tag)
        else:
            print(f" [rejected] {body.decode()!r}")
            channel.basic_reject(method.delivery_tag, requeue=False)

    while (got := channel.basic_get("orders.dead", auto_ack=True))[0] is not None:
        method, properties, body = got
        death = properties.headers["x-death"][0]
        print(
            f" [dead letter] {body.decode()!r} from queue {death['queue']!r}: "
            f"reason={death['reason']} count={death['count']} via exchange {method.exchange!r}"
        )
    connection.close()


if __name__ == "__main__":
    main()
