"""The broker's front: the one lock, the verbs run under it, and their actions carried out after.

Thread-safety: one lock guards all state (state.py). Every operation takes it, runs a verb
(verbs/), which changes state, records events and leaves actions (deliveries to consumers,
returns, confirms, closes: actions.py). Before letting go, the operation republishes what it
dead-lettered and records its events; after, the actions are carried out in order, by one thread
at a time, so no sink, callback or I/O ever runs under the lock and a consumer sees its deliveries
in the order the broker decided them. Clients' acks do not wait for the lock: a busy lock's
holder applies them before letting go (settle_soon).

With a store (store/), `Broker(store=…)` starts cold from it: the durable topology is read and
rebuilt before anything else runs. Verbs leave StoreWrite actions for durable changes, which
are handed to the store's writer thread like any other action, after the lock; `run_durable`
(declares, deletes, binds) then waits, lock-free, until the change is on disk, as RabbitMQ
answers declare-ok only once a durable queue is stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from broker import actions
from broker.clock import Clock, RealClock
from broker.errors import AMQPError, ChannelClosed, ConnectionClosed
from broker.events import EventStream
from broker.handles import Channel, Connection
from broker.state import BrokerState, ChannelState, VHost
from broker.store import Change, Store, StoreError
from broker.ticker import Ticker
from broker.verbs import deadlines, declare, dispatch, expiry, lifecycle, recover, settle, views
from broker.verbs.dead_letter import republish_dead_letters

log = logging.getLogger("queuelab.broker")

Result = TypeVar("Result")
# A settle handed over by settle_soon(): (channel, delivery tag, multiple, verb, requeue).
HandedOver = tuple[ChannelState, int, bool, str, bool]


class Broker:
    """An in-memory AMQP 0-9-1 broker with RabbitMQ's semantics. Never imports Flask."""

    def __init__(
        self, clock: Clock | None = None, history: int = 20_000, store: Store | None = None
    ) -> None:
        """A broker in memory; with a `store`, one rebuilt from it first (a StoreError if it
        cannot be read back) that keeps its durable topology there from then on."""
        self.clock = clock or RealClock()
        self._lock = threading.Lock()
        self.events = EventStream(self._op, history)
        self._state = BrokerState(self.clock, self.events.sequence)
        self._draining = threading.Lock()
        # Acks, nacks and rejects handed over by settle_soon(), for whoever holds the lock next.
        self._settles: deque[HandedOver] = deque()
        self._carry_out: dict[type, Callable[[Any], None]] = {
            actions.Deliver: lambda a: a.sink(a.delivery),
            actions.Return: lambda a: a.sink(a.returned),
            actions.Confirm: lambda a: a.sink(a.sequence, a.ack, a.multiple),
            actions.Cancel: lambda a: a.sink(a.consumer_tag),
            actions.CloseChannel: lambda a: a.sink(a.error),
            actions.CloseConnection: lambda a: a.sink(a.reason, a.error),
            actions.FanOut: lambda a: self.events.fanout(a.records),
            actions.ContinueDispatch: self._continue_dispatch,
            actions.WakeTimer: self._wake_timer,
            actions.ReportError: lambda a: log.error(a.text, exc_info=a.error),
        }
        self._drainer: int | None = None  # the thread carrying out actions now
        self.store = store
        self.recovered: recover.Recovered | None = None
        if store is not None:
            self._carry_out[actions.StoreWrite] = lambda a: store.submit(a.change, a.seq)
            self._recover(store)
        self._ticker: Ticker | None = None
        if self.clock.virtual:
            self.clock.on_advance(self.run_due)
        else:
            self._ticker = Ticker(self.next_deadline, self.run_due, self.clock)
            self._ticker.start()
        self.add_vhost("/")

    # --- what adapters and pages read ----------------------------------------------------------

    @property
    def vhosts(self) -> dict[str, VHost]:
        return self._state.vhosts

    @property
    def connections(self) -> dict[int, Connection]:
        """The open connections by id, as their clients hold them."""
        return {id: state.handle for id, state in list(self._state.connections.items())}

    @property
    def totals(self) -> dict[str, int]:
        return self._state.totals

    @property
    def dispatch_batch(self) -> int:
        """The most deliveries one call hands out before the rest wait a round (dispatch.py)."""
        return self._state.dispatch_batch

    @dispatch_batch.setter
    def dispatch_batch(self, count: int) -> None:
        self._state.dispatch_batch = count

    # --- running a verb ----------------------------------------------------------------------

    def run(self, verb: Callable[..., Result], channel: ChannelState | None, *args: Any) -> Result:
        """Run one verb under the lock, for a channel (which must be open) or for no one."""
        with self._op(channel):
            if channel is None:
                return verb(self._state, *args)
            return verb(self._state, channel, *args)

    def _op(self, channel: ChannelState | None = None) -> _Transaction:
        """`with self._op(channel):` — hold the lock, then carry out the actions once released."""
        return _Transaction(self, channel)

    def _begin(self) -> None:
        """The lock was just taken: settles handed over while it was busy go first, so they
        come before anything their thread asks for next."""
        self._state.op_time = self.clock.wall()
        if self._settles:
            self._apply_settles()

    def _end(self) -> None:
        """Release the lock and carry out the actions; then apply settles handed over meanwhile."""
        self._release()
        if self._settles:
            self._settle_pending()

    def _release(self) -> None:
        """Settles handed over during the operation go in with it, then its dead letters; then
        record the events, let go, and carry out the actions."""
        state = self._state
        try:
            if self._settles:
                self._apply_settles()
            if state.dead_letters:
                republish_dead_letters(state)
            if state.pending_events:
                if self.events.record(state.pending_events):
                    state.actions.append(actions.FanOut(state.pending_events))
                state.pending_events = []
        finally:
            self._lock.release()
        if state.actions:
            self._drain()

    def _drain(self) -> None:
        """Carry out actions in order, one draining thread at a time, never under the lock."""
        pending = self._state.actions
        carry_out = self._carry_out
        while pending:
            if not self._draining.acquire(blocking=False):
                return  # the thread draining now will also carry out what we left
            self._drainer = threading.get_ident()
            try:
                while pending:
                    action = pending.popleft()
                    try:
                        carry_out[action.__class__](action)
                    except Exception:
                        log.exception("carrying out %r failed", action)
            finally:
                self._drainer = None
                self._draining.release()

    def _recover(self, store: Store) -> None:
        """Read the store and rebuild its durable topology, before anything else runs."""
        started = time.perf_counter()
        try:
            topology = store.load()
            self.recovered = self.run(recover.restore, None, topology, str(store.path), started)
        except Exception as error:
            store.close()
            if isinstance(error, StoreError):
                raise
            text = f"{store.path}: cannot rebuild the broker from it ({error})"
            raise StoreError(text) from error
        store.start(self._store_failed)
        log.info("%s from %s", self.recovered, store.path)

    def _store_failed(self, change: Change, error: BaseException) -> None:
        """The writer thread could not write a change: record it where the pages look."""
        text = f"{type(error).__name__}: {error}"
        self.run(recover.store_failed, None, str(self.store.path), change, text)

    def run_durable(
        self, verb: Callable[..., Result], channel: ChannelState | None, *args: Any
    ) -> Result:
        """Run a verb that may change durable topology; with a store, return once what it
        changed is on disk (the lock is free while waiting: only this caller waits)."""
        state = self._state
        with self._op(channel):
            before = state.store_seq
            result = verb(state, *args) if channel is None else verb(state, channel, *args)
            written = state.store_seq
        if written != before and self._drainer != threading.get_ident():
            # A callback run while this thread carries out actions cannot wait for an action
            # behind it in the same line; it returns at once, its change still written in order.
            self.store.wait(written)
        return result

    def _continue_dispatch(self, action: actions.ContinueDispatch) -> None:
        with self._op():
            dispatch.continue_dispatch(self._state, action.queue)

    def _wake_timer(self, action: actions.WakeTimer) -> None:
        if self._ticker is not None:
            self._ticker.wake()

    # --- acknowledgements that do not wait for the lock ------------------------------------

    def settle_soon(
        self, channel: ChannelState, delivery_tag: int, multiple: bool, verb: str, requeue: bool
    ) -> None:
        """basic.ack / nack / reject without waiting for the broker lock: what a client sends.

        AMQP gives acks no reply, and clients do not wait on them. Neither do we: if another
        thread holds the lock (a producer, say), it applies this settle before letting go, and
        this thread carries on. Waiting instead makes a consumer and a producer hand the lock
        (and the GIL) to each other on every message, which costs more than the work itself.
        A settle is applied before anything its thread asks of the broker next; an unknown tag
        closes the channel with 406, which the channel's next call raises, as with pika."""
        channel.check_open()
        self._settles.append((channel, delivery_tag, multiple, verb, requeue))
        self._settle_pending()

    def _settle_pending(self) -> None:
        """Apply handed-over settles unless the lock is busy (its holder applies them then).
        Every path that takes the lock ends here after releasing it, so none is left behind."""
        while self._settles and self._lock.acquire(blocking=False):
            try:
                self._begin()
            finally:
                self._release()

    def _apply_settles(self) -> None:
        """Apply the settles other threads handed over. One that fails closes its own channel;
        nothing here may raise, since the thread applying them is doing something else."""
        settles = self._settles
        state = self._state
        while settles:
            channel, delivery_tag, multiple, verb, requeue = settles.popleft()
            if channel.closed:
                continue  # what follows a channel's close is dropped, as on the wire
            try:
                settle.settle(state, channel, delivery_tag, multiple, verb, requeue)
            except AMQPError as error:
                lifecycle.fail(state, channel, error)
            except Exception as error:  # a bug: report it once the lock is free, and go on
                text = f"settling {verb} {delivery_tag} on {channel.label} failed"
                state.act(actions.ReportError(text, error))

    # --- vhosts, connections and channels --------------------------------------------------

    def add_vhost(self, name: str) -> None:
        self.run_durable(declare.add_vhost, None, name)

    def connect(
        self,
        name: str = "",
        vhost: str = "/",
        user: str = "guest",
        kind: str = "python",
        client_properties: dict[str, Any] | None = None,
    ) -> Connection:
        """Open a connection; its channels carry the AMQP verbs."""
        state = self.run(lifecycle.connect, None, name, vhost, user, kind, client_properties)
        return Connection(self, state)

    def open_channel(self, connection: Connection, number: int | None = None) -> Channel:
        state = self.run(lifecycle.open_channel, None, connection.state, number)
        return Channel(connection, state)

    def close_channel(self, channel: Channel, error: AMQPError | None = None) -> None:
        self.run(lifecycle.close_channel, None, channel.state, error)

    def close_connection(
        self, connection: Connection, reason: str = "closed", error: AMQPError | None = None
    ) -> None:
        self.run(lifecycle.close_connection, None, connection.state, reason, error)

    # --- the timer ---------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        return self.run(deadlines.next_deadline, None)

    def run_due(self) -> None:
        """Expire messages and queues whose time has come (called by the clock's timer)."""
        with self._op():
            expiry.run_due(self._state, self.clock.now())

    # --- reading state (for pages, the HTTP API and tests) ----------------------------------

    def snapshot(self, vhost: str = "/") -> dict[str, Any]:
        """Everything a page draws, consistent at one event sequence number."""
        with self._op():
            return views.snapshot(self._state, vhost, self.events.last_seq)

    def queue_depths(self, vhost: str = "/") -> dict[str, tuple[int, int, int]]:
        """(ready, unacked, consumers) for every queue of a vhost, read at one instant."""
        return self.run(views.queue_depths, None, vhost)

    def peek(self, vhost: str, queue: str, count: int = 10) -> list[dict[str, Any]]:
        """The first ready messages of a queue, left where they are."""
        entries = self.run(views.peek_entries, None, vhost, queue, count)
        return views.describe_entries(entries)

    def close(self) -> None:
        """Close every connection (code 320, as on shutdown), stop the timer thread, and write
        what the store still has to write. What closing cascades into (an auto-delete queue
        losing its consumers) is a shutdown, not a delete: the store keeps it, as RabbitMQ does."""
        with self._op():
            self._state.persisting = False
            for connection in list(self._state.connections.values()):
                lifecycle.close_connection(
                    self._state, connection, "CONNECTION_FORCED - broker shutdown"
                )
        if self._ticker is not None:
            self._ticker.stop()
        if self.store is not None:
            self.store.close()


class _Transaction:
    """One broker operation: take the lock; on an AMQP error close the channel (or connection)
    as RabbitMQ would; record the events; release; then carry out the actions."""

    __slots__ = ("broker", "channel")

    def __init__(self, broker: Broker, channel: ChannelState | None) -> None:
        self.broker = broker
        self.channel = channel

    def __enter__(self) -> None:
        broker = self.broker
        broker._lock.acquire()
        try:
            broker._begin()
            if self.channel is not None:
                self.channel.check_open()
        except BaseException:
            broker._end()
            raise

    def __exit__(self, exc_type: type | None, error: BaseException | None, tb: Any) -> None:
        broker = self.broker
        try:
            if (
                self.channel is not None
                and isinstance(error, AMQPError)
                and not isinstance(error, ChannelClosed | ConnectionClosed)
            ):
                lifecycle.fail(broker._state, self.channel, error)
        finally:
            broker._end()
