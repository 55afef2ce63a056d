"""The simulations running against one broker: start one from options, list, stop.

The web app keeps one :class:`Simulations` per broker; the HTTP API starts and stops
simulations through it and the live pages list them.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from broker import Broker
from broker.translatable import N_

from .base import Simulation
from .consumer import SimulatedConsumer
from .options import SimulationError, consumer_options, producer_options
from .producer import SimulatedProducer


class Simulations:
    """The simulations running against one broker: start, list, stop."""

    def __init__(self, broker: Broker, keep_finished: int = 50) -> None:
        self.broker = broker
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._items: dict[int, Simulation] = {}
        self._keep_finished = keep_finished

    def start(self, options: dict[str, Any]) -> Simulation:
        """Start a consumer ({"kind": "consumer", "queue": …}) or a producer ({"kind":
        "producer", "exchange": …}). Raises SimulationError for bad options and AMQPError when
        the queue or exchange is missing."""
        kind = options.get("kind")
        cls: type[Simulation]
        if kind == "consumer":
            checked, cls = consumer_options(options), SimulatedConsumer
        elif kind == "producer":
            checked, cls = producer_options(options), SimulatedProducer
        else:
            raise SimulationError(N_("'kind' must be 'consumer' or 'producer'"))
        with self._lock:
            sim_id = next(self._ids)
        simulation = cls(self.broker, sim_id, checked)
        simulation.start()
        with self._lock:
            self._items[sim_id] = simulation
            self._forget_old()
        return simulation

    def _forget_old(self) -> None:
        ended = [s for s in self._items.values() if not s.running]
        for old in ended[: max(0, len(ended) - self._keep_finished)]:
            del self._items[old.id]

    def get(self, sim_id: int) -> Simulation | None:
        with self._lock:
            return self._items.get(sim_id)

    def list(self, vhost: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._items.values())
        return [s.info() for s in items if vhost is None or s.vhost == vhost]

    def stop(self, sim_id: int) -> bool:
        """Stop and forget one simulation; False if there is none with that id."""
        with self._lock:
            simulation = self._items.pop(sim_id, None)
        if simulation is None:
            return False
        simulation.stop()
        return True

    def stop_all(self) -> None:
        with self._lock:
            items, self._items = list(self._items.values()), {}
        for simulation in items:
            simulation.stop()
