"""Topics (pika): a topic exchange matches words: * is exactly one word, # is zero or more."""

import os

import pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")
BINDINGS = {"all kernel": "kern.*", "critical": "*.critical", "everything": "#"}
KEYS = ("kern.critical", "kern.info", "cron.critical", "auth.login.failed")


def main() -> None:
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    channel = connection.channel()
    channel.exchange_declare("topic_logs", "topic")
    queues = {}
    for label, pattern in BINDINGS.items():
        queues[label] = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(queues[label], "topic_logs", routing_key=pattern)
    for key in KEYS:
        channel.basic_publish("topic_logs", key, f"message for {key}".encode())
    for label, queue in queues.items():
        keys = []
        while (got := channel.basic_get(queue, auto_ack=True))[0] is not None:
            keys.append(got[0].routing_key)
        print(f" [{label} <- {BINDINGS[label]!r}] got {keys}")
    connection.close()


if __name__ == "__main__":
    main()
