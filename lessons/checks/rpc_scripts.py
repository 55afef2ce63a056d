"""An RPC over the broker with a timeout: a price server and a client, run by the timeout checks.

The server consumes `rpc.requests` one at a time (prefetch 1), works on each request (apples
and plums take 0.6 s, pears none) and publishes the price to the request's `reply_to` with its
`correlation_id`. The client publishes a request and waits for the reply with
`asyncio.wait_for(…, timeout=0.3)`. Both run on one fresh event loop, each with a connection of
its own in the learner's vhost, so the live picture shows the queues fill and drain.

The outcome follows from timer order, not from a race: a client's 0.3 s timeout is due before
the server's 0.6 s of work on the same loop, and the server's single consumer answers the
requests in the order they came.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable

from broker import Broker
from broker.translatable import N_
from clients.aio import AsyncChannel, IncomingMessage, Message, connect

REQUESTS = "rpc.requests"
REPLIES = "rpc.replies"
TIMEOUT = 0.3
WORK = {"apple": 0.6, "pear": 0.0, "plum": 0.6}
PRICES = {"apple": b"0.40", "pear": b"0.55", "plum": b"0.25"}

# What a check says when the price service did not get through its requests within its bound.
NO_ANSWER = N_(
    "The price service did not get all its requests in time: is another consumer taking them "
    "from '%(queue)s'? Start (or reset) the lesson, then check again."
)

Accept = Callable[[IncomingMessage, str], bool]  # (reply, this call's correlation_id)


async def serve(channel: AsyncChannel, requests: int, finished: asyncio.Event) -> None:
    """Answer `requests` requests, one at a time, then set `finished`."""
    await channel.set_qos(prefetch_count=1)
    queue = await channel.get_queue(REQUESTS)
    answered = 0
    async with queue.iterator() as incoming:
        async for request in incoming:
            product = request.body.decode()
            await asyncio.sleep(WORK.get(product, 0.0))  # the work: nobody tells us to stop
            reply = Message(PRICES.get(product, b"?"), correlation_id=request.correlation_id)
            await channel.default_exchange.publish(reply, routing_key=request.reply_to or "")
            await request.ack()
            answered += 1
            if answered == requests:
                finished.set()


class Client:
    """Calls the server; `accept(reply, correlation_id)` says whether a reply is this call's."""

    def __init__(self, channel: AsyncChannel, accept: Accept) -> None:
        self.channel = channel
        self.accept = accept
        self.inbox: asyncio.Queue[IncomingMessage] = asyncio.Queue()
        self.dropped = 0  # replies it read and did not accept: late ones

    async def listen(self) -> None:
        replies = await self.channel.get_queue(REPLIES)
        await replies.consume(self._take, no_ack=True)

    async def _take(self, reply: IncomingMessage) -> None:
        self.inbox.put_nowait(reply)

    async def call(self, product: str, timeout: float = TIMEOUT) -> bytes:
        correlation_id = uuid.uuid4().hex
        request = Message(product.encode(), correlation_id=correlation_id, reply_to=REPLIES)
        await self.channel.default_exchange.publish(request, routing_key=REQUESTS)
        return await asyncio.wait_for(self._receive(correlation_id), timeout)

    async def _receive(self, correlation_id: str) -> bytes:
        while True:
            reply = await self.inbox.get()
            if self.accept(reply, correlation_id):
                return reply.body
            self.dropped += 1


def matching(reply: IncomingMessage, correlation_id: str) -> bool:
    return reply.correlation_id == correlation_id


# The lines a learner chooses from for `receive`, and what each accepts.
RECEIVE_LINES: dict[str, Accept] = {
    "return reply.body": lambda reply, correlation_id: True,
    "if reply.correlation_id == correlation_id: return reply.body": matching,
    "if reply.correlation_id: return reply.body": lambda reply, c: bool(reply.correlation_id),
}


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _purge(channel: AsyncChannel) -> None:
    for name in (REQUESTS, REPLIES):
        await (await channel.get_queue(name)).purge()


async def give_up_on_three(broker: Broker, vhost: str) -> dict[str, str]:
    """Three calls at once (apple, pear, plum), each giving up after 0.3 s; then the client
    leaves. Returns each call's outcome ("timeout" or the price); the server's late replies are
    left in rpc.replies for the check to count."""
    server = await connect(broker, "price server (lesson check)", vhost)
    client = await connect(broker, "price client (lesson check)", vhost)
    async with server, client:
        server_channel = await server.channel()
        await _purge(server_channel)
        finished = asyncio.Event()
        serving = asyncio.create_task(serve(server_channel, 3, finished))
        caller = Client(await client.channel(), matching)
        await caller.listen()
        products = ("apple", "pear", "plum")
        results = await asyncio.gather(*map(caller.call, products), return_exceptions=True)
        await client.close()  # the client is done: nobody reads rpc.replies any more
        await finished.wait()
        await _stop(serving)
    return {
        product: "timeout" if isinstance(result, TimeoutError) else bytes(result).decode()
        for product, result in zip(products, results, strict=True)
    }


async def call_after_a_timeout(broker: Broker, vhost: str, accept: Accept) -> tuple[str, int]:
    """Call for an apple (it times out), then for a pear with time to spare. Returns what the
    pear call got and how many replies the client dropped."""
    server = await connect(broker, "price server (lesson check)", vhost)
    client = await connect(broker, "price client (lesson check)", vhost)
    async with server, client:
        server_channel = await server.channel()
        await _purge(server_channel)
        finished = asyncio.Event()
        serving = asyncio.create_task(serve(server_channel, 2, finished))
        caller = Client(await client.channel(), accept)
        await caller.listen()
        with contextlib.suppress(TimeoutError):  # the client gives up on the apple, goes on
            await caller.call("apple")
        pear = await caller.call("pear", timeout=3.0)
        await finished.wait()
        await _stop(serving)
    return pear.decode(), caller.dropped
