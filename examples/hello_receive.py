"""The article's consumer (aio-pika): print what arrives on "hello", ack each message.

Stops after HELLO_COUNT messages (default 1) or HELLO_IDLE seconds without one (default 10),
so it also finishes by itself in a lesson or a test.
"""

import asyncio
import os

import aio_pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")
COUNT = int(os.environ.get("HELLO_COUNT", "1"))
IDLE = float(os.environ.get("HELLO_IDLE", "10"))


async def main() -> None:
    connection = await aio_pika.connect_robust(URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue("hello")
        print(" [*] Waiting for messages")
        received = 0
        async with queue.iterator(timeout=IDLE) as messages:
            try:
                async for message in messages:
                    async with message.process():  # ack when the block ends without error
                        print(f" [x] Received {message.body.decode()!r}")
                        received += 1
                        if received >= COUNT:
                            break
            except TimeoutError:
                print(f" [!] nothing for {IDLE:g}s, stopping")
        print(f" [.] done: {received} message(s)")


if __name__ == "__main__":
    asyncio.run(main())
