"""One AMQP channel: each method the client sends, mapped onto the broker channel's verb.

The handlers are named after the methods (`on_queue_declare` for queue.declare), and each is a
thin call into `broker.Channel`, which holds the semantics and raises RabbitMQ's errors.
When a verb raises, the broker has already closed the channel (or the connection) in its own
state and calls back `on_close`; that callback, queued behind everything the broker sent before,
is what sends channel.close with RabbitMQ's reply code and text.

Content (basic.publish's header and body frames) is assembled here; the raw content header goes
to the broker with the message so that deliveries forward it byte for byte.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

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
    get_ok_frame,
    return_frame,
    shortstr,
)
from broker import errors
from broker.errors import AMQPError, ChannelClosed, ConnectionClosed
from broker.message import Delivery, Message, Properties
from broker.state import delivery_cost

if TYPE_CHECKING:
    from amqp.connection import AMQPConnection
    from broker import Channel
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


class ProtocolError(AMQPError):
    """An error the listener itself finds (the broker core never saw the method)."""


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
    def __init__(self, connection: AMQPConnection, number: int, core: Channel) -> None:
        self.connection = connection
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
        if len(payload) < 4:
            self.connection.frame_error(f"cannot decode {payload!r}")
            return
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
                self.on_basic_publish(*decode_publish(payload))
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
            self.connection.fail(error, self, ids)
        except (ChannelClosed, ConnectionClosed):
            pass  # the broker closed it a moment ago; its close is on the way to the client
        except AMQPError as error:
            # The broker has closed the channel or connection; remember which method did it.
            if error.is_channel_error:
                self.error_method = ids
            else:
                self.connection.error_method = ids

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

    # --- basic: publishing and settling -----------------------------------------------------

    def on_basic_publish(
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
            if error.is_channel_error:
                self.error_method = (60, 40)
            else:
                self.connection.error_method = (60, 40)

    def _settle(self, verb: Callable[..., None], *args: Any) -> None:
        if self.tx is not None:
            self.tx.append(lambda: verb(*args))
        else:
            verb(*args)

    # --- channel ----------------------------------------------------------------------------

    def on_channel_close(self, method: commands.Channel.Close) -> None:
        self.state = CLIENT_CLOSING
        if self.core.closed:
            self._send_close_ok()
        else:
            self.core.close()  # the broker calls on_close(None) → close-ok
            self.connection.drain_inbox()

    def on_channel_close_ok(self, method: commands.Channel.CloseOk) -> None:
        pass  # only meaningful while closing (see _while_closing)

    def on_channel_flow(self, method: commands.Channel.Flow) -> None:
        if not method.active:  # RabbitMQ 3.x answers the same: clients cannot pause it
            raise ProtocolError(errors.NOT_IMPLEMENTED, "active=false")
        self._reply(commands.Channel.FlowOk, active=True)

    def on_channel_flow_ok(self, method: commands.Channel.FlowOk) -> None:
        pass

    def on_channel_open(self, method: commands.Channel.Open) -> None:
        raise ProtocolError(errors.CHANNEL_ERROR, "second 'channel.open' seen")

    # --- exchange ---------------------------------------------------------------------------

    def on_exchange_declare(self, method: commands.Exchange.Declare) -> None:
        self.core.exchange_declare(
            method.exchange,
            method.exchange_type,
            method.passive,
            method.durable,
            method.auto_delete,
            method.internal,
            method.arguments,
        )
        if not method.nowait:
            self._reply(commands.Exchange.DeclareOk)

    def on_exchange_delete(self, method: commands.Exchange.Delete) -> None:
        self.core.exchange_delete(method.exchange, method.if_unused)
        if not method.nowait:
            self._reply(commands.Exchange.DeleteOk)

    def on_exchange_bind(self, method: commands.Exchange.Bind) -> None:
        self.core.exchange_bind(
            method.destination, method.source, method.routing_key, method.arguments
        )
        if not method.nowait:
            self._reply(commands.Exchange.BindOk)

    def on_exchange_unbind(self, method: commands.Exchange.Unbind) -> None:
        self.core.exchange_unbind(
            method.destination, method.source, method.routing_key, method.arguments
        )
        if not method.nowait:
            self._reply(commands.Exchange.UnbindOk)

    # --- queue ------------------------------------------------------------------------------

    def on_queue_declare(self, method: commands.Queue.Declare) -> None:
        ok = self.core.queue_declare(
            method.queue,
            method.passive,
            method.durable,
            method.exclusive,
            method.auto_delete,
            method.arguments,
        )
        if not method.nowait:
            self._reply(
                commands.Queue.DeclareOk,
                queue=ok.queue,
                message_count=ok.message_count,
                consumer_count=ok.consumer_count,
            )

    def on_queue_bind(self, method: commands.Queue.Bind) -> None:
        self.core.queue_bind(method.queue, method.exchange, method.routing_key, method.arguments)
        if not method.nowait:
            self._reply(commands.Queue.BindOk)

    def on_queue_unbind(self, method: commands.Queue.Unbind) -> None:
        self.core.queue_unbind(method.queue, method.exchange, method.routing_key, method.arguments)
        self._reply(commands.Queue.UnbindOk)

    def on_queue_purge(self, method: commands.Queue.Purge) -> None:
        count = self.core.queue_purge(method.queue)
        if not method.nowait:
            self._reply(commands.Queue.PurgeOk, message_count=count)

    def on_queue_delete(self, method: commands.Queue.Delete) -> None:
        count = self.core.queue_delete(method.queue, method.if_unused, method.if_empty)
        if not method.nowait:
            self._reply(commands.Queue.DeleteOk, message_count=count)

    # --- basic ------------------------------------------------------------------------------

    def on_basic_qos(self, method: commands.Basic.Qos) -> None:
        if method.prefetch_size:
            raise ProtocolError(
                errors.NOT_IMPLEMENTED, f"prefetch_size!=0 ({method.prefetch_size})"
            )
        self.core.basic_qos(method.prefetch_count, method.global_)
        self._reply(commands.Basic.QosOk)

    def on_basic_consume(self, method: commands.Basic.Consume) -> None:
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
            connection.emit(encode_method(self.number, ok))

    def on_basic_cancel(self, method: commands.Basic.Cancel) -> None:
        self.core.basic_cancel(method.consumer_tag)
        self._consumer_tags.pop(method.consumer_tag, None)
        if not method.nowait:
            self._reply(commands.Basic.CancelOk, consumer_tag=method.consumer_tag)

    def on_basic_get(self, method: commands.Basic.Get) -> None:
        delivery = self.core.basic_get(method.queue, method.no_ack)
        if delivery is None:
            self._reply(commands.Basic.GetEmpty, cluster_id="")
            return
        self.connection.drain_inbox()
        message = delivery.message
        get_ok = get_ok_frame(
            self.number,
            delivery.delivery_tag,
            delivery.redelivered,
            message.exchange,
            message.routing_key,
            delivery.message_count or 0,
        )
        self.connection.emit(self._content(get_ok, message))

    def on_basic_recover(self, method: commands.Basic.Recover) -> None:
        self.core.basic_recover(method.requeue)
        self._reply(commands.Basic.RecoverOk)

    def on_basic_recover_async(self, method: commands.Basic.RecoverAsync) -> None:
        self.core.basic_recover(method.requeue)

    # --- confirm and tx ---------------------------------------------------------------------

    def on_confirm_select(self, method: commands.Confirm.Select) -> None:
        if self.tx is not None:
            raise ProtocolError(errors.PRECONDITION_FAILED, "cannot switch from tx to confirm mode")
        self.core.confirm_select()
        if not method.nowait:
            self._reply(commands.Confirm.SelectOk)

    def on_tx_select(self, method: commands.Tx.Select) -> None:
        if self.core.confirm_mode:
            raise ProtocolError(errors.PRECONDITION_FAILED, "cannot switch from confirm to tx mode")
        if self.tx is None:
            self.tx = []
        self._reply(commands.Tx.SelectOk)

    def on_tx_commit(self, method: commands.Tx.Commit) -> None:
        if self.tx is None:
            raise ProtocolError(errors.PRECONDITION_FAILED, "channel is not transactional")
        work, self.tx = self.tx, []
        for step in work:
            step()
        self._reply(commands.Tx.CommitOk)

    def on_tx_rollback(self, method: commands.Tx.Rollback) -> None:
        if self.tx is None:
            raise ProtocolError(errors.PRECONDITION_FAILED, "channel is not transactional")
        self.tx = []
        self._reply(commands.Tx.RollbackOk)

    # --- output: what the broker sends this channel -----------------------------------------

    def _reply(self, cls: type, **fields: Any) -> None:
        """A synchronous reply, written after everything the broker queued before it."""
        connection = self.connection
        connection.drain_inbox()
        connection.emit(encode_method(self.number, build(cls, **fields)))

    def _content(self, method_frame: bytes, message: Message) -> bytes:
        """A method frame with the message's header and body frames, ready for one write."""
        header = message.amqp_header
        if header is None:
            header = encode_content_header(message.properties, len(message.body))
        parts = content_frames(self.number, header, message.body, self.connection.frame_max)
        parts.insert(0, method_frame)
        return b"".join(parts)

    def _write_delivery(self, delivery: Delivery) -> None:
        if self.state != OPEN and self.state != CLIENT_CLOSING:
            return
        message = delivery.message
        connection = self.connection
        tag = delivery.consumer_tag or ""
        encoded_tag = self._consumer_tags.get(tag) or shortstr(tag)
        method_frame = deliver_frame(
            self.number,
            encoded_tag,
            delivery.delivery_tag,
            delivery.redelivered,
            connection.shortstr(message.exchange),
            connection.shortstr(message.routing_key),
        )
        self._cost_in_output += delivery_cost(message)
        connection.emit_delivery(self, self._content(method_frame, message))

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
        self.connection.emit(self._content(method_frame, message))

    def _write_confirm(self, confirm: tuple[int, bool, bool]) -> None:
        if self.state == OPEN:
            self.connection.emit_confirm(self.number, *confirm)

    def _write_cancel(self, tag: str) -> None:
        """The broker cancelled a consumer (its queue was deleted): tell the client."""
        self._consumer_tags.pop(tag, None)
        if self.state == OPEN and self.connection.cancel_notify:
            cancel = build(commands.Basic.Cancel, consumer_tag=tag, nowait=True)
            self.connection.emit(encode_method(self.number, cancel))

    def _closed_by_broker(self, error: AMQPError | None) -> None:
        """The broker closed this channel: after a channel error, because the client asked, or
        as part of closing the whole connection (then connection.close says it all)."""
        if self.state == CLOSED or self.state == CLOSING:
            return
        self._publish = None
        if self.state == CLIENT_CLOSING:
            self._send_close_ok()
            return
        connection = self.connection
        if error is None:
            if connection.core is None or connection.core.closed:
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
        connection.emit(encode_method(self.number, close))

    def _send_close_ok(self) -> None:
        self.state = CLOSED
        self.connection.forget_channel(self)
        self.connection.emit(encode_method(self.number, commands.Channel.CloseOk()))

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


