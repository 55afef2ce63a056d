"""A lesson's start, set up in the learner's vhost: empty it, then declare, publish and simulate.

Reset does the same: the vhost's own exchanges and queues are deleted (the default and amq.*
exchanges stay, as on a fresh RabbitMQ vhost), its simulations stopped, and the lesson's start
declared again. Other vhosts are never touched. Everything goes through the broker's public API.
"""

from __future__ import annotations

from typing import Any

from broker import Broker, Channel, Properties
from lessons.model import Scenario
from simulation import Simulations

SETUP = "lesson set-up"  # the connection name the set-up shows on the pages


def reset(broker: Broker, simulations: Simulations, vhost: str, start: Scenario) -> None:
    """Empty `vhost` and set up `start` in it."""
    for info in simulations.list(vhost):
        simulations.stop(info["id"])
    with broker.connect(SETUP, vhost=vhost, kind="web") as connection:
        channel = connection.channel()
        _empty(broker, channel, vhost)
        _declare(channel, start)
        for message in start.messages:
            _publish(channel, message)
    for options in start.simulations:
        simulations.start({**options, "vhost": vhost})


def _empty(broker: Broker, channel: Channel, vhost: str) -> None:
    snapshot = broker.snapshot(vhost)
    for queue in snapshot["queues"]:
        channel.queue_delete(queue["name"])
    for exchange in snapshot["exchanges"]:
        name = exchange["name"]
        if name and not name.startswith("amq."):
            channel.exchange_delete(name)


def _declare(channel: Channel, start: Scenario) -> None:
    for exchange in start.exchanges:
        channel.exchange_declare(
            exchange["name"],
            exchange.get("type", "direct"),
            durable=exchange.get("durable", False),
            auto_delete=exchange.get("auto_delete", False),
            internal=exchange.get("internal", False),
            arguments=exchange.get("arguments"),
        )
    for queue in start.queues:
        channel.queue_declare(
            queue["name"],
            durable=queue.get("durable", False),
            auto_delete=queue.get("auto_delete", False),
            arguments=queue.get("arguments"),
        )
    for binding in start.bindings:
        channel.bind(
            binding["source"],
            binding.get("destination_type", "queue"),
            binding["destination"],
            binding.get("routing_key", ""),
            binding.get("arguments"),
        )


def _publish(channel: Channel, message: dict[str, Any]) -> None:
    properties = Properties(
        headers=message.get("headers"),
        delivery_mode=2 if message.get("persistent") else None,
        priority=message.get("priority"),
    )
    for number in range(int(message.get("count", 1))):
        body = str(message.get("body", "")).replace("{n}", str(number + 1))
        channel.basic_publish(
            message.get("exchange", ""), message["routing_key"], body.encode(), properties
        )
