"""One AMQP 0-9-1 connection as a sans-I/O state machine: bytes in, frames and events out.

No sockets, threads, clocks or asyncio: the driver (amqp/transport.py on the listener's loop, or
a test with bytes alone) feeds in what happened and carries out what the protocol asks for.

    protocol = AMQPProtocol(broker, Settings(), name="test")
    protocol.receive_data(b"AMQP\\x00\\x00\\x09\\x01")
    protocol.output.data_to_send()      # connection.start, ready for the socket
    protocol.take_events()              # [SetTimer(10.0)]: the handshake must finish in time

In: `receive_data`, `timer_fired` (time is counted in the ticks of the timer it asked for),
`drain_inbox`, `shut_down`, `connection_lost`. Out: `output` (amqp/output.py: take its
`data_to_send()`, then say `output_written()` once it is on the socket) and the events
`Opened`, `SetTimer` and `HangUp`.

The broker reaches the connection through `post(handler, argument)`, from whichever thread
drained its outbox; by default it appends to `inbox`, and the transport's also wakes its loop.
The inbox is drained in order at the end of every batch of input and before every reply, so the
client sees frames in the order the broker decided them: a reply comes after everything already
in the inbox (a channel's close-ok after its last delivery), except basic.consume-ok, which must
come before the consumer's first delivery.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pamqp import commands

from amqp.channel import AMQPChannel, Post
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
    decode_method,
    encode_method,
    erlang_binary,
    method_ids,
)
from amqp.events import Event, HangUp, Opened, SetTimer
from amqp.handshake import Handshake, Settings
from amqp.output import Output
from broker import errors
from broker.errors import AMQPError

if TYPE_CHECKING:
    from broker import Broker, Connection

log = logging.getLogger("queuelab.amqp")

CHANNEL_OPEN = commands.Channel.Open.index
CHANNEL_CLOSE_OK = commands.Channel.CloseOk.index
HANDSHAKE_TIMEOUT = 10.0  # seconds from TCP accept to connection.open, as in RabbitMQ
CLOSE_TIMEOUT = 2.0  # how long to wait for connection.close-ok before dropping the socket
SILENT_TICKS = 4  # half-intervals without a byte from the client: two heartbeats missed

# Connection states, in the order a connection goes through them.
AWAIT_HEADER = "protocol-header"
AWAIT_START_OK = "start-ok"
AWAIT_TUNE_OK = "tune-ok"
AWAIT_OPEN = "open"
RUNNING = "running"
CLOSING = "closing"  # we sent connection.close and wait for close-ok
CLOSED = "closed"


class AMQPProtocol:
    """The listener's side of one AMQP connection, from protocol header to close-ok."""

    def __init__(
        self, broker: Broker, settings: Settings, name: str, post: Post | None = None
    ) -> None:
        self.broker = broker
        self.name = name
        self.state = AWAIT_HEADER
        self.output = Output()
        self.events: list[Event] = [SetTimer(HANDSHAKE_TIMEOUT)]
        self.inbox: deque[tuple[Callable[[Any], None], Any]] = deque()
        self.post: Post = post or self._queue
        self.handshake = Handshake(settings)
        self.core: Connection | None = None
        self.channels: dict[int, AMQPChannel] = {}
        self.frame_max = settings.frame_max
        self.cancel_notify = False
        self.error_method = (0, 0)  # class and method ids of the method that failed
        self._partial: bytearray | None = None
        self._need = 0
        self._received = False  # a byte arrived since the last heartbeat tick
        self._silent_ticks = 0

    def take_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events

    # --- input: protocol header and frames --------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes from the client: handle every whole frame, keep the rest for next time."""
        if self.state == CLOSED:
            return
        self._received = True
        try:
            if self._partial is not None:
                self._partial += data
                if len(self._partial) < self._need:
                    return
                data = bytes(self._partial)
                self._partial = None
            if self.state == AWAIT_HEADER:
                data = self._protocol_header(data)
                if not data:
                    return
            self._parse(data)
        except Exception:
            log.exception("AMQP listener: internal error on %s", self.name)
            self.close_with(errors.INTERNAL_ERROR, "INTERNAL_ERROR - see the QueueLab log")
        finally:
            if self.inbox:
                self.drain_inbox()

    def _protocol_header(self, data: bytes) -> bytes:
        """Check "AMQP 0-9-1"; on a mismatch answer with ours and hang up (as the spec says)."""
        if len(data) < 8 and PROTOCOL_HEADER.startswith(data):
            self._partial, self._need = bytearray(data), 8
            return b""
        if data[:8] != PROTOCOL_HEADER:
            log.info("AMQP listener: %s sent %r, not AMQP 0-9-1", self.name, data[:8])
            self.output.emit(PROTOCOL_HEADER)
            self._hang_up()
            return b""
        self.output.emit(encode_method(0, self.handshake.start()))
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
            if frame_type == FRAME_METHOD and channel:
                self._on_channel_method(channel, payload)
            else:
                self._on_frame(frame_type, channel, payload)
            if self.state == CLOSED:
                return
        if position < available:
            rest = data[position:]
            self._partial = bytearray(rest)
            self._need = 8 + unpack(rest)[2] if len(rest) >= 7 else 7

    def _on_channel_method(self, number: int, payload: bytes) -> None:
        if self.state != RUNNING:
            if self.state != CLOSING:
                text = f"CHANNEL_ERROR - unexpected method in connection state {self.state}"
                self.close_with(errors.CHANNEL_ERROR, text)
            return
        channel = self.channels.get(number)
        if channel is not None:
            if len(payload) < 4:
                self.frame_error(f"cannot decode {payload!r}")
            else:
                channel.on_method(payload)
            return
        index = int.from_bytes(payload[:4], "big") if len(payload) >= 4 else 0
        if index == CHANNEL_OPEN:
            self._open_channel(number)
        elif index != CHANNEL_CLOSE_OK:  # a close-ok: both sides closed at once
            self.close_with(
                errors.CHANNEL_ERROR,
                "CHANNEL_ERROR - expected 'channel.open'",
                *method_ids(payload),
            )

    def _on_frame(self, frame_type: int, number: int, payload: bytes) -> None:
        """Every frame but a method frame on a channel (the common case, see _parse)."""
        if frame_type == FRAME_METHOD:
            self._on_connection_method(payload)
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
            self.close_with(errors.FRAME_ERROR, f"FRAME_ERROR - {error}", *method_ids(payload))
            return
        except UnknownMethod as error:
            self.close_with(errors.COMMAND_INVALID, f"COMMAND_INVALID - {error}")
            return
        if self.state == CLOSING:
            if isinstance(method, commands.Connection.Close):
                self.output.emit(encode_method(0, commands.Connection.CloseOk()))
                self._hang_up()
            elif isinstance(method, commands.Connection.CloseOk):
                self._hang_up()
        elif isinstance(method, commands.Connection.Close):
            self._on_close()
        elif self.state == RUNNING:
            self._while_running(method, payload)
        else:
            self._handshake_step(method, payload)

    def _handshake_step(self, method: Any, payload: bytes) -> None:
        """start-ok, tune-ok and open, each in its turn; anything else closes the connection."""
        expected = {
            AWAIT_START_OK: commands.Connection.StartOk,
            AWAIT_TUNE_OK: commands.Connection.TuneOk,
            AWAIT_OPEN: commands.Connection.Open,
        }[self.state]
        if not isinstance(method, expected):
            self.close_with(
                errors.COMMAND_INVALID,
                f"COMMAND_INVALID - expected '{expected.name.lower()}', got "
                f"'{method.name.lower()}'",
                *method_ids(payload),
            )
        elif self.state == AWAIT_START_OK:
            self._on_start_ok(method)
        elif self.state == AWAIT_TUNE_OK:
            self.handshake.tune_ok(method)
            self.frame_max = self.handshake.frame_max
            self.state = AWAIT_OPEN
        else:
            self._on_open(method)

    def _while_running(self, method: Any, payload: bytes) -> None:
        if isinstance(method, commands.Connection.CloseOk):
            self._hang_up()
        elif not isinstance(method, commands.Connection.Blocked | commands.Connection.Unblocked):
            self.close_with(
                errors.CHANNEL_ERROR,
                "CHANNEL_ERROR - unexpected method in connection state running",
                *method_ids(payload),
            )

    def _on_start_ok(self, method: commands.Connection.StartOk) -> None:
        handshake = self.handshake
        try:
            handshake.start_ok(method)
        except AMQPError as error:
            if error.reply_code == errors.ACCESS_REFUSED:
                log.info("AMQP listener: login refused for %r on %s", handshake.user, self.name)
                if not handshake.auth_failure_close:  # RabbitMQ just hangs up on old clients
                    self._hang_up()
                    return
            self.close_with(error.reply_code, error.reply_text, 10, 11)
            return
        self.cancel_notify = handshake.cancel_notify
        self.output.emit(encode_method(0, handshake.tune()))
        self.state = AWAIT_TUNE_OK

    def _on_open(self, method: commands.Connection.Open) -> None:
        handshake = self.handshake
        vhost = method.virtual_host or "/"
        try:
            self.core = self.broker.connect(
                self.name,
                vhost,
                handshake.user,
                kind="amqp",
                client_properties=handshake.client_properties,
            )
        except AMQPError as error:
            self.close_with(error.reply_code, error.reply_text, 10, 40)
            return
        post = self.post
        self.core.on_close = lambda reason, error: post(self._core_closed, (reason, error))
        self.state = RUNNING
        heartbeat = handshake.heartbeat
        self.events.append(SetTimer(heartbeat / 2 if heartbeat else None))
        self.events.append(Opened(handshake.user, vhost, heartbeat))
        self.output.emit(encode_method(0, build(commands.Connection.OpenOk, known_hosts="")))

    def _on_close(self) -> None:
        """The client says goodbye: close everything in the broker, then answer close-ok."""
        self.drain_inbox()
        self.state = CLOSING
        if self.core is not None and not self.core.closed:
            self.broker.close_connection(self.core, "closed by client")
        self.output.emit(encode_method(0, commands.Connection.CloseOk()))
        self._hang_up()

    # --- channels ---------------------------------------------------------------------------

    def _open_channel(self, number: int) -> None:
        assert self.core is not None
        limit = self.handshake.channel_max
        if limit and len(self.channels) + 1 > limit:  # counted as RabbitMQ counts: open channels
            text = (
                f"NOT_ALLOWED - number of channels opened ({len(self.channels)}) has reached "
                f"the negotiated channel_max ({limit})"
            )
            self.close_with(errors.NOT_ALLOWED, text, 0, 0)
            return
        try:
            core_channel = self.core.channel(number)
        except AMQPError as error:
            self.close_with(error.reply_code, error.reply_text, 20, 10)
            return
        self.channels[number] = AMQPChannel(self, number, core_channel)
        self.output.emit(encode_method(number, build(commands.Channel.OpenOk, channel_id="")))

    def forget_channel(self, channel: AMQPChannel) -> None:
        if self.channels.get(channel.number) is channel:
            del self.channels[channel.number]

    # --- the broker's callbacks -------------------------------------------------------------

    def _queue(self, handler: Callable[[Any], None], argument: Any) -> None:
        """The default `post`, for a driver that calls drain_inbox() itself."""
        if self.state != CLOSED:
            self.inbox.append((handler, argument))

    def drain_inbox(self) -> None:
        """Run what the broker posted, in order (everything, before a reply goes out)."""
        inbox = self.inbox
        while inbox:
            if self.state != RUNNING:  # closing: nothing more goes to this client
                inbox.clear()
                return
            handler, argument = inbox.popleft()
            try:
                handler(argument)
            except Exception:
                log.exception("AMQP listener: failed to write to %s", self.name)

    def socket_caught_up(self) -> None:
        """The socket drained what was waiting: deliveries' credit held back may go now."""
        for channel in list(self.channels.values()):
            channel.socket_caught_up()

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
        self.output.emit(encode_method(0, close))
        self.state = CLOSING
        self.events.append(SetTimer(CLOSE_TIMEOUT))

    def shut_down(self, reason: str = "CONNECTION_FORCED - broker shutdown") -> None:
        """The listener is stopping: tell the client, as RabbitMQ does on shutdown."""
        if self.state == RUNNING:
            self.close_with(errors.CONNECTION_FORCED, reason)
        elif self.state != CLOSED:
            self._hang_up()

    def _hang_up(self) -> None:
        self.state = CLOSED
        self.events.append(HangUp())
        if self.core is not None and not self.core.closed:
            self.broker.close_connection(self.core, "closed")

    def abandon(self) -> None:
        """The socket is being dropped without a word: nothing more goes to the client."""
        self.state = CLOSED

    def connection_lost(self) -> None:
        """The socket is gone; unless we were closing, the client vanished."""
        was = self.state
        self.state = CLOSED
        self.inbox.clear()
        self.output.discard()
        if self.core is not None and not self.core.closed:
            reason = "client unexpectedly closed TCP connection" if was != CLOSING else "closed"
            self.broker.close_connection(self.core, reason)

    # --- the timer --------------------------------------------------------------------------

    def timer_fired(self) -> None:
        """The timer asked for last went off: handshake too slow, heartbeat due, or no close-ok."""
        if self.state == RUNNING:
            self._heartbeat_tick()
        elif self.state == CLOSING:
            self._hang_up()
        elif self.state != CLOSED:
            log.info("AMQP listener: %s did not finish the handshake in time", self.name)
            self._hang_up()

    def _heartbeat_tick(self) -> None:
        """Every half interval: send a heartbeat if we were quiet, and drop a silent peer."""
        if self._received:
            self._received = False
            self._silent_ticks = 0
        else:
            self._silent_ticks += 1
        heartbeat = self.handshake.heartbeat
        if self._silent_ticks >= SILENT_TICKS:
            log.info("AMQP listener: missed heartbeats from %s, timeout: %ss", self.name, heartbeat)
            reason = f"missed heartbeats from client, timeout: {heartbeat}s"
            if self.core is not None and not self.core.closed:
                self.broker.close_connection(self.core, reason)
            self.state = CLOSED
            self.events.append(HangUp(abort=True))
            return
        output = self.output
        if not output.sent:
            output.emit(HEARTBEAT)
        output.sent = False
        self.events.append(SetTimer(heartbeat / 2))
