"""Direct reply-to: RabbitMQ's pseudo-queue `amq.rabbitmq.reply-to` for RPC without a reply queue.

An RPC client consumes from `amq.rabbitmq.reply-to` (auto-ack only) and publishes its request
with `reply_to="amq.rabbitmq.reply-to"` on the same channel. The broker rewrites that property
to a key naming the channel, `amq.rabbitmq.reply-to.<token>`; the server publishes its answer to
the default exchange with that key, and it goes straight to the client's consumer. A reply to a
key whose consumer is gone is unroutable, as in RabbitMQ.

Here each consuming channel gets a queue of its own that is not in its vhost's queue table (no
page lists it, no one can bind or get from it): deliveries then follow the ordinary path, with
its events, flow and credit. Every function runs under the broker lock.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import TYPE_CHECKING

from broker import errors
from broker.message import Properties
from broker.queue import Queue
from broker.translatable import N_

if TYPE_CHECKING:
    from broker.state import ChannelState, Consumer

REPLY_TO = "amq.rabbitmq.reply-to"
KEY_PREFIX = REPLY_TO + "."


class DirectReplyTo:
    """The reply keys of one broker and the channels' queues they lead to."""

    def __init__(self) -> None:
        self._queues: dict[str, Queue] = {}  # reply key -> the consuming channel's queue

    def queue_to_consume(self, channel: ChannelState, no_ack: bool, now: float) -> Queue:
        """basic.consume on amq.rabbitmq.reply-to: a fresh reply queue for the channel."""
        if not no_ack:
            raise errors.precondition(
                "reply consumer cannot acknowledge",
                N_("consume amq.rabbitmq.reply-to with auto-ack"),
            )
        if channel.reply_queue is not None:
            if channel.reply_queue.consumers:
                raise errors.precondition(
                    "reply consumer already set",
                    N_("a channel has one direct reply-to consumer"),
                )
            self.forget(channel)
        key = KEY_PREFIX + secrets.token_urlsafe(24)
        queue = Queue(channel.connection.vhost, key, exclusive=channel.connection, now=now)
        channel.reply_queue = self._queues[key] = queue
        return queue

    def rewrite(self, channel: ChannelState, properties: Properties) -> Properties:
        """A request's reply_to=amq.rabbitmq.reply-to becomes the key of this channel's queue."""
        queue = channel.reply_queue
        if queue is None or not queue.consumers:
            raise errors.precondition(
                "fast reply consumer does not exist",
                N_("consume from amq.rabbitmq.reply-to on this channel before publishing"),
            )
        return dataclasses.replace(properties, reply_to=queue.name)

    def route(self, vhost: str, routing_keys: list[str]) -> list[Queue]:
        """The reply queues a default-exchange publish reaches (only those with a consumer)."""
        found = []
        for key in routing_keys:
            queue = self._queues.get(key)
            if queue is not None and queue.vhost == vhost and queue.consumers:
                found.append(queue)
        return found

    def is_live(self, vhost: str, key: str) -> bool:
        """A reply key whose channel still consumes: a passive declare of it succeeds."""
        return bool(self.route(vhost, [key]))

    def forget(self, channel: ChannelState) -> None:
        """The channel closed (or starts over): its key leads nowhere from now on."""
        queue = channel.reply_queue
        if queue is not None:
            queue.deleted = True
            self._queues.pop(queue.name, None)
            channel.reply_queue = None

    def consumers(self, vhost: str) -> list[Consumer]:
        return [c for q in self._queues.values() if q.vhost == vhost for c in q.consumers]