HANDLERS: dict[int, Callable[[AMQPChannel, Any], None]] = {
    commands.Channel.Open.index: AMQPChannel.on_channel_open,
    commands.Channel.Flow.index: AMQPChannel.on_channel_flow,
    commands.Channel.FlowOk.index: AMQPChannel.on_channel_flow_ok,
    commands.Channel.Close.index: AMQPChannel.on_channel_close,
    commands.Channel.CloseOk.index: AMQPChannel.on_channel_close_ok,
    commands.Exchange.Declare.index: AMQPChannel.on_exchange_declare,
    commands.Exchange.Delete.index: AMQPChannel.on_exchange_delete,
    commands.Exchange.Bind.index: AMQPChannel.on_exchange_bind,
    commands.Exchange.Unbind.index: AMQPChannel.on_exchange_unbind,
    commands.Queue.Declare.index: AMQPChannel.on_queue_declare,
    commands.Queue.Bind.index: AMQPChannel.on_queue_bind,
    commands.Queue.Unbind.index: AMQPChannel.on_queue_unbind,
    commands.Queue.Purge.index: AMQPChannel.on_queue_purge,
    commands.Queue.Delete.index: AMQPChannel.on_queue_delete,
    commands.Basic.Qos.index: AMQPChannel.on_basic_qos,
    commands.Basic.Consume.index: AMQPChannel.on_basic_consume,
    commands.Basic.Cancel.index: AMQPChannel.on_basic_cancel,
    commands.Basic.Get.index: AMQPChannel.on_basic_get,
    commands.Basic.Recover.index: AMQPChannel.on_basic_recover,
    commands.Basic.RecoverAsync.index: AMQPChannel.on_basic_recover_async,
    commands.Confirm.Select.index: AMQPChannel.on_confirm_select,
    commands.Tx.Select.index: AMQPChannel.on_tx_select,
    commands.Tx.Commit.index: AMQPChannel.on_tx_commit,
    commands.Tx.Rollback.index: AMQPChannel.on_tx_rollback,
}
