"""RPC with direct reply-to (aio-pika): the client needs no reply queue at all.

The client consumes from the pseudo-queue "amq.rabbitmq.reply-to" (no_ack: it must) and sends
each request with reply_to="amq.rabbitmq.reply-to" on that same channel. The broker rewrites
reply_to to a key naming the client's channel (the server prints it); the server answers to that
key through the default exchange, and the answer goes straight to the client's future.

The server is aio_rpc.py's, unchanged: it answers to whatever reply_to says.
"""

import asyncio
import os
import uuid

import aio_pika
from aio_rpc import serve

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")
REPLY_TO = "amq.rabbitmq.reply-to"


async def main() -> None:
    connection = await aio_pika.connect_robust(URL)
    async with connection:
        await serve(await connection.channel())
        channel = await connection.channel()
        # A passive declare: the pseudo-queue always exists, in RabbitMQ and in QueueLab.
        replies = await channel.declare_queue(REPLY_TO, passive=True)
        pending: dict[str, asyncio.Future] = {}

        async def on_answer(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            future = pending.pop(message.correlation_id, None)
            if future is not None:
                future.set_result(message.body)

        await replies.consume(on_answer, no_ack=True)
        for n in (7, 12):
            correlation_id = str(uuid.uuid4())
            pending[correlation_id] = asyncio.get_running_loop().create_future()
            request = aio_pika.Message(
                str(n).encode(), reply_to=REPLY_TO, correlation_id=correlation_id
            )
            await channel.default_exchange.publish(request, routing_key="rpc_queue")
            answer = await asyncio.wait_for(pending[correlation_id], timeout=10)
            print(f" [client] fib({n}) = {answer.decode()}, no reply queue needed")


if __name__ == "__main__":
    asyncio.run(main())
