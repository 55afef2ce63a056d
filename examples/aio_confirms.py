"""Publisher confirms with mandatory returns (aio-pika).

aio-pika channels confirm by default: `await exchange.publish(...)` waits for basic.ack. With
on_return_raises=True an unroutable mandatory message raises DeliveryError; a nack (a full
queue with x-overflow reject-publish) raises DeliveryError too.
"""

import asyncio
import os

import aio_pika
from aio_pika.exceptions import DeliveryError

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")


async def main() -> None:
    connection = await aio_pika.connect_robust(URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        queue = await channel.declare_queue(
            "confirmed", arguments={"x-max-length": 2, "x-overflow": "reject-publish"}
        )
        await queue.purge()
        results = await asyncio.gather(
            *(
                channel.default_exchange.publish(
                    aio_pika.Message(f"order {n}".encode()), "confirmed", mandatory=True
                )
                for n in range(1, 4)
            ),
            return_exceptions=True,
        )
        for number, result in enumerate(results, 1):
            if isinstance(result, DeliveryError):
                print(f" [nack] order {number}: the queue is full")
            else:
                print(f" [ack] order {number} confirmed")
        try:
            await channel.default_exchange.publish(
                aio_pika.Message(b"lost?"), "no-such-queue", mandatory=True
            )
        except DeliveryError as error:
            print(f" [returned] {error.message.body!r}: {error.frame.reply_code} NO_ROUTE")


if __name__ == "__main__":
    asyncio.run(main())
