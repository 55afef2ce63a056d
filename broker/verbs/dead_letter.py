"""Dead-lettering: how a rejected, expired or overflowing message is republished, as RabbitMQ does.

The message goes to the queue's x-dead-letter-exchange with the queue's x-dead-letter-routing-key
(or its own routing keys), carrying an `x-death` header: one entry per (queue, reason), newest
first, each counting how often that happened. `x-first-death-*` remember the first time. A message
that would loop back to a queue without any reject on the way is dropped (a cycle), as in RabbitMQ.

The verbs that let a message go (expiry, limits, settle) leave it in `state.dead_letters`; the
front republishes them with `republish_dead_letters` before the operation ends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from broker.message import Message
from broker.queue import Queue
from broker.state import BrokerState
from broker.translatable import N_, phrase
from broker.verbs.limits import enqueue
from broker.verbs.publish import route


def routing_keys_of(message: Message) -> list[str]:
    """The routing key plus any CC keys (sender-selected distribution); BCC is never shown."""
    cc = message.headers.get("CC") or []
    return [message.routing_key, *[_text(key) for key in cc]]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def dead_letter_copy(
    message: Message,
    queue: str,
    reason: str,
    dead_letter_exchange: str,
    dead_letter_routing_key: str | None,
    wall_time: float,
) -> tuple[Message, list[str]]:
    """The message as republished to the DLX, and the routing keys to publish it with."""
    properties = message.properties
    headers = dict(properties.headers or {})
    deaths: list[dict[str, Any]] = [dict(d) for d in headers.get("x-death") or []]
    previous = next(
        (d for d in deaths if d.get("queue") == queue and d.get("reason") == reason), None
    )
    if previous is not None:
        # Only the count changes; time, exchange and routing keys stay those of the first death.
        deaths.remove(previous)
        death = {**previous, "count": previous.get("count", 0) + 1}
    else:
        death = {
            "count": 1,
            "reason": reason,
            "queue": queue,
            "time": dt.datetime.fromtimestamp(int(wall_time), tz=dt.UTC),
            "exchange": message.exchange,
            "routing-keys": routing_keys_of(message),
        }
        if properties.expiration is not None:
            death["original-expiration"] = properties.expiration
    if deaths or previous is not None:
        # RabbitMQ writes an updated or prepended head entry with its keys in sorted order.
        death = dict(sorted(death.items()))
    headers["x-death"] = [death, *deaths]
    headers.setdefault("x-first-death-reason", reason)
    headers.setdefault("x-first-death-queue", queue)
    headers.setdefault("x-first-death-exchange", message.exchange)
    headers.pop("BCC", None)
    if dead_letter_routing_key is not None:
        keys = [dead_letter_routing_key]
        headers.pop("CC", None)
    else:
        keys = routing_keys_of(message)
    copy = Message(
        exchange=dead_letter_exchange,
        routing_key=keys[0],
        body=message.body,
        properties=replace(properties, headers=headers, expiration=None),
        published_at=message.published_at,
        message_id=message.id,
    )
    return copy, keys


def is_cycle(target_queue: str, message: Message, reason: str) -> bool:
    """Would dead-lettering into `target_queue` loop with no reject anywhere in the loop?"""
    if reason == "rejected":
        return False
    deaths = message.headers.get("x-death") or []
    for index, death in enumerate(deaths):
        if death.get("queue") == target_queue:
            return all(d.get("reason") != "rejected" for d in deaths[: index + 1])
    return False


def republish_dead_letters(s: BrokerState) -> None:
    """Republish what the operation dead-lettered, in order (more may be added meanwhile)."""
    dead_letters = s.dead_letters
    while dead_letters:
        queue, message, reason = dead_letters.popleft()
        republish(s, queue, message, reason)


def republish(s: BrokerState, queue: Queue, message: Message, reason: str) -> None:
    """Send one dead letter through the queue's dead-letter exchange, with x-death."""
    vhost = s.vhosts[queue.vhost]
    exchange = vhost.exchanges.get(queue.dead_letter_exchange or "")
    if exchange is None:
        s.emit(
            "dropped",
            vhost=vhost.name,
            queue=queue.name,
            message_id=message.id,
            reason=phrase(
                N_("dead-letter exchange '%(exchange)s' does not exist"),
                exchange=queue.dead_letter_exchange,
            ),
        )
        return
    copy, keys = dead_letter_copy(
        message, queue.name, reason, exchange.name, queue.dead_letter_routing_key, s.clock.wall()
    )
    queue.counters["dead_lettered"] += 1
    s.emit(
        "dead-lettered",
        vhost=vhost.name,
        queue=queue.name,
        message_id=message.id,
        reason=reason,
        exchange=exchange.name,
        routing_keys=keys,
    )
    now = s.clock.now()
    targets, _ = route(s, vhost, exchange, copy, keys, "dead-lettered")
    for target in targets:
        if is_cycle(target.name, copy, reason):
            s.emit(
                "dropped",
                vhost=vhost.name,
                queue=target.name,
                message_id=message.id,
                reason=phrase(N_("dead-letter cycle with no reject in it")),
            )
            continue
        enqueue(s, target, copy, now)
