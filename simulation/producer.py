"""A simulated producer: publishes to an exchange at a steady rate, ``count`` times or until
stopped, with routing keys and bodies filled in from templates (:mod:`simulation.templates`)."""

from __future__ import annotations

import itertools
import time
from typing import Any

from broker import Broker, Properties
from broker.errors import AMQPError
from broker.translatable import N_, phrase

from .base import Simulation
from .templates import render


class SimulatedProducer(Simulation):
    """Publishes to an exchange at `rate` messages a second, `count` times or until stopped."""

    kind = "producer"

    def __init__(self, broker: Broker, sim_id: int, options: dict[str, Any]) -> None:
        super().__init__(broker, sim_id, options)
        self.counters = {"published": 0, "routed": 0, "unroutable": 0, "refused": 0}
        self._properties = dict(options["properties"])
        self._headers = options["headers"] or None

    def start(self) -> None:
        channel = self._open()
        try:
            if self.options["exchange"]:  # the default exchange always exists
                channel.exchange_declare(self.options["exchange"], passive=True)
        except AMQPError:
            self._close_connection(phrase(N_("no such exchange")))
            raise
        self.state = "running"
        super().start()

    def _run(self) -> None:
        # The thread waits on _stopping itself: nothing to _wake.
        options = self.options
        rate, count = options["rate"], options["count"]
        started = time.monotonic()
        for number in itertools.count(1):
            if count is not None and number > count:
                self.state = "finished"
                return
            due = started + (number - 1) / rate
            delay = due - time.monotonic()
            if delay > 0 and self._stopping.wait(delay):
                return
            if self._stopping.is_set():
                return
            self._publish(number)

    def _publish(self, number: int) -> None:
        options = self.options
        routing_key = render(options["routing_key"], number, self.rng)
        body = render(options["body"], number, self.rng).encode()
        properties = Properties(**self._properties, headers=self._headers)
        result = self.channel.basic_publish(options["exchange"], routing_key, body, properties)
        self.counters["published"] += 1
        if result.routed_to:
            self.counters["routed"] += 1
        else:
            self.counters["unroutable"] += 1
        if not result.confirmed:
            self.counters["refused"] += 1
