"""Topics (aio-pika): * matches exactly one word, # zero or more words."""

import asyncio
import os

import aio_pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")
BINDINGS = {"all kernel": "kern.*", "critical": "*.critical", "everything": "#"}
KEYS = ("kern.critical", "kern.info", "cron.critical", "auth.login.failed")


async def main() -> None:
    connection = await aio_pika.connect_robust(URL)
    async with connection:
        channel = await connection.channel()
        topic = await channel.declare_exchange("topic_logs", aio_pika.ExchangeType.TOPIC)
        queues = {}
        for label, pattern in BINDINGS.items():
            queues[label] = await channel.declare_queue(exclusive=True)
            await queues[label].bind(topic, routing_key=pattern)
        for key in KEYS:
            await topic.publish(aio_pika.Message(f"message for {key}".encode()), routing_key=key)
        for label, queue in queues.items():
            keys = []
            while (message := await queue.get(no_ack=True, fail=False)) is not None:
                keys.append(message.routing_key)
            print(f" [{label} <- {BINDINGS[label]!r}] got {keys}")


if __name__ == "__main__":
    asyncio.run(main())
