"""Exchanges and queues: declare (with RabbitMQ's equivalence rules), delete and purge.

A redeclare must match what exists (406 "inequivalent arg …"); a passive declare of what does not
exist is 404; the default exchange cannot be declared or deleted and `amq.` names are the
broker's (403); an unknown exchange type is a connection error (503).
"""

from __future__ import annotations

from typing import Any

from broker import errors
from broker.arguments import QUEUE_EQUIVALENCE_ARGS, check_arguments_equivalent, inequivalent_flag
from broker.errors import access_refused, not_found
from broker.exchanges import ROUTERS
from broker.exchanges.exchange import Exchange
from broker.queue import Queue
from broker.reply_to import REPLY_TO
from broker.results import DeclareOk
from broker.state import BrokerState, ChannelState, VHost, generated_name, locked
from broker.translatable import N_, phrase
from broker.verbs.deadlines import touch
from broker.verbs.durable import remember_exchange, remember_queue, remember_vhost
from broker.verbs.teardown import delete_exchange, delete_queue

PREDECLARED = (
    ("amq.direct", "direct"),
    ("amq.fanout", "fanout"),
    ("amq.topic", "topic"),
    ("amq.headers", "headers"),
    ("amq.match", "headers"),
)
DEFAULT_EXCHANGE_REFUSED = "operation not permitted on the default exchange"
DEFAULT_EXCHANGE_HINT = N_(
    'the default exchange ("") routes to the queue named by the routing key by itself; '
    "publish to it, but do not declare, bind or delete it"
)


def add_vhost(s: BrokerState, name: str) -> None:
    """A vhost with the default exchange and the amq.* exchanges, as RabbitMQ makes it."""
    if name in s.vhosts:
        return
    vhost = s.vhosts[name] = VHost(name)
    now = s.clock.now()
    vhost.exchanges[""] = Exchange(name, "", "direct", durable=True, now=now)
    for exchange_name, exchange_type in PREDECLARED:
        vhost.exchanges[exchange_name] = Exchange(
            name, exchange_name, exchange_type, durable=True, now=now
        )
    s.emit("vhost.created", vhost=name)
    remember_vhost(s, name)


def exchange_declare(
    s: BrokerState,
    channel: ChannelState,
    name: str,
    exchange_type: str,
    passive: bool,
    durable: bool,
    auto_delete: bool,
    internal: bool,
    arguments: dict[str, Any],
) -> None:
    vhost = s.vhost_of(channel)
    if name == "":
        raise access_refused(DEFAULT_EXCHANGE_REFUSED, DEFAULT_EXCHANGE_HINT)
    existing = vhost.exchanges.get(name)
    if passive:
        if existing is None:
            raise not_found("exchange", name, vhost.name)
        return
    if exchange_type not in ROUTERS:
        raise errors.invalid_exchange_type(exchange_type)
    if existing is not None:
        check_exchange_equivalent(
            existing, exchange_type, durable, auto_delete, internal, arguments
        )
        return
    if name.startswith("amq."):
        raise access_refused(
            f"exchange name '{name}' contains reserved prefix 'amq.*'",
            N_("names starting with amq. are reserved for the broker; choose another"),
        )
    exchange = Exchange(
        vhost.name, name, exchange_type, durable, auto_delete, internal, arguments, s.clock.now()
    )
    vhost.exchanges[name] = exchange
    remember_exchange(s, exchange)
    s.emit(
        "exchange.declared",
        vhost=vhost.name,
        name=exchange.name,
        exchange_type=exchange.type,
        durable=exchange.durable,
        auto_delete=exchange.auto_delete,
        internal=exchange.internal,
        arguments=exchange.arguments,
    )


def check_exchange_equivalent(
    existing: Exchange,
    exchange_type: str,
    durable: bool,
    auto_delete: bool,
    internal: bool,
    arguments: dict[str, Any],
) -> None:
    for flag, received, current in (
        ("type", exchange_type, existing.type),
        ("durable", durable, existing.durable),
        ("auto_delete", auto_delete, existing.auto_delete),
        ("internal", internal, existing.internal),
    ):
        if received != current:
            raise inequivalent_flag(
                flag, "exchange", existing.name, existing.vhost, received, current
            )
    check_arguments_equivalent(
        "exchange",
        existing.name,
        existing.vhost,
        arguments,
        existing.arguments,
        ("alternate-exchange",),
    )


