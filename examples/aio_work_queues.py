"""Work queues (aio-pika): two workers share tasks with manual acks and prefetch=1."""

import asyncio
import os

import aio_pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")
TASKS = ["first.", "second..", "third.", "fourth....", "fifth.", "sixth.."]


async def worker(name: str, connection: aio_pika.abc.AbstractConnection, done: list) -> None:
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=1)
    queue = await channel.declare_queue("task_queue", durable=True)
    async with queue.iterator() as tasks:
        async for message in tasks:
            async with message.process():
                task = message.body.decode()
                await asyncio.sleep(task.count(".") * 0.05)
                done.append(task)
                print(f" [{name}] done {task!r}")
            if len(done) >= len(TASKS):
                return


async def main() -> None:
    connection = await aio_pika.connect_robust(URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue("task_queue", durable=True)
        await queue.purge()
        done: list[str] = []
        workers = [asyncio.create_task(worker(n, connection, done)) for n in ("w1", "w2")]
        for task in TASKS:
            persistent = aio_pika.DeliveryMode.PERSISTENT
            message = aio_pika.Message(task.encode(), delivery_mode=persistent)
            await channel.default_exchange.publish(message, routing_key="task_queue")
            print(f" [x] Sent {task!r}")
        await asyncio.wait(workers, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        for w in workers:
            w.cancel()
        print(f" [.] {len(done)} of {len(TASKS)} tasks done")


if __name__ == "__main__":
    asyncio.run(main())
