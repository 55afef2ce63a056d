"""One client connection: the handshake, the frame loop, heartbeats and the ordered output.

Everything here runs on the listener's event loop thread, except `post`, which the broker calls
from whichever thread drained its outbox (a delivery, a confirm, a return, a close): it appends
to this connection's inbox and wakes the loop. The inbox is drained in order, so the client sees
frames in the order the broker decided them; a reply to the client's own method is written after
everything already in the inbox (a channel's close-ok after its last delivery), except
basic.consume-ok, which must come before the consumer's first delivery.

Output is collected while a batch of input is processed and written in one go, so a burst of
publishes costs one write for all their confirms. Deliveries to a client that still holds plenty
of earlier ones may wait a moment for company (see DELIVERY_BATCH).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pamqp import commands

from amqp import auth
from amqp.channel import AMQPChannel, ProtocolError
from amqp.codec import (
    FRAME_BODY,
    FRAME_END,
    FRAME_HEAD,
    FRAME_HEADER,
    FRAME_HEARTBEAT,
    FRAME_METHOD,
    HEARTBEAT,
    PROTOCOL_HEADER,
    FrameError,
    UnknownMethod,
    build,
    confirm_frame,
    decode_method,
    encode_method,
    erlang_binary,
    shortstr,
)
from broker import errors
from broker.errors import AMQPError

if TYPE_CHECKING:
    from amqp.server import AMQPServer
    from broker import Connection

log = logging.getLogger("queuelab.amqp")

CHANNEL_OPEN = commands.Channel.Open.index
CHANNEL_CLOSE_OK = commands.Channel.CloseOk.index
HANDSHAKE_TIMEOUT = 10.0  # seconds from TCP accept to connection.open, as in RabbitMQ
CLOSE_TIMEOUT = 2.0  # how long to wait for connection.close-ok before dropping the socket
WRITE_BUFFER_HIGH = 512 * 1024  # pause reading and deliveries above this much unsent output
# A consumer acks one message at a time, and each ack frees room for one more delivery. Written
# one by one, those refills reach the client one per read, and a client library like pika then
# spends most of its time going round its I/O loop (measured: 14k msgs/s, client at 100% CPU).
# So while a channel's client still holds at least DELIVERY_BATCH unacked deliveries (work in
# hand for a while), its refills wait until DELIVERY_BATCH have gathered or DELIVERY_DELAY has
# passed (27k msgs/s). A client holding fewer, and every other frame, is written at once.
DELIVERY_BATCH = 32
DELIVERY_DELAY = 0.001  # seconds
READ_BUFFER = 64 * 1024  # the most bytes one read takes from the socket

SERVER_CAPABILITIES = {
    "publisher_confirms": True,
    "exchange_exchange_bindings": True,
    "basic.nack": True,
    "consumer_cancel_notify": True,
    "connection.blocked": True,
    "authentication_failure_close": True,
    "per_consumer_qos": True,
}

# Connection states, in the order a connection goes through them.
AWAIT_HEADER = "protocol-header"
AWAIT_START_OK = "start-ok"
AWAIT_TUNE_OK = "tune-ok"
AWAIT_OPEN = "open"
RUNNING = "running"
CLOSING = "closing"  # we sent connection.close and wait for close-ok
CLOSED = "closed"


def server_properties(version: str) -> dict[str, Any]:
    return {
        "capabilities": dict(SERVER_CAPABILITIES),
        "cluster_name": "queuelab",
        "copyright": "QueueLab, a teaching broker",
        "information": "An in-memory broker with RabbitMQ's model, for learning",
        "platform": f"Python {sys.version.split()[0]}",
        "product": "QueueLab",
        "version": version,
    }


class AMQPConnection(asyncio.BufferedProtocol):
    """The listener's side of one TCP connection (an asyncio protocol).

    A buffered protocol: the socket is read into one buffer of ours, where a plain protocol
    would have asyncio allocate a fresh 256 KiB bytes object for every read (three extra system
    calls a read, measured on the confirm round trip, where each publish is one read)."""

    def __init__(self, server: AMQPServer) -> None:
        self.server = server
        self.broker = server.broker
        self.loop = server.loop
        self._loop_thread = server.loop_thread_id
        self.transport: asyncio.Transport | None = None
        self.state = AWAIT_HEADER
        self.core: Connection | None = None
        self.channels: dict[int, AMQPChannel] = {}
        self.frame_max = server.frame_max
        self.channel_max = server.channel_max
        self.heartbeat = 0
        self.user = ""
        self.client_properties: dict[str, Any] = {}
        self.cancel_notify = False
        self.auth_failure_close = False
        self.name = ""
        self.error_method = (0, 0)
        self._read_buffer = memoryview(bytearray(READ_BUFFER))
        self._partial: bytearray | None = None
        self._need = 0
        self._inbox: deque[tuple[Callable[[Any], None], Any]] = deque()
        self._out: list[bytes] = []
        self._urgent = False  # _out holds more than deliveries: write it without delay
        self._held: dict[AMQPChannel, int] = {}  # deliveries in _out, per channel
        self._delivery_timer: asyncio.TimerHandle | None = None
        self._pending_ack: list[int] | None = None  # [channel, seq]: a confirm not yet written
        self._receiving = False
        self._wake_pending = False
        self._paused = False
        self._last_received = 0.0
        self._sent = False
        self._timer: asyncio.TimerHandle | None = None
        self._shortstrs: dict[str, bytes] = {}

    # --- asyncio protocol callbacks ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=WRITE_BUFFER_HIGH)
        peer = transport.get_extra_info("peername") or ("?", 0)
        local = transport.get_extra_info("sockname") or ("?", 0)
        self.name = f"{peer[0]}:{peer[1]} -> {local[0]}:{local[1]}"
        self._last_received = self.loop.time()
        self._timer = self.loop.call_later(HANDSHAKE_TIMEOUT, self._handshake_timeout)
        self.server.connections.add(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(self._read_buffer[:nbytes]))

    def data_received(self, data: bytes) -> None:
        if self.state == CLOSED:
            return
        self._last_received = self.loop.time()
        self._receiving = True
        try:
            if self._partial is not None:
                self._partial += data
                if len(self._partial) < self._need:
                    return
                data = bytes(self._partial)
                self._partial = None
            if self.state == AWAIT_HEADER:
                rest = self._protocol_header(data)
                if not rest:
                    return
                data = rest
            self._parse(data)
        except Exception:
            log.exception("AMQP listener: internal error on %s", self.name)
            self.close_with(errors.INTERNAL_ERROR, "INTERNAL_ERROR - see the QueueLab log")
        finally:
            self._receiving = False
            if self._inbox:
                self.drain_inbox()
            self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        was = self.state
        self.state = CLOSED
        self._cancel_timer()
        self._inbox.clear()
        self._out.clear()
        if self._delivery_timer is not None:
            self._delivery_timer.cancel()
            self._delivery_timer = None
        self.server.connections.discard(self)
        if self.core is not None and not self.core.closed:
            reason = "client unexpectedly closed TCP connection" if was != CLOSING else "closed"
            self.broker.close_connection(self.core, reason)

    def pause_writing(self) -> None:
        """The socket cannot keep up: stop reading the client. Deliveries stop by themselves:
        the credit for what is written now comes back only when resume_writing is called."""
        self._paused = True
        if self.transport is not None and self.state != CLOSED:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self._paused = False
        if self.transport is not None and self.state != CLOSED:
            self.transport.resume_reading()
        for channel in list(self.channels.values()):
            channel.socket_caught_up()

    # --- input: protocol header and frames --------------------------------------------------

    def _protocol_header(self, data: bytes) -> bytes:
        """Check "AMQP 0-9-1"; on a mismatch answer with ours and hang up (as the spec says)."""
        if len(data) < 8 and PROTOCOL_HEADER.startswith(data):
            self._partial, self._need = bytearray(data), 8
            return b""
        if data[:8] != PROTOCOL_HEADER:
            log.info("AMQP listener: %s sent %r, not AMQP 0-9-1", self.name, data[:8])
            self._out.append(PROTOCOL_HEADER)
            self._write()
            self.state = CLOSED
            assert self.transport is not None
            self.transport.close()
            return b""
        start = build(
            commands.Connection.Start,
            version_major=0,
            version_minor=9,
            server_properties=server_properties(self.server.version),
            mechanisms=" ".join(auth.MECHANISMS),
            locales="en_US",
        )
        self.emit(encode_method(0, start))
        self.state = AWAIT_START_OK
        return data[8:]

    def _parse(self, data: bytes) -> None:
        """Split input into frames: 7-byte header, payload, end byte 0xCE."""
        size_limit = self.frame_max - 8
        unpack = FRAME_HEAD.unpack_from
        available = len(data)
        position = 0
        while available - position >= 7:
            frame_type, channel, size = unpack(data, position)
            if size > size_limit:
                detail = f"{{frame_too_large,{size},{size_limit}}}"
                self.frame_error(f"type {frame_type}, all octets = <<>>: {detail}")
                return
            end = position + 7 + size
            if end >= available:
                break
            if data[end] != FRAME_END:
                octets = erlang_binary(data[position + 7 : end])
                detail = f"{{invalid_frame_end_marker,{data[end]}}}"
                self.frame_error(f"type {frame_type}, all octets = {octets}: {detail}")
                return
            payload = data[position + 7 : end]
            position = end + 1
            self._on_frame(frame_type, channel, payload)
            if self.state == CLOSED:
                return
        if position < available:
            rest = data[position:]
            self._partial = bytearray(rest)
            self._need = 8 + unpack(rest)[2] if len(rest) >= 7 else 7

    def _on_frame(self, frame_type: int, number: int, payload: bytes) -> None:
        if frame_type == FRAME_METHOD:
            if number == 0:
                self._on_connection_method(payload)
                return
            if self.state != RUNNING:
                if self.state != CLOSING:
                    self._unexpected_before_open()
                return
            channel = self.channels.get(number)
            if channel is not None:
                channel.on_method(payload)
                return
            index = int.from_bytes(payload[:4], "big") if len(payload) >= 4 else 0
            if index == CHANNEL_OPEN:
                self._open_channel(number)
            elif index == CHANNEL_CLOSE_OK:
                pass  # both sides closed at once: the client's close-ok for our close
            else:
                self.close_with(
                    errors.CHANNEL_ERROR,
                    "CHANNEL_ERROR - expected 'channel.open'",
                    *_method_ids(payload),
                )
        elif frame_type in (FRAME_HEADER, FRAME_BODY):
            if self.state == CLOSING:
                return
            channel = self.channels.get(number) if self.state == RUNNING else None
            if channel is None or not channel.on_content(frame_type, payload):
                self.close_with(
                    errors.UNEXPECTED_FRAME,
                    "UNEXPECTED_FRAME - expected method frame, got non method frame instead",
                )
        elif frame_type == FRAME_HEARTBEAT:
            if number != 0:
                octets = erlang_binary(payload)
                self.close_with(
                    errors.UNEXPECTED_FRAME, f"UNEXPECTED_FRAME - type 8, all octets = {octets}"
                )
        else:
            octets = erlang_binary(payload)
            self.frame_error(f"type {frame_type}, all octets = {octets}: unknown_frame")

    # --- connection-class methods (channel 0) -----------------------------------------------

    def _on_connection_method(self, payload: bytes) -> None:
        try:
            method = decode_method(payload)
        except FrameError as error:
            self.close_with(errors.FRAME_ERROR, f"FRAME_ERROR - {error}", *_method_ids(payload))
            return
        except UnknownMethod as error:
            self.close_with(errors.COMMAND_INVALID, f"COMMAND_INVALID - {error}")
            return
        if self.state == CLOSING:
            if isinstance(method, commands.Connection.Close):
                self.emit(encode_method(0, commands.Connection.CloseOk()))
                self._hang_up()
            elif isinstance(method, commands.Connection.CloseOk):
                self._hang_up()
            return
        if isinstance(method, commands.Connection.Close):
            self._on_close(method)
            return
        handler = {
            AWAIT_START_OK: (commands.Connection.StartOk, self._on_start_ok),
            AWAIT_TUNE_OK: (commands.Connection.TuneOk, self._on_tune_ok),
            AWAIT_OPEN: (commands.Connection.Open, self._on_open),
        }.get(self.state)
        if handler is not None:
            expected, run = handler
            if not isinstance(method, expected):
                self.close_with(
                    errors.COMMAND_INVALID,
                    f"COMMAND_INVALID - expected '{expected.name.lower()}', got "
                    f"'{method.name.lower()}'",
                    *_method_ids(payload),
                )
                return
            run(method)
        elif isinstance(method, commands.Connection.CloseOk):
            self._hang_up()
        elif isinstance(method, commands.Connection.Blocked | commands.Connection.Unblocked):
            pass
        else:
            self.close_with(
                errors.CHANNEL_ERROR,
                "CHANNEL_ERROR - unexpected method in connection state running",
                *_method_ids(payload),
            )

    def _on_start_ok(self, method: commands.Connection.StartOk) -> None:
        self.client_properties = dict(method.client_properties or {})
        capabilities = self.client_properties.get("capabilities") or {}
        self.cancel_notify = bool(capabilities.get("consumer_cancel_notify"))
        self.auth_failure_close = bool(capabilities.get("authentication_failure_close"))
        mechanism = method.mechanism
        try:
            found = auth.credentials(mechanism, method.response)
        except auth.UnknownMechanism:
            self.close_with(
                errors.COMMAND_INVALID,
                f"COMMAND_INVALID - unknown authentication mechanism '{mechanism}'",
                10,
                11,
            )
            return
        if found is None or not auth.check(self.server.users, *found):
            log.info("AMQP listener: login refused for %r on %s", found and found[0], self.name)
            if not self.auth_failure_close:  # RabbitMQ just hangs up on old clients
                self._hang_up()
                return
            self.close_with(
                errors.ACCESS_REFUSED,
                f"ACCESS_REFUSED - Login was refused using authentication mechanism {mechanism}. "
                "For details see the broker logfile.",
                10,
                11,
            )
            return
        self.user = found[0]
        tune = build(
            commands.Connection.Tune,
            channel_max=self.channel_max,
            frame_max=self.frame_max,
            heartbeat=self.server.heartbeat,
        )
        self.emit(encode_method(0, tune))
        self.state = AWAIT_TUNE_OK

    def _on_tune_ok(self, method: commands.Connection.TuneOk) -> None:
        if method.frame_max:
            self.frame_max = max(4096, min(self.frame_max, method.frame_max))
        if method.channel_max:
            self.channel_max = min(self.channel_max, method.channel_max)
        self.heartbeat = method.heartbeat or 0
        self.state = AWAIT_OPEN

    def _on_open(self, method: commands.Connection.Open) -> None:
        try:
            self.core = self.broker.connect(
                self.name,
                method.virtual_host or "/",
                self.user,
                kind="amqp",
                client_properties=self.client_properties,
            )
        except AMQPError as error:
            self.close_with(error.reply_code, error.reply_text, 10, 40)
            return
        self.core.on_close = lambda reason, error: self.post(self._core_closed, (reason, error))
        self.state = RUNNING
        self._cancel_timer()
        if self.heartbeat:
            self._timer = self.loop.call_later(self.heartbeat / 2, self._heartbeat_tick)
        self.emit(encode_method(0, build(commands.Connection.OpenOk, known_hosts="")))

    def _on_close(self, method: commands.Connection.Close) -> None:
        """The client says goodbye: close everything in the broker, then answer close-ok."""
        self.drain_inbox()
        self.state = CLOSING
        if self.core is not None and not self.core.closed:
            self.broker.close_connection(self.core, "closed by client")
        self.emit(encode_method(0, commands.Connection.CloseOk()))
        self._hang_up()

    def _unexpected_before_open(self) -> None:
        text = f"CHANNEL_ERROR - unexpected method in connection state {self.state}"
        self.close_with(errors.CHANNEL_ERROR, text)

    # --- channels ---------------------------------------------------------------------------

    def _open_channel(self, number: int) -> None:
        assert self.core is not None
        try:
            core_channel = self.core.channel(number)
        except AMQPError as error:
            self.close_with(error.reply_code, error.reply_text, 20, 10)
            return
        channel = AMQPChannel(self, number, core_channel)
        self.channels[number] = channel
        self.emit(encode_method(number, build(commands.Channel.OpenOk, channel_id="")))

    def forget_channel(self, channel: AMQPChannel) -> None:
        if self.channels.get(channel.number) is channel:
            del self.channels[channel.number]

    def fail(self, error: AMQPError, channel: AMQPChannel | None, ids: tuple[int, int]) -> None:
        """An error the listener found itself (not the broker): close the channel or connection."""
        if channel is not None and error.is_channel_error:
            channel.error_method = ids
            if not channel.core.closed:
                self.broker.close_channel(channel.core, error)
        else:
            self.close_with(error.reply_code, error.reply_text, *ids)

    # --- output -----------------------------------------------------------------------------

    def post(self, handler: Callable[[Any], None], argument: Any) -> None:
        """Called by the broker, from any thread, outside its lock: queue work for the loop."""
        if self.state == CLOSED:
            return
        self._inbox.append((handler, argument))
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
        if self.state == CLOSED:
            return
        self.drain_inbox()
        self._flush()

    def drain_inbox(self) -> None:
        inbox = self._inbox
        while inbox:
            if self.state != RUNNING:  # closing: nothing more goes to this client
                inbox.clear()
                return
            handler, argument = inbox.popleft()
            try:
                handler(argument)
            except Exception:
                log.exception("AMQP listener: failed to write to %s", self.name)

    def emit(self, data: bytes) -> None:
        if self._pending_ack is not None:
            self._write_pending_ack()
        self._out.append(data)
        self._urgent = True

    def emit_delivery(self, channel: AMQPChannel, data: bytes) -> None:
        """A basic.deliver with its content: the one kind of output that may wait (_flush)."""
        if self._pending_ack is not None:
            self._write_pending_ack()
        self._out.append(data)
        self._held[channel] = self._held.get(channel, 0) + 1

    def emit_confirm(self, channel: int, seq: int, ack: bool, multiple: bool) -> None:
        """Confirms come in sequence order; a run of acks on one channel becomes one
        basic.ack with multiple=true, as RabbitMQ does."""
        self._urgent = True
        pending = self._pending_ack
        if ack and not multiple:
            if pending is not None and pending[0] == channel:
                pending[1] = seq
                pending[2] = True
                return
            if pending is not None:
                self._write_pending_ack()
            self._pending_ack = [channel, seq, False]
            return
        self.emit(confirm_frame(channel, seq, ack, multiple))

    def _write_pending_ack(self) -> None:
        channel, seq, multiple = self._pending_ack  # type: ignore[misc]
        self._pending_ack = None
        self._out.append(confirm_frame(channel, seq, True, multiple))

    def _flush(self) -> None:
        """Write the output, unless it is only deliveries to a client busy with earlier ones."""
        if not self._urgent and self._held and self._client_busy():
            if self._delivery_timer is None:
                self._delivery_timer = self.loop.call_later(DELIVERY_DELAY, self._write)
            return
        self._write()

    def _client_busy(self) -> bool:
        """Does every channel we hold deliveries for have DELIVERY_BATCH others in hand?
        (The unacked count is read without the broker lock: a size, for a heuristic.)"""
        for channel, held in self._held.items():
            if held >= DELIVERY_BATCH or len(channel.core.unacked) - held < DELIVERY_BATCH:
                return False
        return True

    def _write(self) -> None:
        if self._delivery_timer is not None:
            self._delivery_timer.cancel()
            self._delivery_timer = None
        self._urgent = False
        if self._pending_ack is not None:
            self._write_pending_ack()
        out = self._out
        if not out or self.transport is None:
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        if not self.transport.is_closing():
            self.transport.write(data)  # may call pause_writing
            self._sent = True
        held, self._held = self._held, {}
        for channel in held:
            channel.output_written(socket_behind=self._paused)

    def shortstr(self, text: str) -> bytes:
        """Exchange names and routing keys, encoded once (they repeat on every delivery)."""
        encoded = self._shortstrs.get(text)
        if encoded is None:
            if len(self._shortstrs) > 4096:
                self._shortstrs.clear()
            encoded = self._shortstrs[text] = shortstr(text)
        return encoded

    # --- closing ----------------------------------------------------------------------------

    def frame_error(self, text: str) -> None:
        """The byte stream cannot be trusted any more: say why and hang up at once."""
        self.close_with(errors.FRAME_ERROR, f"FRAME_ERROR - {text}")
        self._hang_up()

    def close_with(self, code: int, text: str, class_id: int = 0, method_id: int = 0) -> None:
        """Send connection.close (a connection error) and close the broker side."""
        if self.state in (CLOSING, CLOSED):
            return
        log.info("AMQP listener: closing %s: %s", self.name, text)
        handshake = self.state != RUNNING
        self.drain_inbox()  # what the broker decided before the error goes out first
        self.state = CLOSING  # from here on the broker's callbacks for us are dropped
        if self.core is not None and not self.core.closed:
            error = AMQPError(code, text.split(" - ", 1)[-1])
            self.broker.close_connection(self.core, text, error)
        self._send_close(code, text, class_id, method_id)
        if handshake and code == errors.ACCESS_REFUSED:
            self._hang_up()

    def _core_closed(self, reason_error: tuple[str, AMQPError | None]) -> None:
        """The broker closed this connection (a connection error, shutdown, the web UI)."""
        if self.state in (CLOSING, CLOSED):
            return
        reason, error = reason_error
        if error is not None:
            code, text = error.reply_code, error.reply_text
            class_id, method_id = self.error_method
        else:
            code, class_id, method_id = errors.CONNECTION_FORCED, 0, 0
            text = reason
            if not reason.startswith("CONNECTION_FORCED"):
                text = f"CONNECTION_FORCED - {reason}"
        self._send_close(code, text, class_id, method_id)

    def _send_close(self, code: int, text: str, class_id: int, method_id: int) -> None:
        close = build(
            commands.Connection.Close,
            reply_code=code,
            reply_text=text[:255],
            class_id=class_id,
            method_id=method_id,
        )
        self.emit(encode_method(0, close))
        self.state = CLOSING
        self._cancel_timer()
        self._timer = self.loop.call_later(CLOSE_TIMEOUT, self._hang_up)
        if not self._receiving:
            self._flush()

    def shut_down(self, reason: str = "CONNECTION_FORCED - broker shutdown") -> None:
        """The listener is stopping: tell the client, as RabbitMQ does on shutdown."""
        if self.state == RUNNING:
            self.close_with(errors.CONNECTION_FORCED, reason)
        elif self.state != CLOSED:
            self._hang_up()

    def _hang_up(self) -> None:
        self._write()
        self.state = CLOSED
        self._cancel_timer()
        if self.transport is not None:
            self.transport.close()
        if self.core is not None and not self.core.closed:
            self.broker.close_connection(self.core, "closed")

    def abort(self) -> None:
        self.state = CLOSED
        if self.transport is not None:
            self.transport.abort()

    # --- timers -----------------------------------------------------------------------------

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _handshake_timeout(self) -> None:
        self._timer = None
        if self.state not in (RUNNING, CLOSING, CLOSED):
            log.info("AMQP listener: %s did not finish the handshake in time", self.name)
            self._hang_up()

    def _heartbeat_tick(self) -> None:
        """Every half interval: send a heartbeat if we were quiet, and drop a silent peer."""
        self._timer = None
        if self.state != RUNNING or self.transport is None:
            return
        silent = self.loop.time() - self._last_received
        if silent > 2 * self.heartbeat:
            log.info(
                "AMQP listener: missed heartbeats from %s, timeout: %ss", self.name, self.heartbeat
            )
            reason = f"missed heartbeats from client, timeout: {self.heartbeat}s"
            if self.core is not None and not self.core.closed:
                self.broker.close_connection(self.core, reason)
            self.state = CLOSED
            self.transport.abort()
            return
        if not self._sent:
            self.transport.write(HEARTBEAT)
        self._sent = False
        self._timer = self.loop.call_later(self.heartbeat / 2, self._heartbeat_tick)


def _method_ids(payload: bytes) -> tuple[int, int]:
    if len(payload) < 4:
        return 0, 0
    index = int.from_bytes(payload[:4], "big")
    return index >> 16, index & 0xFFFF


__all__ = ["AMQPConnection", "ProtocolError"]
