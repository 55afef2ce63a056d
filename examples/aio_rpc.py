"""RPC (aio-pika): requests carry reply_to and correlation_id; futures wait for the answers."""

import asyncio
import os
import uuid

import aio_pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


async def serve(channel: aio_pika.abc.AbstractChannel) -> None:
    queue = await channel.declare_queue("rpc_queue")
    await queue.purge()

    async def on_request(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            print(f" [server] fib({int(message.body)}) -> reply_to {message.reply_to}")
            answer = aio_pika.Message(
                str(fib(int(message.body))).encode(), correlation_id=message.correlation_id
            )
            await channel.default_exchange.publish(answer, routing_key=message.reply_to)

    await queue.consume(on_request)


async def main() -> None:
    connection = await aio_pika.connect_robust(URL)
    async with connection:
        await serve(await connection.channel())
        channel = await connection.channel()
        callback_queue = await channel.declare_queue(exclusive=True)
        pending: dict[str, asyncio.Future] = {}

        async def on_answer(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            future = pending.pop(message.correlation_id, None)
            if future is not None:
                future.set_result(message.body)

        await callback_queue.consume(on_answer, no_ack=True)
        for n in (10, 20, 25):
            correlation_id = str(uuid.uuid4())
            pending[correlation_id] = asyncio.get_running_loop().create_future()
            request = aio_pika.Message(
                str(n).encode(), reply_to=callback_queue.name, correlation_id=correlation_id
            )
            await channel.default_exchange.publish(request, routing_key="rpc_queue")
            print(f" [x] Requesting fib({n})")
            answer = await asyncio.wait_for(pending[correlation_id], timeout=10)
            print(f" [.] Got fib({n}) = {answer.decode()}")


if __name__ == "__main__":
    asyncio.run(main())
