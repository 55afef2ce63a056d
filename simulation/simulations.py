"""Simulated consumers and producers: traffic a lesson can switch on with one click.

A simulated consumer takes messages from a queue the way a real worker would: it holds up to
`prefetch` of them, spends `processing_ms` on each, and fails a `failure_rate` share of them. On a
failure it nacks with requeue, rejects without requeue (so the message is dead-lettered when the
queue has a dead-letter exchange), or *crashes*: its connection drops mid-message, the broker
requeues what it held (redelivered=true), and it reconnects a moment later.

A simulated producer publishes to an exchange at a steady rate, `count` times or until stopped,
with routing keys and bodies filled in from a template: `{n}` is the message number (from 1),
`{eu|us|asia}` picks one of the choices at random, `{ts}` is the time (ISO 8601).

Each simulation opens a broker connection of its own, kind "simulation", named e.g.
"simulated consumer 3", so it shows up on every page like any other client. Its work runs on a
thread of its own, never under the broker lock; `seed` makes its random choices repeatable.
This module knows nothing of Flask; the HTTP API (`web/api.py`) validates input with
`consumer_options` / `producer_options` and keeps one `Simulations` registry per broker.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import math
import queue
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from broker import Broker, Channel, Connection
from broker.errors import AMQPError
from broker.message import MAX_SHORTSTR_BYTES, Delivery, Properties, properties_from_json

ACK_MODES = ("manual", "auto")
ON_FAILURE = ("nack-requeue", "reject-dlx", "crash")
_STOP = object()


class SimulationError(ValueError):
    """Options a simulation cannot run with; the message says which and why."""


# --- options --------------------------------------------------------------------------------


def _name(options: dict[str, Any], key: str, required: bool = True, default: str = "") -> str:
    value = options.get(key, None if required else default)
    if value is None:
        raise SimulationError(f"'{key}' is required")
    if not isinstance(value, str):
        raise SimulationError(f"'{key}' must be a string")
    if len(value.encode("utf-8", "surrogatepass")) > MAX_SHORTSTR_BYTES:
        raise SimulationError(f"'{key}' is longer than {MAX_SHORTSTR_BYTES} bytes (UTF-8)")
    return value


def _number(
    options: dict[str, Any],
    key: str,
    default: float | None,
    low: float,
    high: float,
    integer: bool = False,
) -> Any:
    value = options.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SimulationError(f"'{key}' must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise SimulationError(f"'{key}' must be a finite number")
    if integer and value != int(value):
        raise SimulationError(f"'{key}' must be a whole number")
    if not low <= value <= high:
        raise SimulationError(f"'{key}' must be between {low:g} and {high:g}")
    return int(value) if integer else float(value)


def _choice(options: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = options.get(key, allowed[0])
    if value not in allowed:
        raise SimulationError(f"'{key}' must be one of {', '.join(allowed)}")
    return value


def _seed(options: dict[str, Any]) -> int | None:
    return _number(options, "seed", None, -(2**63), 2**63 - 1, integer=True)


def _known(options: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(options) - allowed
    if unknown:
        raise SimulationError(
            f"unknown option(s): {', '.join(sorted(map(str, unknown)))}; "
            f"known: {', '.join(sorted(allowed))}"
        )


def consumer_options(options: dict[str, Any]) -> dict[str, Any]:
    """Check and complete a simulated consumer's options (raises SimulationError)."""
    _known(
        options,
        {
            "kind",
            "queue",
            "vhost",
            "ack_mode",
            "prefetch",
            "processing_ms",
            "failure_rate",
            "on_failure",
            "reconnect_ms",
            "seed",
            "priority",
        },
    )
    return {
        "queue": _name(options, "queue"),
        "vhost": _name(options, "vhost", required=False, default="/"),
        "ack_mode": _choice(options, "ack_mode", ACK_MODES),
        "prefetch": _number(options, "prefetch", 10, 0, 65535, integer=True),
        "processing_ms": _number(options, "processing_ms", 0, 0, 600_000),
        "failure_rate": _number(options, "failure_rate", 0, 0, 1),
        "on_failure": _choice(options, "on_failure", ON_FAILURE),
        "reconnect_ms": _number(options, "reconnect_ms", 500, 0, 600_000),
        "seed": _seed(options),
        "priority": _number(options, "priority", 0, -(2**31), 2**31 - 1, integer=True),
    }


