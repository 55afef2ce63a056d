"""Routing (aio-pika): a direct exchange delivers by exact routing key (log severity)."""

import asyncio
import os

import aio_pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")


async def main() -> None:
    connection = await aio_pika.connect_robust(URL)
    async with connection:
        channel = await connection.channel()
        logs = await channel.declare_exchange("direct_logs", aio_pika.ExchangeType.DIRECT)
        errors_only = await channel.declare_queue(exclusive=True)
        await errors_only.bind(logs, routing_key="error")
        everything = await channel.declare_queue(exclusive=True)
        for severity in ("info", "warning", "error"):
            await everything.bind(logs, routing_key=severity)
        for severity, text in (("info", "hello"), ("error", "disk full"), ("warning", "slow")):
            await logs.publish(aio_pika.Message(text.encode()), routing_key=severity)
            print(f" [x] Sent {severity}: {text}")
        for label, queue in (("errors only", errors_only), ("everything", everything)):
            while (message := await queue.get(no_ack=True, fail=False)) is not None:
                print(f" [{label}] {message.routing_key}: {message.body.decode()}")


if __name__ == "__main__":
    asyncio.run(main())
