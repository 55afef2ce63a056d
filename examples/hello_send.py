"""The article's producer (aio-pika): send "Hello World!" to the queue "hello".

python examples/hello_send.py          # with `python app.py` running
AMQP_URL=amqp://guest:guest@127.0.0.1:5673/ python examples/hello_send.py
"""

import asyncio
import os

import aio_pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")


async def main() -> None:
    connection = await aio_pika.connect_robust(URL)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue("hello")
        await channel.default_exchange.publish(
            aio_pika.Message(body=b"Hello World!"), routing_key="hello"
        )
        print(" [x] Sent 'Hello World!'")


if __name__ == "__main__":
    asyncio.run(main())
