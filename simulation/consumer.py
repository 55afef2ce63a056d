"""A simulated consumer: takes messages from a queue the way a real worker would.

It holds up to ``prefetch`` messages, spends ``processing_ms`` on each, and fails a
``failure_rate`` share of them. On a failure it nacks with requeue, rejects without requeue (so
the message is dead-lettered when the queue has a dead-letter exchange), or *crashes*: its
connection drops mid-message, the broker requeues what it held (redelivered=true), and it
reconnects ``reconnect_ms`` later.
"""

from __future__ import annotations

import queue
from typing import Any

from broker import Broker, Delivery
from broker.errors import AMQPError
from broker.translatable import N_, phrase

from .base import Simulation

_STOP = object()


class SimulatedConsumer(Simulation):
    """Consumes from a queue with a given ack mode, prefetch, speed and failure behaviour."""

    kind = "consumer"

    def __init__(self, broker: Broker, sim_id: int, options: dict[str, Any]) -> None:
        super().__init__(broker, sim_id, options)
        self.counters = {
            "received": 0,
            "redelivered": 0,
            "acked": 0,
            "nacked": 0,
            "rejected": 0,
            "failed": 0,
            "crashes": 0,
        }
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._cancelled = False

    def start(self) -> None:
        # Subscribe on the caller's thread so a missing queue is an error the caller sees.
        self._subscribe()
        super().start()

    def _subscribe(self) -> None:
        channel = self._open()
        try:
            channel.basic_qos(self.options["prefetch"])
            channel.basic_consume(
                self.options["queue"],
                self._inbox.put,
                no_ack=self.options["ack_mode"] == "auto",
                arguments={"x-priority": self.options["priority"]},
                on_cancel=self._on_cancel,
            )
        except AMQPError:
            self._close_connection(phrase(N_("could not consume")))
            raise
        self.state = "running"

    def _on_cancel(self, consumer_tag: str) -> None:
        # The broker cancelled us: the queue was deleted.
        self._cancelled = True
        self._inbox.put(_STOP)

    def _wake(self) -> None:
        self._inbox.put(_STOP)

    def _run(self) -> None:
        options = self.options
        while not self._stopping.is_set():
            item = self._inbox.get()
            if item is _STOP:
                if self._cancelled and not self._stopping.is_set():
                    self.state, self.error = "finished", "the queue was deleted"
                return
            delivery: Delivery = item
            if delivery.channel is not self.channel:
                continue  # sent to the connection we crashed; the broker has requeued it
            self.counters["received"] += 1
            if delivery.redelivered:
                self.counters["redelivered"] += 1
            if options["processing_ms"] and self._stopping.wait(options["processing_ms"] / 1000):
                return
            failed = options["failure_rate"] > 0 and self.rng.random() < options["failure_rate"]
            self._settle(delivery, failed)

    def _settle(self, delivery: Delivery, failed: bool) -> None:
        channel = self.channel
        manual = self.options["ack_mode"] == "manual"
        if failed:
            self.counters["failed"] += 1
        if not failed:
            if manual:
                channel.send_settle("ack", delivery.delivery_tag)
                self.counters["acked"] += 1
            return
        on_failure = self.options["on_failure"]
        if on_failure == "crash":
            self._crash()
        elif not manual:
            return  # auto-ack: the message is already gone; a failure can only be counted
        elif on_failure == "nack-requeue":
            channel.send_settle("nack", delivery.delivery_tag, requeue=True)
            self.counters["nacked"] += 1
        else:
            channel.send_settle("reject", delivery.delivery_tag, requeue=False)
            self.counters["rejected"] += 1

    def _crash(self) -> None:
        """Drop the connection mid-message (the broker requeues what we held), then come back."""
        self.counters["crashes"] += 1
        self.state = "crashed"
        self._close_connection(phrase(N_("simulated crash")))
        if self._stopping.wait(self.options["reconnect_ms"] / 1000):
            return
        self._subscribe()
