"""Dead-lettering (aio-pika): message.process(requeue=False) rejects on an exception, and the
rejected message moves to the dead-letter exchange with an x-death header."""

import asyncio
import os

import aio_pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")


async def main() -> None:
    connection = await aio_pika.connect_robust(URL)
    async with connection:
        channel = await connection.channel()
        dlx = await channel.declare_exchange("orders.dlx", aio_pika.ExchangeType.FANOUT)
        dead = await channel.declare_queue("orders.dead")
        await dead.bind(dlx)
        orders = await channel.declare_queue(
            "orders", arguments={"x-dead-letter-exchange": "orders.dlx"}
        )
        await orders.purge()
        await dead.purge()
        for order in ("apples:3", "pears:-1", "plums:2", "nonsense"):
            await channel.default_exchange.publish(aio_pika.Message(order.encode()), "orders")

        while (message := await orders.get(fail=False)) is not None:
            try:
                async with message.process(requeue=False):  # an exception → reject
                    item, _, count = message.body.decode().partition(":")
                    if not count.isdigit():
                        raise ValueError(f"bad order {message.body.decode()!r}")
                    print(f" [ok] {item} x{count}")
            except ValueError as error:
                print(f" [rejected] {error}")

        while (message := await dead.get(no_ack=True, fail=False)) is not None:
            death = message.headers["x-death"][0]
            print(
                f" [dead letter] {message.body.decode()!r} from {death['queue']!r}: "
                f"reason={death['reason']} count={death['count']}"
            )


if __name__ == "__main__":
    asyncio.run(main())