def exchange_delete(s: BrokerState, channel: ChannelState, name: str, if_unused: bool) -> None:
    vhost = s.vhost_of(channel)
    if name == "":
        raise access_refused(DEFAULT_EXCHANGE_REFUSED, DEFAULT_EXCHANGE_HINT)
    if name.startswith("amq."):
        raise access_refused(
            f"deletion of system exchange '{name}' in vhost '{vhost.name}' not allowed",
            N_("the amq.* exchanges belong to the broker"),
        )
    exchange = vhost.exchanges.get(name)
    if exchange is None:
        return  # RabbitMQ: deleting what is not there is fine
    if if_unused and exchange.bindings:
        raise errors.precondition(
            f"exchange '{name}' in vhost '{vhost.name}' in use",
            N_("it still has bindings; unbind them first or delete without if-unused"),
        )
    delete_exchange(s, vhost, exchange)


def queue_declare(
    s: BrokerState,
    channel: ChannelState,
    name: str,
    passive: bool,
    durable: bool,
    exclusive: bool,
    auto_delete: bool,
    arguments: dict[str, Any],
) -> DeclareOk:
    vhost = s.vhost_of(channel)
    now = s.clock.now()
    if name == REPLY_TO:  # RabbitMQ answers for the pseudo-queue, declared or not
        channel.last_queue = REPLY_TO
        return DeclareOk(REPLY_TO, 0, 1)
    if passive and s.direct_reply_to.is_live(vhost.name, name):
        return DeclareOk(name, 0, 1)  # an RPC server's check that its client still waits
    if passive:
        queue = s.queue_for(channel, channel.resolve_queue(name))
    else:
        queue = declare_queue(s, channel, vhost, name, durable, exclusive, auto_delete, arguments)
    channel.last_queue = queue.name
    touch(s, queue, now)
    return DeclareOk(queue.name, len(queue.ready), len(queue.consumers))


def declare_queue(
    s: BrokerState,
    channel: ChannelState,
    vhost: VHost,
    name: str,
    durable: bool,
    exclusive: bool,
    auto_delete: bool,
    arguments: dict[str, Any],
) -> Queue:
    if name.startswith("amq."):
        raise access_refused(
            f"queue name '{name}' contains reserved prefix 'amq.*'",
            N_("leave the name empty for a server-named queue, or choose another name"),
        )
    owner = channel.connection if exclusive else None
    existing = vhost.queues.get(name) if name else None
    if existing is not None:
        if existing.owner is not owner:
            raise locked(existing)
        for flag, received, current in (
            ("durable", durable, existing.durable),
            ("auto_delete", auto_delete, existing.auto_delete),
        ):
            if received != current:
                raise inequivalent_flag(flag, "queue", name, vhost.name, received, current)
        check_arguments_equivalent(
            "queue", name, vhost.name, arguments, existing.arguments, QUEUE_EQUIVALENCE_ARGS
        )
        return existing
    name = name or generated_name("amq.gen-")
    queue = Queue(vhost.name, name, durable, owner, auto_delete, arguments, s.clock.now())
    vhost.queues[name] = queue
    remember_queue(s, queue)
    s.emit(
        "queue.declared",
        vhost=vhost.name,
        name=queue.name,
        durable=queue.durable,
        exclusive=queue.exclusive,
        auto_delete=queue.auto_delete,
        arguments=queue.arguments,
    )
    return queue


def queue_purge(s: BrokerState, channel: ChannelState, name: str) -> int:
    queue = s.queue_for(channel, channel.resolve_queue(name))
    purged = queue.purge()
    s.emit("queue.purged", vhost=queue.vhost, queue=queue.name, count=len(purged))
    return len(purged)


def queue_delete(
    s: BrokerState, channel: ChannelState, name: str, if_unused: bool, if_empty: bool
) -> int:
    name = channel.resolve_queue(name)
    vhost = s.vhost_of(channel)
    if name not in vhost.queues:
        return 0  # RabbitMQ: deleting what is not there is fine
    queue = s.queue_for(channel, name)
    if if_unused and queue.consumers:
        raise errors.precondition(
            f"queue '{name}' in vhost '{vhost.name}' in use",
            N_("it has consumers; cancel them first or delete without if-unused"),
        )
    if if_empty and queue.ready:
        raise errors.precondition(
            f"queue '{name}' in vhost '{vhost.name}' not empty",
            N_("purge it first or delete without if-empty"),
        )
    return delete_queue(s, queue, phrase(N_("deleted")))
