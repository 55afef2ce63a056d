"""Publish/subscribe (aio-pika): a fanout exchange copies each message to every subscriber."""

import asyncio
import os

import aio_pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")
LINES = ("info: started", "warning: disk 80%", "error: out of coffee")


async def subscriber(number: int, channel, logs, ready: asyncio.Event) -> None:
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(logs)
    ready.set()
    async with queue.iterator() as messages:
        seen = 0
        async for message in messages:
            async with message.process():
                print(f" [subscriber {number}] {message.body.decode()}")
            seen += 1
            if seen == len(LINES):
                return


async def main() -> None:
    connection = await aio_pika.connect_robust(URL)
    async with connection:
        channel = await connection.channel()
        logs = await channel.declare_exchange("logs", aio_pika.ExchangeType.FANOUT)
        ready = [asyncio.Event(), asyncio.Event()]
        tasks = [asyncio.create_task(subscriber(n, channel, logs, ready[n])) for n in (0, 1)]
        await asyncio.gather(*(event.wait() for event in ready))
        for line in LINES:
            await logs.publish(aio_pika.Message(line.encode()), routing_key="")
            print(f" [x] Sent {line!r}")
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
        print(" [.] every subscriber got every message")


if __name__ == "__main__":
    asyncio.run(main())
