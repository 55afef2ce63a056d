"""One client's TCP connection on the listener's event loop: the socket around an AMQPProtocol.

The protocol (amqp/protocol.py) decides everything; this asyncio protocol only carries it out:
socket reads go into `receive_data`, the protocol's output goes onto the socket, its `SetTimer`
and `HangUp` events become a loop timer and a closed socket.

Everything here runs on the listener's event loop thread, except `post`, which the broker calls
from whichever thread drained its outbox (a delivery, a confirm, a return, a close): it appends
to the protocol's inbox and wakes the loop. After every batch of input, wake-up or timer, the
output is written in one go, unless it is only deliveries that may wait a moment for company
(amqp/output.py), for which a second, short timer is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from amqp.events import HangUp, SetTimer
from amqp.output import DELIVERY_DELAY
from amqp.protocol import CLOSED, AMQPProtocol

if TYPE_CHECKING:
    from amqp.server import AMQPServer

WRITE_BUFFER_HIGH = 512 * 1024  # pause reading and deliveries above this much unsent output
READ_BUFFER = 64 * 1024  # the most bytes one read takes from the socket


class AMQPTransport(asyncio.BufferedProtocol):
    """The listener's side of one TCP connection (an asyncio protocol).

    A buffered protocol: the socket is read into one buffer of ours, where a plain protocol
    would have asyncio allocate a fresh 256 KiB bytes object for every read (three extra system
    calls a read, measured on the confirm round trip, where each publish is one read)."""

    def __init__(self, server: AMQPServer) -> None:
        self.server = server
        self.loop = server.loop
        self._loop_thread = server.loop_thread_id
        self.socket: asyncio.Transport | None = None
        self.protocol = AMQPProtocol(server.broker, server.settings, name="", post=self.post)
        self._read_buffer = memoryview(bytearray(READ_BUFFER))
        self._receiving = False
        self._wake_pending = False
        self._paused = False
        self._timer: asyncio.TimerHandle | None = None
        self._delivery_timer: asyncio.TimerHandle | None = None

    # --- asyncio protocol callbacks ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.socket = transport
        transport.set_write_buffer_limits(high=WRITE_BUFFER_HIGH)
        peer = transport.get_extra_info("peername") or ("?", 0)
        local = transport.get_extra_info("sockname") or ("?", 0)
        self.protocol.name = f"{peer[0]}:{peer[1]} -> {local[0]}:{local[1]}"
        self.protocol.handshake.from_loopback = is_loopback(peer[0])
        self.server.connections.add(self)
        self._carry_out()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        protocol = self.protocol
        if protocol.state == CLOSED:
            return
        self._receiving = True
        try:
            protocol.receive_data(bytes(self._read_buffer[:nbytes]))
        finally:
            self._receiving = False
            self._carry_out()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        self.server.connections.discard(self)
        self.protocol.connection_lost()

    def pause_writing(self) -> None:
        """The socket cannot keep up: stop reading the client. Deliveries stop by themselves:
        the credit for what is written now comes back only when resume_writing is called."""
        self._paused = True
        if self.socket is not None and self.protocol.state != CLOSED:
            self.socket.pause_reading()

    def resume_writing(self) -> None:
        self._paused = False
        if self.socket is not None and self.protocol.state != CLOSED:
            self.socket.resume_reading()
        self.protocol.socket_caught_up()

    # --- the broker's callbacks -------------------------------------------------------------

    def post(self, handler: Callable[[Any], None], argument: Any) -> None:
        """Called by the broker, from any thread, outside its lock: queue work for the loop."""
        protocol = self.protocol
        if protocol.state == CLOSED:
            return
        protocol.inbox.append((handler, argument))
        if self._wake_pending:
            return
        if threading.get_ident() == self._loop_thread:
            if self._receiving:
                return  # drained when the current batch of input is done
            self._wake_pending = True
            self.loop.call_soon(self._wake)
        else:
            self._wake_pending = True
            with contextlib.suppress(RuntimeError):  # the listener has stopped
                self.loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        self._wake_pending = False
        if self.protocol.state == CLOSED:
            return
        self.protocol.drain_inbox()
        self._carry_out()

    # --- carrying out what the protocol decided ---------------------------------------------

    def _carry_out(self) -> None:
        """Act on the protocol's events, then write its output (or let deliveries wait)."""
        protocol = self.protocol
        if protocol.events:
            for event in protocol.take_events():
                if isinstance(event, SetTimer):
                    self._set_timer(event.seconds)
                elif isinstance(event, HangUp):
                    self._hang_up(event.abort)
        output = protocol.output
        if not output.urgent and output.can_wait():
            if self._delivery_timer is None:
                self._delivery_timer = self.loop.call_later(DELIVERY_DELAY, self._write)
            return
        self._write()

    def _write(self) -> None:
        if self._delivery_timer is not None:
            self._delivery_timer.cancel()
            self._delivery_timer = None
        output = self.protocol.output
        data = output.data_to_send()
        if not data or self.socket is None:
            return
        if not self.socket.is_closing():
            self.socket.write(data)  # may call pause_writing
        output.output_written(socket_behind=self._paused)

    def _hang_up(self, abort: bool) -> None:
        self._cancel_timers()
        if self.socket is None:
            return
        if abort:
            self.socket.abort()
        else:
            self._write()
            self.socket.close()

    def _set_timer(self, seconds: float | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if seconds is not None and self.protocol.state != CLOSED:
            self._timer = self.loop.call_later(seconds, self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        self.protocol.timer_fired()
        self._carry_out()

    def _cancel_timers(self) -> None:
        self._set_timer(None)
        if self._delivery_timer is not None:
            self._delivery_timer.cancel()
            self._delivery_timer = None

    # --- the server stopping ----------------------------------------------------------------

    def shut_down(self) -> None:
        """The listener is stopping: tell the client, as RabbitMQ does on shutdown."""
        self.protocol.shut_down()
        self._carry_out()

    def abort(self) -> None:
        self.protocol.abandon()
        if self.socket is not None:
            self.socket.abort()


def is_loopback(address: str) -> bool:
    """127.0.0.0/8 and ::1, also as an IPv4 address mapped into IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)
