"""One AMQP channel's state: its input dispatched, its content assembled, its output and credit.

Each method the client sends is handled by a function named after it (amqp/methods.py), a thin
call into `broker.Channel`, which holds the semantics and raises RabbitMQ's errors. The methods
that come with every message (basic.publish and its content, basic.ack / nack / reject) are
decoded here by hand, in one pass, without pamqp.

When a verb raises, the broker has already closed the channel (or the connection) in its own
state and calls back `on_close`; that callback, queued behind everything the broker sent before,
is what sends channel.close with RabbitMQ's reply code and text.

Content (basic.publish's header and body frames) is assembled here; the raw content header goes
to the broker with the message so that deliveries forward it byte for byte.

A channel talks to its connection only through `ChannelHost`: where its frames go (`output`),
how the broker's callbacks reach the connection's thread (`post`), and how to close the
connection or forget the channel.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from pamqp import commands

from amqp.codec import (
    BASIC_ACK,
    BASIC_NACK,
    BASIC_PUBLISH,
    BASIC_REJECT,
    FRAME_BODY,
    FRAME_HEADER,
    FrameError,
    UnknownMethod,
    build,
    content_frames,
    decode_content_header,
    decode_method,
    decode_publish,
    decode_settle,
    deliver_frame,
    encode_content_header,
    encode_method,
    return_frame,
    shortstr,
)
from amqp.methods import HANDLERS, ProtocolError
from broker import errors
from broker.errors import AMQPError, ChannelClosed, ConnectionClosed
from broker.state import delivery_cost

if TYPE_CHECKING:
    from amqp.output import Output
    from broker import Broker, Channel, Delivery, Message, Properties
    from broker.results import Returned

OPEN = "open"
CLIENT_CLOSING = "client-closing"  # the client sent channel.close; close-ok is on its way
CLOSING = "closing"  # we sent channel.close and wait for close-ok
CLOSED = "closed"

# Credit flow, after RabbitMQ's: the broker hands a channel deliveries worth at most
# DELIVERY_CREDIT (body bytes plus a per-delivery overhead, see delivery_cost) that have not
# reached the socket; once CREDIT_RETURN of them are written the broker may send as much more,
# unless the socket is behind (then the credit waits for it to drain). A consumer without a
# prefetch limit thus gets a deep backlog as fast as its client reads, and the rest stays in
# the queue, visible on the pages, instead of piling up in our write buffer.
DELIVERY_CREDIT = 1024 * 1024
CREDIT_RETURN = DELIVERY_CREDIT // 2

_CLOSE = commands.Channel.Close.index
_CLOSE_OK = commands.Channel.CloseOk.index

Post = Callable[[Callable[[Any], None], Any], None]


class ChannelHost(Protocol):
    """What a channel needs from its connection (amqp.protocol.AMQPProtocol provides it)."""

    broker: Broker
    output: Output  # where the channel's frames go, in order with everyone else's
    post: Post  # how the broker's callbacks (from any thread) reach the connection
    frame_max: int
    cancel_notify: bool  # the client takes basic.cancel from the server
    error_method: tuple[int, int]  # the method that caused a connection error

    def drain_inbox(self) -> None:
        """Write what the broker decided so far (before a reply to the client's method)."""

    def close_with(self, code: int, text: str, class_id: int = 0, method_id: int = 0) -> None:
        """A connection error: connection.close goes out and the broker side closes."""

    def forget_channel(self, channel: AMQPChannel) -> None:
        """The channel is closed on both sides: its number may be opened again."""


class _Publish:
    """A basic.publish waiting for its content header and body frames."""

    __slots__ = (
        "exchange",
        "routing_key",
        "mandatory",
        "header",
        "properties",
        "size",
        "received",
        "parts",
    )

    def __init__(self, exchange: str, routing_key: str, mandatory: bool) -> None:
        self.exchange = exchange
        self.routing_key = routing_key
        self.mandatory = mandatory
        self.header: bytes | None = None
        self.properties: Properties | None = None
        self.size = 0
        self.received = 0
        self.parts: list[bytes] = []


class AMQPChannel:
    def __init__(self, connection: ChannelHost, number: int, core: Channel) -> None:
        self.connection = connection
        self.output = connection.output
        self.frame_max = connection.frame_max
        self.number = number
        self.core = core
        self.state = OPEN
        self.error_method = (0, 0)  # class and method ids of the method that failed
        self.tx: list[Callable[[], Any]] | None = None  # tx.select: work held until commit
        self._publish: _Publish | None = None
        self._consumer_tags: dict[str, bytes] = {}
        self._cost_in_output = 0  # delivery_cost of deliveries not yet written to the socket
        self._cost_written = 0  # … and of those written, whose credit is not yet returned
        core.delivery_credit = DELIVERY_CREDIT
        post = connection.post
        core.on_return = lambda returned: post(self._write_return, returned)
        core.on_confirm = lambda seq, ack, multiple: post(self._write_confirm, (seq, ack, multiple))
        core.on_close = lambda error: post(self._closed_by_broker, error)

    # --- input ------------------------------------------------------------------------------

    def on_method(self, payload: bytes) -> None:
        """A method frame's payload (at least the 4 bytes of its class and method ids)."""
        index = int.from_bytes(payload[:4], "big")
        if self.state != OPEN:
            self._while_closing(index)
            return
        if self._publish is not None:
            expected = "content header" if self._publish.header is None else "content body"
            self.connection.close_with(
                errors.UNEXPECTED_FRAME,
                f"UNEXPECTED_FRAME - expected {expected} for class 60, got non {expected} frame "
                "instead",
                index >> 16,
                index & 0xFFFF,
            )
            return
        ids = (index >> 16, index & 0xFFFF)
        try:
            if index == BASIC_PUBLISH:
                self._on_basic_publish(*decode_publish(payload))
            elif index == BASIC_ACK:
                tag, bits = decode_settle(payload)
                self._settle(self.core.basic_ack, tag, bool(bits & 1))
            elif index == BASIC_NACK:
                tag, bits = decode_settle(payload)
                self._settle(self.core.basic_nack, tag, bool(bits & 1), bool(bits & 2))
            elif index == BASIC_REJECT:
                tag, bits = decode_settle(payload)
                self._settle(self.core.basic_reject, tag, bool(bits & 1))
            else:
                method = decode_method(payload)
                handler = HANDLERS.get(index)
                if handler is None:
                    raise ProtocolError(
                        errors.COMMAND_INVALID, f"unexpected method '{method.name.lower()}'"
                    )
                handler(self, method)
        except FrameError as error:
            self.connection.close_with(errors.FRAME_ERROR, f"FRAME_ERROR - {error}", *ids)
        except UnknownMethod as error:
            self.connection.close_with(errors.COMMAND_INVALID, f"COMMAND_INVALID - {error}")
        except ProtocolError as error:
            self._fail(error, ids)
        except (ChannelClosed, ConnectionClosed):
            pass  # the broker closed it a moment ago; its close is on the way to the client
        except AMQPError as error:
            self._failed_in(error, ids)

    def _failed_in(self, error: AMQPError, ids: tuple[int, int]) -> None:
        """The broker raised (and has closed the channel or the connection): remember which
        method did it, for the close that its callback sends."""
        if error.is_channel_error:
            self.error_method = ids
        else:
            self.connection.error_method = ids

    def _fail(self, error: ProtocolError, ids: tuple[int, int]) -> None:
        """An error the listener found itself (not the broker): close the channel or connection."""
        if error.is_channel_error:
            self.error_method = ids
            if not self.core.closed:
                self.connection.broker.close_channel(self.core, error)
        else:
            self.connection.close_with(error.reply_code, error.reply_text, *ids)

    def _while_closing(self, index: int) -> None:
        """After channel.close, only close and close-ok count (AMQP 0-9-1, 1.5.2.5)."""
        if index == _CLOSE_OK and self.state == CLOSING:
            self.state = CLOSED
            self.connection.forget_channel(self)
        elif index == _CLOSE and self.state == CLOSING:
            self._send_close_ok()

    def on_content(self, frame_type: int, payload: bytes) -> bool:
        """A content header or body frame; False when none was expected here."""
        if self.state != OPEN:
            return True  # discarded while closing
        publish = self._publish
        if publish is None:
            return False
        if frame_type == FRAME_HEADER:
            return self._on_content_header(publish, payload)
        if frame_type != FRAME_BODY or publish.header is None:
            return False
        publish.parts.append(payload)
        received = publish.received = publish.received + len(payload)
        if received < publish.size:
            return True
        if received > publish.size:
            self.connection.close_with(
                errors.UNEXPECTED_FRAME,
                f"UNEXPECTED_FRAME - content body of {received} bytes, header said {publish.size}",
            )
            return True
        self._publish = None
        body = payload if len(publish.parts) == 1 else b"".join(publish.parts)
        self._publish_now(publish, body)
        return True

    def _on_content_header(self, publish: _Publish, payload: bytes) -> bool:
        if publish.header is not None:
            return False
        try:
            class_id, size, properties = decode_content_header(payload)
        except FrameError as error:
            self.connection.close_with(errors.FRAME_ERROR, f"FRAME_ERROR - {error}")
            return True
        if class_id != 60:
            return False
        publish.header, publish.properties, publish.size = payload, properties, size
        if size == 0:
            self._publish = None
            self._publish_now(publish, b"")
        return True

    # --- basic: publishing and settling -----------------------------------------------------

    def _on_basic_publish(
        self, exchange: str, routing_key: str, mandatory: bool, immediate: bool
    ) -> None:
        if immediate:
            raise ProtocolError(errors.NOT_IMPLEMENTED, "immediate=true")
        self._publish = _Publish(exchange, routing_key, mandatory)

    def _publish_now(self, publish: _Publish, body: bytes) -> None:
        properties, header = publish.properties, publish.header
        try:
            if self.tx is not None and properties is not None:
                # RabbitMQ checks a publish (and names a direct reply-to key) as it arrives,
                # and routes it at commit.
                checked = self.core.check_publish(publish.exchange, properties)
                if checked is not properties:  # rewritten: the client's header is stale
                    properties, header = checked, None
            args = (publish.exchange, publish.routing_key, body, properties, publish.mandatory)
            if self.tx is not None:
                self.tx.append(lambda: self.core.basic_publish(*args, header))
                return
            self.core.basic_publish(*args, header)
        except (ChannelClosed, ConnectionClosed):
            pass
        except AMQPError as error:
            self._failed_in(error, (60, 40))

    def _settle(self, verb: Callable[..., None], *args: Any) -> None:
        if self.tx is not None:
            self.tx.append(lambda: verb(*args))
        else:
            verb(*args)

    # --- the methods that change the channel's own state ------------------------------------

    def close_by_client(self) -> None:
        """channel.close: the broker closes its side, then close-ok goes out (_closed_by_broker)."""
        self.state = CLIENT_CLOSING
        if self.core.closed:
            self._send_close_ok()
        else:
            self.core.close()  # the broker calls on_close(None) → close-ok
            self.connection.drain_inbox()

    def consume(self, method: commands.Basic.Consume) -> None:
        connection = self.connection
        connection.drain_inbox()  # earlier output first; this consumer's deliveries after the ok
        post, write = connection.post, self._write_delivery
        tag = self.core.basic_consume(
            method.queue,
            lambda delivery: post(write, delivery),
            method.consumer_tag,
            method.no_ack,
            method.exclusive,
            method.arguments,
            on_cancel=lambda tag: post(self._write_cancel, tag),
        )
        self._consumer_tags[tag] = shortstr(tag)
        if not method.nowait:
            ok = build(commands.Basic.ConsumeOk, consumer_tag=tag)
            self.output.emit(encode_method(self.number, ok))

    def cancel(self, consumer_tag: str) -> None:
        self.core.basic_cancel(consumer_tag)
        self._consumer_tags.pop(consumer_tag, None)

    # --- output: replies and what the broker sends this channel -----------------------------

    def reply(self, cls: type, **fields: Any) -> None:
        """A synchronous reply, written after everything the broker queued before it."""
        self.connection.drain_inbox()
        self.output.emit(encode_method(self.number, build(cls, **fields)))

    def content(self, method_frame: bytes, message: Message) -> bytes:
        """A method frame with the message's header and body frames, ready for one write."""
        header = message.amqp_header
        if header is None:
            header = encode_content_header(message.properties, len(message.body))
        parts = content_frames(self.number, header, message.body, self.frame_max)
        parts.insert(0, method_frame)
        return b"".join(parts)

    def _write_delivery(self, delivery: Delivery) -> None:
        if self.state != OPEN and self.state != CLIENT_CLOSING:
            return
        message = delivery.message
        output = self.output
        tag = delivery.consumer_tag or ""
        encoded_tag = self._consumer_tags.get(tag) or shortstr(tag)
        method_frame = deliver_frame(
            self.number,
            encoded_tag,
            delivery.delivery_tag,
            delivery.redelivered,
            output.shortstr(message.exchange),
            output.shortstr(message.routing_key),
        )
        self._cost_in_output += delivery_cost(message)
        output.emit_delivery(self, self.content(method_frame, message))

    def _write_return(self, returned: Returned) -> None:
        if self.state != OPEN:
            return
        message = returned.message
        method_frame = return_frame(
            self.number,
            returned.reply_code,
            returned.reply_text,
            message.exchange,
            message.routing_key,
        )
        self.output.emit(self.content(method_frame, message))

    def _write_confirm(self, confirm: tuple[int, bool, bool]) -> None:
        if self.state == OPEN:
            self.output.emit_confirm(self.number, *confirm)

    def _write_cancel(self, tag: str) -> None:
        """The broker cancelled a consumer (its queue was deleted): tell the client."""
        self._consumer_tags.pop(tag, None)
        if self.state == OPEN and self.connection.cancel_notify:
            cancel = build(commands.Basic.Cancel, consumer_tag=tag, nowait=True)
            self.output.emit(encode_method(self.number, cancel))

    def _closed_by_broker(self, error: AMQPError | None) -> None:
        """The broker closed this channel: after a channel error, because the client asked, or
        as part of closing the whole connection (then connection.close says it all)."""
        if self.state == CLOSED or self.state == CLOSING:
            return
        self._publish = None
        if self.state == CLIENT_CLOSING:
            self._send_close_ok()
            return
        if error is None:
            if self.core.connection.closed:
                return
            error = AMQPError(errors.CONNECTION_FORCED, "channel closed by the broker")
        elif not error.is_channel_error:
            return
        self.state = CLOSING
        close = build(
            commands.Channel.Close,
            reply_code=error.reply_code,
            reply_text=error.reply_text[:255],
            class_id=self.error_method[0],
            method_id=self.error_method[1],
        )
        self.output.emit(encode_method(self.number, close))

    def _send_close_ok(self) -> None:
        self.state = CLOSED
        self.connection.forget_channel(self)
        self.output.emit(encode_method(self.number, commands.Channel.CloseOk()))

    # --- credit -----------------------------------------------------------------------------

    def output_written(self, socket_behind: bool) -> None:
        """Our deliveries went to the socket: return their credit in CREDIT_RETURN steps,
        or, if the socket is behind, once it has caught up (socket_caught_up)."""
        self._cost_written += self._cost_in_output
        self._cost_in_output = 0
        if not socket_behind and self._cost_written >= CREDIT_RETURN:
            self._return_credit()

    def socket_caught_up(self) -> None:
        if self._cost_written:
            self._return_credit()

    def _return_credit(self) -> None:
        cost, self._cost_written = self._cost_written, 0
        if not self.core.closed:
            with contextlib.suppress(AMQPError):
                self.core.grant_credit(cost)
