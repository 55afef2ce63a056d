"""The blocking client for threads, shaped like pika's BlockingConnection.

    from clients.blocking import BlockingConnection
    connection = BlockingConnection(broker)
    channel = connection.channel()
    channel.queue_declare("hello")
    channel.basic_publish("", "hello", b"Hello World!")
    channel.basic_consume("hello", on_message_callback=callback)  # callback(ch, method, props, b)
    channel.start_consuming()

One difference from pika, on purpose: each consumer's callback runs on a worker thread of its own,
so a slow callback delays only its own consumer (and prefetch bounds what it holds), and
start_consuming() just waits until the channel's consumers are gone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from queue import Empty, SimpleQueue
from typing import Any

from broker import Broker, Channel, Connection, DeclareOk, PublishResult
from broker.message import Delivery, Properties

log = logging.getLogger("queuelab.client")
OnMessage = Callable[["BlockingChannel", Delivery, Properties, bytes], None]
_STOP = object()


class UnroutableError(Exception):
    """A mandatory message in confirm mode was returned: no queue matched (pika's name)."""

    def __init__(self, result: PublishResult) -> None:
        super().__init__("message returned: NO_ROUTE (312)")
        self.result = result


class NackError(Exception):
    """A message in confirm mode was refused by a queue (x-overflow reject-publish)."""

    def __init__(self, result: PublishResult) -> None:
        super().__init__("message nacked by the broker")
        self.result = result


class BlockingConnection:
    def __init__(self, broker: Broker, name: str = "python client", vhost: str = "/") -> None:
        self.broker = broker
        self.connection: Connection = broker.connect(name, vhost=vhost, kind="python")

    def channel(self) -> BlockingChannel:
        return BlockingChannel(self.connection.channel())

    def close(self) -> None:
        self.connection.close()

    @property
    def is_open(self) -> bool:
        return not self.connection.closed

    def __enter__(self) -> BlockingConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Worker(threading.Thread):
    """Runs one consumer's callback, one delivery at a time, off the broker's threads."""

    def __init__(self, channel: BlockingChannel, callback: OnMessage) -> None:
        super().__init__(name="queuelab-consumer", daemon=True)
        self.inbox: SimpleQueue[Any] = SimpleQueue()
        self._channel = channel
        self._callback = callback

    def run(self) -> None:
        while (delivery := self.inbox.get()) is not _STOP:
            try:
                self._callback(self._channel, delivery, delivery.properties, delivery.body)
            except Exception:
                log.exception("consumer callback failed on %r", delivery)


class BlockingChannel:
    """pika-style verbs over a broker channel. Errors raise AMQPError (reply code and text)."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self._workers: dict[str, _Worker] = {}
        self._idle = threading.Condition()
        self._confirming = False
        channel.on_close = self._on_channel_closed

    @property
    def channel_number(self) -> int:
        return self.channel.number

    @property
    def is_open(self) -> bool:
        return not self.channel.closed

    def exchange_declare(
        self,
        exchange: str,
        exchange_type: str = "direct",
        passive: bool = False,
        durable: bool = False,
        auto_delete: bool = False,
        internal: bool = False,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        self.channel.exchange_declare(
            exchange, exchange_type, passive, durable, auto_delete, internal, arguments
        )

    def exchange_delete(self, exchange: str, if_unused: bool = False) -> None:
        self.channel.exchange_delete(exchange, if_unused)

    def exchange_bind(
        self, destination: str, source: str, routing_key: str = "", arguments: dict | None = None
    ) -> None:
        self.channel.exchange_bind(destination, source, routing_key, arguments)

    def exchange_unbind(
        self, destination: str, source: str, routing_key: str = "", arguments: dict | None = None
    ) -> None:
        self.channel.exchange_unbind(destination, source, routing_key, arguments)

    def queue_declare(
        self,
        queue: str = "",
        passive: bool = False,
        durable: bool = False,
        exclusive: bool = False,
        auto_delete: bool = False,
        arguments: dict[str, Any] | None = None,
    ) -> DeclareOk:
        """Returns DeclareOk; `result.method.queue` also works, as in pika."""
        return self.channel.queue_declare(
            queue, passive, durable, exclusive, auto_delete, arguments
        )

    def queue_bind(
        self,
        queue: str,
        exchange: str,
        routing_key: str | None = None,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        self.channel.queue_bind(queue, exchange, routing_key, arguments)

    def queue_unbind(
        self,
        queue: str,
        exchange: str,
        routing_key: str | None = None,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        self.channel.queue_unbind(queue, exchange, routing_key, arguments)

    def queue_purge(self, queue: str) -> int:
        return self.channel.queue_purge(queue)

    def queue_delete(self, queue: str, if_unused: bool = False, if_empty: bool = False) -> int:
        return self.channel.queue_delete(queue, if_unused, if_empty)

    def basic_qos(self, prefetch_count: int = 0, global_qos: bool = False) -> None:
        self.channel.basic_qos(prefetch_count, global_qos)

    def confirm_delivery(self) -> None:
        """Publisher confirms: basic_publish then raises UnroutableError / NackError."""
        self.channel.confirm_select()
        self._confirming = True

    def basic_publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes | str,
        properties: Properties | None = None,
        mandatory: bool = False,
    ) -> PublishResult:
        if isinstance(body, str):
            body = body.encode()
        result = self.channel.basic_publish(exchange, routing_key, body, properties, mandatory)
        if self._confirming and result.returned:
            raise UnroutableError(result)
        if self._confirming and not result.confirmed:
            raise NackError(result)
        return result

    def basic_consume(
        self,
        queue: str,
        on_message_callback: OnMessage,
        auto_ack: bool = False,
        exclusive: bool = False,
        consumer_tag: str | None = None,
        arguments: dict[str, Any] | None = None,
    ) -> str:
        worker = _Worker(self, on_message_callback)
        tag = self.channel.basic_consume(
            queue,
            worker.inbox.put,
            consumer_tag or "",
            auto_ack,
            exclusive,
            arguments,
            on_cancel=self._on_server_cancel,
        )
        self._workers[tag] = worker
        worker.start()
        return tag

    def basic_cancel(self, consumer_tag: str) -> None:
        self.channel.basic_cancel(consumer_tag)
        self._stop_worker(consumer_tag)

    def _on_server_cancel(self, consumer_tag: str) -> None:
        # The queue was deleted: the broker cancelled the consumer (consumer_cancel_notify).
        self._stop_worker(consumer_tag)

    def _stop_worker(self, consumer_tag: str) -> None:
        worker = self._workers.pop(consumer_tag, None)
        if worker is not None:
            worker.inbox.put(_STOP)
        with self._idle:
            self._idle.notify_all()

    def _on_channel_closed(self, error: object) -> None:
        for tag in list(self._workers):
            self._stop_worker(tag)

    def start_consuming(self, timeout: float | None = None) -> None:
        """Wait until every consumer on this channel is cancelled (or the channel closes)."""
        with self._idle:
            self._idle.wait_for(lambda: not self._workers or self.channel.closed, timeout)

    def stop_consuming(self) -> None:
        for tag in list(self._workers):
            if not self.channel.closed:
                self.channel.basic_cancel(tag)
            self._stop_worker(tag)

    def basic_get(
        self, queue: str, auto_ack: bool = False
    ) -> tuple[Delivery, Properties, bytes] | tuple[None, None, None]:
        delivery = self.channel.basic_get(queue, auto_ack)
        if delivery is None:
            return None, None, None
        return delivery, delivery.properties, delivery.body

    def consume(
        self, queue: str, auto_ack: bool = False, inactivity_timeout: float | None = None
    ) -> Iterator[tuple[Delivery, Properties, bytes] | tuple[None, None, None]]:
        """pika's generator style: yields (method, properties, body); (None, None, None) after
        `inactivity_timeout` seconds with nothing; ends when the consumer is cancelled."""
        inbox: SimpleQueue[Any] = SimpleQueue()
        tag = self.channel.basic_consume(
            queue, inbox.put, "", auto_ack, on_cancel=lambda _tag: inbox.put(_STOP)
        )
        try:
            while True:
                try:
                    delivery = inbox.get(timeout=inactivity_timeout)
                except Empty:
                    yield None, None, None
                    continue
                if delivery is _STOP:
                    return
                yield delivery, delivery.properties, delivery.body
        finally:
            if not self.channel.closed:
                self.channel.basic_cancel(tag)

    # Settles are sent, not awaited, as pika sends basic.ack: an unknown tag closes the channel
    # (406) and the channel's next call raises it. See Broker.settle_soon for why.

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        self.channel.send_settle("ack", delivery_tag, multiple)

    def basic_nack(
        self, delivery_tag: int = 0, multiple: bool = False, requeue: bool = True
    ) -> None:
        self.channel.send_settle("nack", delivery_tag, multiple, requeue)

    def basic_reject(self, delivery_tag: int, requeue: bool = True) -> None:
        self.channel.send_settle("reject", delivery_tag, False, requeue)

    def basic_recover(self, requeue: bool = True) -> None:
        self.channel.basic_recover(requeue)

    def close(self) -> None:
        self.channel.close()
        for tag in list(self._workers):
            self._stop_worker(tag)

    def __enter__(self) -> BlockingChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.channel.closed:
            self.close()
