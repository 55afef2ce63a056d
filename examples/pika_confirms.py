"""Publisher confirms with mandatory returns (pika).

In confirm mode every publish waits for the broker's basic.ack. A mandatory message that no
queue takes comes back first as basic.return (312 NO_ROUTE), which pika raises as
UnroutableError; a message a full queue refuses (x-overflow reject-publish) is nacked.
"""

import os

import pika
from pika.exceptions import NackError, UnroutableError

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")


def main() -> None:
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    channel = connection.channel()
    channel.queue_declare(
        "confirmed", arguments={"x-max-length": 2, "x-overflow": "reject-publish"}
    )
    channel.queue_purge("confirmed")
    channel.confirm_delivery()
    for number in range(1, 4):
        try:
            channel.basic_publish("", "confirmed", f"order {number}".encode(), mandatory=True)
            print(f" [ack] order {number} is safely in the queue")
        except NackError:
            print(f" [nack] order {number}: the queue is full (x-max-length 2, reject-publish)")
    try:
        channel.basic_publish("", "no-such-queue", b"lost?", mandatory=True)
    except UnroutableError as error:
        returned = error.messages[0]
        print(
            f" [returned] {returned.body!r}: {returned.method.reply_code} "
            f"{returned.method.reply_text} (then acked: the broker did handle it)"
        )
    connection.close()


if __name__ == "__main__":
    main()