def producer_options(options: dict[str, Any]) -> dict[str, Any]:
    """Check and complete a simulated producer's options (raises SimulationError)."""
    _known(
        options,
        {
            "kind",
            "exchange",
            "vhost",
            "rate",
            "count",
            "routing_key",
            "body",
            "headers",
            "properties",
            "seed",
        },
    )
    properties = options.get("properties") or {}
    if not isinstance(properties, dict):
        raise SimulationError("'properties' must be an object")
    headers = options.get("headers", properties.get("headers")) or {}
    try:
        checked = properties_from_json({**properties, "headers": headers})
    except ValueError as error:
        raise SimulationError(str(error)) from None
    body = options.get("body", "message {n}")
    if not isinstance(body, str):
        raise SimulationError("'body' must be a string (a template)")
    routing_key = _name(options, "routing_key", required=False, default="")
    return {
        "exchange": _name(options, "exchange"),
        "vhost": _name(options, "vhost", required=False, default="/"),
        "rate": _number(options, "rate", 10, 0.01, 100_000),
        "count": _number(options, "count", None, 1, 10_000_000, integer=True),
        "routing_key": routing_key,
        "body": body,
        "headers": checked.headers or {},
        "properties": {k: v for k, v in checked.to_dict().items() if k != "headers"},
        "seed": _seed(options),
    }


# --- templates ------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{(n|ts|[^{}|\"]+(?:\|[^{}|\"]*)+)\}")


def render(template: str, number: int, rng: random.Random) -> str:
    """Fill in `{n}`, `{ts}` and `{a|b|c}` placeholders; other braces (JSON) stay as they are."""

    def fill(match: re.Match[str]) -> str:
        token = match.group(1)
        if token == "n":
            return str(number)
        if token == "ts":
            return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        return rng.choice(token.split("|"))

    return _PLACEHOLDER.sub(fill, template)


# --- the simulations ------------------------------------------------------------------------


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
        self._close_connection("stopped")
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
            self._close_connection("simulation ended")

    def _open(self) -> Channel:
        self.connection = self.broker.connect(self.name, vhost=self.vhost, kind="simulation")
        self.channel = self.connection.channel()
        return self.channel

    def _close_connection(self, reason: str) -> None:
        connection = self.connection
        if connection is not None and not connection.closed:
            with contextlib.suppress(AMQPError):
                connection.close(reason)


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
            self._close_connection("could not consume")
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
        self._close_connection("simulated crash")
        if self._stopping.wait(self.options["reconnect_ms"] / 1000):
            return
        self._subscribe()


class SimulatedProducer(Simulation):
    """Publishes to an exchange at `rate` messages a second, `count` times or until stopped."""

    kind = "producer"

    def __init__(self, broker: Broker, sim_id: int, options: dict[str, Any]) -> None:
        super().__init__(broker, sim_id, options)
        self.counters = {"published": 0, "routed": 0, "unroutable": 0, "refused": 0}
        headers = options["headers"]
        self._properties = dict(options["properties"])
        self._headers = headers or None

    def start(self) -> None:
        channel = self._open()
        try:
            if self.options["exchange"]:  # the default exchange always exists
                channel.exchange_declare(self.options["exchange"], passive=True)
        except AMQPError:
            self._close_connection("no such exchange")
            raise
        self.state = "running"
        super().start()

    def _wake(self) -> None:
        pass  # the thread waits on _stopping itself

    def _run(self) -> None:
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


class Simulations:
    """The simulations running against one broker: start, list, stop."""

    def __init__(self, broker: Broker, keep_finished: int = 50) -> None:
        self.broker = broker
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._items: dict[int, Simulation] = {}
        self._keep_finished = keep_finished
        self.on_change: Callable[[], None] | None = None

    def start(self, options: dict[str, Any]) -> Simulation:
        """Start a consumer ({"kind": "consumer", "queue": …}) or a producer ({"kind":
        "producer", "exchange": …}). Raises SimulationError for bad options and AMQPError when
        the queue or exchange is missing."""
        kind = options.get("kind")
        if kind == "consumer":
            checked, cls = consumer_options(options), SimulatedConsumer
        elif kind == "producer":
            checked, cls = producer_options(options), SimulatedProducer
        else:
            raise SimulationError("'kind' must be 'consumer' or 'producer'")
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
