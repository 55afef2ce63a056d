"""What the API's requests share: the broker, the management channels and the simulations.

Writes go through channels on one long-lived broker connection per vhost, kind "web", named
"management UI" (kept in a small pool, so pages do not flicker with channel churn); a channel a
request's error closed is dropped and a fresh one opened for the next request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from flask import current_app

from broker import Broker, Channel, Connection
from simulation import SimulationError, Simulations
from web.toolkit import ApiError

EXTENSION = "queuelab.api"


class ManagementChannels:
    """Channels on one "management UI" connection per vhost, reused across requests."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._lock = threading.Lock()
        self._connections: dict[str, Connection] = {}
        self._free: dict[str, list[Channel]] = {}

    @contextmanager
    def channel(self, vhost: str) -> Iterator[Channel]:
        channel = self._take(vhost)
        try:
            yield channel
        finally:
            if not channel.closed:
                with self._lock:
                    self._free.setdefault(vhost, []).append(channel)

    def _take(self, vhost: str) -> Channel:
        with self._lock:
            connection = self._connections.get(vhost)
            if connection is None or connection.closed:
                connection = self._broker.connect("management UI", vhost=vhost, kind="web")
                self._connections[vhost] = connection
                self._free[vhost] = []
            free = self._free[vhost]
            while free:
                channel = free.pop()
                if not channel.closed:
                    return channel
        return connection.channel()


class ApiState:
    """The app's broker, its management channels and its simulations, as the API uses them."""

    def __init__(self, broker: Broker, simulations: Simulations) -> None:
        self.broker = broker
        self.channels = ManagementChannels(broker)
        self.simulations = simulations

    def start_simulation(self, options: dict[str, Any]) -> dict[str, Any]:
        """Start a simulated producer or consumer and say what it is; bad options are a 400."""
        try:
            return self.simulations.start(options).info()
        except SimulationError as error:
            raise ApiError.refusal(error) from None


def api_state() -> ApiState:
    return current_app.extensions[EXTENSION]


def broker() -> Broker:
    return api_state().broker


def management_channel(vhost: str) -> AbstractContextManager[Channel]:
    """A management channel on `vhost` for the length of a `with` block."""
    return api_state().channels.channel(vhost)
