"""Routing (pika): a direct exchange delivers by exact routing key (here: log severity)."""

import os

import pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")


def main() -> None:
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    channel = connection.channel()
    channel.exchange_declare("direct_logs", "direct")
    errors_only = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(errors_only, "direct_logs", routing_key="error")
    everything = channel.queue_declare("", exclusive=True).method.queue
    for severity in ("info", "warning", "error"):
        channel.queue_bind(everything, "direct_logs", routing_key=severity)
    for severity, text in (("info", "hello"), ("error", "disk full"), ("warning", "slow")):
        channel.basic_publish("direct_logs", severity, text.encode())
        print(f" [x] Sent {severity}: {text}")
    for label, queue in (("errors only", errors_only), ("everything", everything)):
        while (got := channel.basic_get(queue, auto_ack=True))[0] is not None:
            method, _, body = got
            print(f" [{label}] {method.routing_key}: {body.decode()}")
    connection.close()


if __name__ == "__main__":
    main()
