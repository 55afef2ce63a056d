"""Filling a queue and reading its depth, for the simulation tests."""

from __future__ import annotations

from broker import Broker


def depth(broker: Broker, queue: str) -> tuple[int, int]:
    """(ready, unacked) of ``queue``."""
    info = next(q for q in broker.snapshot()["queues"] if q["name"] == queue)
    return info["messages_ready"], info["messages_unacknowledged"]


def fill(broker: Broker, queue: str, count: int, **declare) -> None:
    """Declare ``queue`` and publish ``count`` messages to it."""
    channel = broker.connect("filler").channel()
    channel.queue_declare(queue, **declare)
    for n in range(count):
        channel.basic_publish("", queue, f"m{n}".encode())
