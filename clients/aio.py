"""The asyncio client, shaped like aio-pika, over the in-process broker.

    from clients.aio import Message, connect

    connection = await connect(broker)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue("hello")
        await channel.default_exchange.publish(Message(b"Hello"), routing_key="hello")
        async with queue.iterator() as messages:
            async for message in messages:
                async with message.process():   # ack on success, reject on an exception
                    print(message.body)

Deliveries reach the event loop through `loop.call_soon_threadsafe`, so the broker never waits
for the loop, and a consumer callback runs as a task on the loop that consumed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from broker import Broker, Channel, Connection, PublishResult
from broker.errors import AMQPError
from broker.message import Delivery, Properties


class Message:
    """A message to publish (aio-pika's name). `expiration` is in seconds, as in aio-pika."""

    def __init__(
        self,
        body: bytes,
        *,
        headers: dict[str, Any] | None = None,
        content_type: str | None = None,
        content_encoding: str | None = None,
        delivery_mode: int | None = None,
        priority: int | None = None,
        correlation_id: str | None = None,
        reply_to: str | None = None,
        expiration: float | dt.timedelta | None = None,
        message_id: str | None = None,
        timestamp: int | None = None,
        type: str | None = None,
        user_id: str | None = None,
        app_id: str | None = None,
    ) -> None:
        self.body = body
        if isinstance(expiration, dt.timedelta):
            expiration = expiration.total_seconds()
        self.properties = Properties(
            content_type=content_type,
            content_encoding=content_encoding,
            headers=headers,
            delivery_mode=delivery_mode,
            priority=priority,
            correlation_id=correlation_id,
            reply_to=reply_to,
            expiration=None if expiration is None else str(int(expiration * 1000)),
            message_id=message_id,
            timestamp=timestamp,
            type=type,
            user_id=user_id,
            app_id=app_id,
        )


class IncomingMessage:
    """A delivered message: body, properties, envelope, and ack / nack / reject."""

    def __init__(self, delivery: Delivery, channel: AsyncChannel, no_ack: bool) -> None:
        self._delivery = delivery
        self._channel = channel
        self.processed = no_ack

    body = property(lambda self: self._delivery.body)
    properties = property(lambda self: self._delivery.properties)
    headers = property(lambda self: self._delivery.properties.headers or {})
    delivery_tag = property(lambda self: self._delivery.delivery_tag)
    redelivered = property(lambda self: self._delivery.redelivered)
    routing_key = property(lambda self: self._delivery.routing_key)
    exchange = property(lambda self: self._delivery.exchange)
    consumer_tag = property(lambda self: self._delivery.consumer_tag)
    message_count = property(lambda self: self._delivery.message_count)
    message_id = property(lambda self: self._delivery.properties.message_id)
    correlation_id = property(lambda self: self._delivery.properties.correlation_id)
    reply_to = property(lambda self: self._delivery.properties.reply_to)
    broker_message_id = property(lambda self: self._delivery.message.id)

    # Settles are sent, not awaited, as aio-pika sends them (see Broker.settle_soon).

    def _settle(self) -> None:
        if self.processed:
            raise RuntimeError("message already processed (acked, nacked or rejected)")
        self.processed = True

    async def ack(self, multiple: bool = False) -> None:
        self._settle()
        self._channel.channel.send_settle("ack", self.delivery_tag, multiple)

    async def nack(self, multiple: bool = False, requeue: bool = True) -> None:
        self._settle()
        self._channel.channel.send_settle("nack", self.delivery_tag, multiple, requeue)

    async def reject(self, requeue: bool = False) -> None:
        self._settle()
        self._channel.channel.send_settle("reject", self.delivery_tag, False, requeue)

    @asynccontextmanager
    async def process(
        self, requeue: bool = False, ignore_processed: bool = False
    ) -> AsyncIterator[IncomingMessage]:
        """Ack when the block ends normally; reject (requeue or not) when it raises."""
        try:
            yield self
        except BaseException:
            if not self.processed and not self._channel.channel.closed:
                await self.reject(requeue=requeue)
            raise
        else:
            if not self.processed and not ignore_processed:
                await self.ack()


class AsyncExchange:
    def __init__(self, channel: AsyncChannel, name: str, type: str = "direct") -> None:
        self._channel = channel
        self.name = name
        self.type = type

    async def publish(
        self, message: Message, routing_key: str, *, mandatory: bool = True
    ) -> PublishResult:
        """Publish; in confirm mode (the default) a nack raises DeliveryError."""
        result = self._channel.channel.basic_publish(
            self.name, routing_key, message.body, message.properties, mandatory
        )
        if self._channel.channel.confirm_mode and not result.confirmed:
            raise DeliveryError(result)
        if result.returned and self._channel.on_return_raises:
            raise DeliveryError(result)
        return result

    async def delete(self, if_unused: bool = False) -> None:
        self._channel.channel.exchange_delete(self.name, if_unused)

    async def bind(
        self, exchange: AsyncExchange | str, routing_key: str = "", arguments: dict | None = None
    ) -> None:
        """Bind this exchange to receive from `exchange` (exchange-to-exchange)."""
        source = exchange.name if isinstance(exchange, AsyncExchange) else exchange
        self._channel.channel.exchange_bind(self.name, source, routing_key, arguments)


class DeliveryError(Exception):
    """The broker nacked a publish, or returned it when on_return_raises is set."""

    def __init__(self, result: PublishResult) -> None:
        super().__init__("returned: NO_ROUTE (312)" if result.returned else "nacked by broker")
        self.result = result


class AsyncQueue:
    def __init__(self, channel: AsyncChannel, name: str, declaration: Any) -> None:
        self._channel = channel
        self.name = name
        self.declaration_result = declaration

    async def bind(
        self,
        exchange: AsyncExchange | str,
        routing_key: str | None = None,
        *,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        source = exchange.name if isinstance(exchange, AsyncExchange) else exchange
        self._channel.channel.queue_bind(self.name, source, routing_key, arguments)

    async def unbind(
        self,
        exchange: AsyncExchange | str,
        routing_key: str | None = None,
        *,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        source = exchange.name if isinstance(exchange, AsyncExchange) else exchange
        self._channel.channel.queue_unbind(self.name, source, routing_key, arguments)

    async def consume(
        self,
        callback: Callable[[IncomingMessage], Awaitable[Any]],
        no_ack: bool = False,
        exclusive: bool = False,
        consumer_tag: str | None = None,
        arguments: dict[str, Any] | None = None,
    ) -> str:
        """Run `callback(message)` as a task on this loop for each delivery."""
        loop = asyncio.get_running_loop()
        channel = self._channel

        def on_delivery(delivery: Delivery) -> None:
            loop.create_task(callback(IncomingMessage(delivery, channel, no_ack)))

        return channel.channel.basic_consume(
            self.name,
            lambda delivery: loop.call_soon_threadsafe(on_delivery, delivery),
            consumer_tag or "",
            no_ack,
            exclusive,
            arguments,
        )

    async def cancel(self, consumer_tag: str) -> None:
        self._channel.channel.basic_cancel(consumer_tag)

    async def get(
        self, *, no_ack: bool = False, fail: bool = True, timeout: float | None = None
    ) -> IncomingMessage | None:
        """One message (basic.get); None, or QueueEmpty when `fail`, if there is none."""
        delivery = self._channel.channel.basic_get(self.name, no_ack)
        if delivery is None:
            if fail:
                raise QueueEmpty(self.name)
            return None
        return IncomingMessage(delivery, self._channel, no_ack)

    async def purge(self) -> int:
        return self._channel.channel.queue_purge(self.name)

    async def delete(self, *, if_unused: bool = False, if_empty: bool = False) -> int:
        return self._channel.channel.queue_delete(self.name, if_unused, if_empty)

    def iterator(self, no_ack: bool = False) -> QueueIterator:
        return QueueIterator(self, no_ack)


class QueueEmpty(Exception):
    """basic.get found no ready message."""


class QueueIterator:
    """`async with queue.iterator() as it: async for message in it:` — consumes until closed."""

    def __init__(self, queue: AsyncQueue, no_ack: bool) -> None:
        self._queue = queue
        self._no_ack = no_ack
        self._inbox: asyncio.Queue[Delivery | None] = asyncio.Queue()
        self._tag: str | None = None

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        inbox = self._inbox
        self._tag = self._queue._channel.channel.basic_consume(
            self._queue.name,
            lambda delivery: loop.call_soon_threadsafe(inbox.put_nowait, delivery),
            "",
            self._no_ack,
            on_cancel=lambda _tag: loop.call_soon_threadsafe(inbox.put_nowait, None),
        )

    async def close(self) -> None:
        channel = self._queue._channel.channel
        if self._tag is not None and not channel.closed:
            channel.basic_cancel(self._tag)
        self._tag = None

    async def __aenter__(self) -> QueueIterator:
        await self._start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> QueueIterator:
        return self

    async def __anext__(self) -> IncomingMessage:
        if self._tag is None:
            await self._start()
        delivery = await self._inbox.get()
        if delivery is None:
            raise StopAsyncIteration
        return IncomingMessage(delivery, self._queue._channel, self._no_ack)


class AsyncChannel:
    def __init__(self, channel: Channel, on_return_raises: bool = False) -> None:
        self.channel = channel
        self.on_return_raises = on_return_raises
        self.default_exchange = AsyncExchange(self, "")

    @property
    def is_closed(self) -> bool:
        return self.channel.closed

    async def set_qos(self, prefetch_count: int = 0, global_: bool = False) -> None:
        self.channel.basic_qos(prefetch_count, global_)

    async def declare_exchange(
        self,
        name: str,
        type: str = "direct",
        *,
        durable: bool = False,
        auto_delete: bool = False,
        internal: bool = False,
        passive: bool = False,
        arguments: dict[str, Any] | None = None,
    ) -> AsyncExchange:
        type = getattr(type, "value", type)  # accept an ExchangeType-like enum
        self.channel.exchange_declare(
            name, type, passive, durable, auto_delete, internal, arguments
        )
        return AsyncExchange(self, name, type)

    async def get_exchange(self, name: str) -> AsyncExchange:
        self.channel.exchange_declare(name, passive=True)
        return AsyncExchange(self, name)

    async def declare_queue(
        self,
        name: str = "",
        *,
        durable: bool = False,
        exclusive: bool = False,
        passive: bool = False,
        auto_delete: bool = False,
        arguments: dict[str, Any] | None = None,
    ) -> AsyncQueue:
        result = self.channel.queue_declare(
            name, passive, durable, exclusive, auto_delete, arguments
        )
        return AsyncQueue(self, result.queue, result)

    async def get_queue(self, name: str) -> AsyncQueue:
        return await self.declare_queue(name, passive=True)

    async def close(self) -> None:
        if not self.channel.closed:
            self.channel.close()

    async def __aenter__(self) -> AsyncChannel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncConnection:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @property
    def is_closed(self) -> bool:
        return self.connection.closed

    async def channel(
        self, publisher_confirms: bool = True, on_return_raises: bool = False
    ) -> AsyncChannel:
        channel = self.connection.channel()
        if publisher_confirms:
            channel.confirm_select()
        return AsyncChannel(channel, on_return_raises)

    async def close(self) -> None:
        if not self.connection.closed:
            self.connection.close()

    async def __aenter__(self) -> AsyncConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def connect(
    broker: Broker, name: str = "asyncio client", vhost: str = "/"
) -> AsyncConnection:
    """Open an in-process connection (aio_pika.connect's counterpart for the embedded broker)."""
    return AsyncConnection(broker.connect(name, vhost=vhost, kind="asyncio"))


__all__ = [
    "AMQPError",
    "AsyncChannel",
    "AsyncConnection",
    "AsyncExchange",
    "AsyncQueue",
    "DeliveryError",
    "IncomingMessage",
    "Message",
    "QueueEmpty",
    "connect",
]
