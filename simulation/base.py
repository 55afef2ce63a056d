"""What every simulation is: a broker client with a thread of its own, a state and counters.

Each simulation opens a broker connection of its own, kind "simulation", named e.g.
"simulated consumer 3", so it shows up on every page like any other client. Its work runs on a
thread of its own, never under the broker lock; ``seed`` makes its random choices repeatable.
A failure is never silent: it ends the simulation with state "failed" and the reason, which
the pages show.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from typing import Any

from broker import Broker, Channel, Connection
from broker.errors import AMQPError
from broker.translatable import N_, phrase


class Simulation:
    """What consumers and producers share: an id, a connection, a thread, state and counters."""

    kind = ""

    def __init__(self, broker: Broker, sim_id: int, options: dict[str, Any]) -> None:
        self.broker = broker
        self.id = sim_id
        self.options = options
        self.name = f"simulated {self.kind} {sim_id}"
        self.vhost = options["vhost"]
        self.rng = random.Random(options["seed"])
        self.state = "starting"
        self.error: str | None = None
        self.counters: dict[str, int] = {}
        self.started_at = time.time()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run_guarded, name=self.name, daemon=True)
        self.connection: Connection | None = None
        self.channel: Channel | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the simulation to stop, close its connection and wait for its thread."""
        self._stopping.set()
        self._wake()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        self._close_connection(phrase(N_("stopped")))
        if self.state not in ("finished", "failed"):
            self.state = "stopped"

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the simulation to end by itself (a bounded producer); True if it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "vhost": self.vhost,
            "state": self.state,
            "error": self.error,
            "connection": self.name,
            "started_at": self.started_at,
            "options": dict(self.options),
            "counters": dict(self.counters),
        }

    # --- for subclasses -----------------------------------------------------------------

    def _wake(self) -> None:
        """Interrupt whatever the thread waits on, so it sees _stopping."""

    def _run(self) -> None:
        raise NotImplementedError

    def _run_guarded(self) -> None:
        try:
            self._run()
        except AMQPError as error:
            if not self._stopping.is_set():
                self.state, self.error = "failed", error.reply_text
        except Exception as error:  # a bug must not kill silently: say so on the page
            self.state, self.error = "failed", f"{type(error).__name__}: {error}"
        finally:
            self._close_connection(phrase(N_("simulation ended")))

    def _open(self) -> Channel:
        self.connection = self.broker.connect(self.name, vhost=self.vhost, kind="simulation")
        self.channel = self.connection.channel()
        return self.channel

    def _close_connection(self, reason: str) -> None:
        connection = self.connection
        if connection is not None and not connection.closed:
            with contextlib.suppress(AMQPError):
                connection.close(reason)
