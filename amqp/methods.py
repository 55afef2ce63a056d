"""Each AMQP method a client sends on a channel, mapped onto the broker channel's verb.

One function per method, named after it (`on_queue_declare` for queue.declare), the way pamqp
has one class per method: read the spec and this file side by side. Each is a thin call into
`broker.Channel`, which holds the semantics and raises RabbitMQ's errors, followed by the reply.
`HANDLERS` maps a method's index (class << 16 | method) to its function; the channel looks
methods up there, except basic.publish, ack, nack and reject, which it decodes itself because
they come with every message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pamqp import commands

from amqp.codec import get_ok_frame
from broker import errors
from broker.errors import AMQPError

if TYPE_CHECKING:
    from amqp.channel import AMQPChannel


class ProtocolError(AMQPError):
    """An error the listener itself finds (the broker core never saw the method)."""


# --- channel ----------------------------------------------------------------------------------


def on_channel_open(channel: AMQPChannel, method: commands.Channel.Open) -> None:
    raise ProtocolError(errors.CHANNEL_ERROR, "second 'channel.open' seen")


def on_channel_flow(channel: AMQPChannel, method: commands.Channel.Flow) -> None:
    if not method.active:  # RabbitMQ 3.x answers the same: clients cannot pause it
        raise ProtocolError(errors.NOT_IMPLEMENTED, "active=false")
    channel.reply(commands.Channel.FlowOk, active=True)


def on_channel_flow_ok(channel: AMQPChannel, method: commands.Channel.FlowOk) -> None:
    pass


def on_channel_close(channel: AMQPChannel, method: commands.Channel.Close) -> None:
    channel.close_by_client()


def on_channel_close_ok(channel: AMQPChannel, method: commands.Channel.CloseOk) -> None:
    pass  # only meaningful while closing (see AMQPChannel._while_closing)


# --- exchange ---------------------------------------------------------------------------------


def on_exchange_declare(channel: AMQPChannel, method: commands.Exchange.Declare) -> None:
    channel.core.exchange_declare(
        method.exchange,
        method.exchange_type,
        method.passive,
        method.durable,
        method.auto_delete,
        method.internal,
        method.arguments,
    )
    if not method.nowait:
        channel.reply(commands.Exchange.DeclareOk)


def on_exchange_delete(channel: AMQPChannel, method: commands.Exchange.Delete) -> None:
    channel.core.exchange_delete(method.exchange, method.if_unused)
    if not method.nowait:
        channel.reply(commands.Exchange.DeleteOk)


def on_exchange_bind(channel: AMQPChannel, method: commands.Exchange.Bind) -> None:
    channel.core.exchange_bind(
        method.destination, method.source, method.routing_key, method.arguments
    )
    if not method.nowait:
        channel.reply(commands.Exchange.BindOk)


def on_exchange_unbind(channel: AMQPChannel, method: commands.Exchange.Unbind) -> None:
    channel.core.exchange_unbind(
        method.destination, method.source, method.routing_key, method.arguments
    )
    if not method.nowait:
        channel.reply(commands.Exchange.UnbindOk)


# --- queue ------------------------------------------------------------------------------------


def on_queue_declare(channel: AMQPChannel, method: commands.Queue.Declare) -> None:
    ok = channel.core.queue_declare(
        method.queue,
        method.passive,
        method.durable,
        method.exclusive,
        method.auto_delete,
        method.arguments,
    )
    if not method.nowait:
        channel.reply(
            commands.Queue.DeclareOk,
            queue=ok.queue,
            message_count=ok.message_count,
            consumer_count=ok.consumer_count,
        )


def on_queue_bind(channel: AMQPChannel, method: commands.Queue.Bind) -> None:
    channel.core.queue_bind(method.queue, method.exchange, method.routing_key, method.arguments)
    if not method.nowait:
        channel.reply(commands.Queue.BindOk)


def on_queue_unbind(channel: AMQPChannel, method: commands.Queue.Unbind) -> None:
    channel.core.queue_unbind(method.queue, method.exchange, method.routing_key, method.arguments)
    channel.reply(commands.Queue.UnbindOk)


def on_queue_purge(channel: AMQPChannel, method: commands.Queue.Purge) -> None:
    count = channel.core.queue_purge(method.queue)
    if not method.nowait:
        channel.reply(commands.Queue.PurgeOk, message_count=count)


def on_queue_delete(channel: AMQPChannel, method: commands.Queue.Delete) -> None:
    count = channel.core.queue_delete(method.queue, method.if_unused, method.if_empty)
    if not method.nowait:
        channel.reply(commands.Queue.DeleteOk, message_count=count)


# --- basic ------------------------------------------------------------------------------------


def on_basic_qos(channel: AMQPChannel, method: commands.Basic.Qos) -> None:
    if method.prefetch_size:
        raise ProtocolError(errors.NOT_IMPLEMENTED, f"prefetch_size!=0 ({method.prefetch_size})")
    channel.core.basic_qos(method.prefetch_count, method.global_)
    channel.reply(commands.Basic.QosOk)


def on_basic_consume(channel: AMQPChannel, method: commands.Basic.Consume) -> None:
    channel.consume(method)


def on_basic_cancel(channel: AMQPChannel, method: commands.Basic.Cancel) -> None:
    channel.cancel(method.consumer_tag)
    if not method.nowait:
        channel.reply(commands.Basic.CancelOk, consumer_tag=method.consumer_tag)


def on_basic_get(channel: AMQPChannel, method: commands.Basic.Get) -> None:
    delivery = channel.core.basic_get(method.queue, method.no_ack)
    if delivery is None:
        channel.reply(commands.Basic.GetEmpty, cluster_id="")
        return
    channel.connection.drain_inbox()
    message = delivery.message
    get_ok = get_ok_frame(
        channel.number,
        delivery.delivery_tag,
        delivery.redelivered,
        message.exchange,
        message.routing_key,
        delivery.message_count or 0,
    )
    channel.output.emit(channel.content(get_ok, message))


def on_basic_recover(channel: AMQPChannel, method: commands.Basic.Recover) -> None:
    channel.core.basic_recover(method.requeue)
    channel.reply(commands.Basic.RecoverOk)


def on_basic_recover_async(channel: AMQPChannel, method: commands.Basic.RecoverAsync) -> None:
    channel.core.basic_recover(method.requeue)


# --- confirm and tx ---------------------------------------------------------------------------


def on_confirm_select(channel: AMQPChannel, method: commands.Confirm.Select) -> None:
    if channel.tx is not None:
        raise ProtocolError(errors.PRECONDITION_FAILED, "cannot switch from tx to confirm mode")
    channel.core.confirm_select()
    if not method.nowait:
        channel.reply(commands.Confirm.SelectOk)


def on_tx_select(channel: AMQPChannel, method: commands.Tx.Select) -> None:
    if channel.core.confirm_mode:
        raise ProtocolError(errors.PRECONDITION_FAILED, "cannot switch from confirm to tx mode")
    if channel.tx is None:
        channel.tx = []
    channel.reply(commands.Tx.SelectOk)


def on_tx_commit(channel: AMQPChannel, method: commands.Tx.Commit) -> None:
    if channel.tx is None:
        raise ProtocolError(errors.PRECONDITION_FAILED, "channel is not transactional")
    work, channel.tx = channel.tx, []
    for step in work:
        step()
    channel.reply(commands.Tx.CommitOk)


def on_tx_rollback(channel: AMQPChannel, method: commands.Tx.Rollback) -> None:
    if channel.tx is None:
        raise ProtocolError(errors.PRECONDITION_FAILED, "channel is not transactional")
    channel.tx = []
    channel.reply(commands.Tx.RollbackOk)


HANDLERS: dict[int, Callable[[AMQPChannel, Any], None]] = {
    commands.Channel.Open.index: on_channel_open,
    commands.Channel.Flow.index: on_channel_flow,
    commands.Channel.FlowOk.index: on_channel_flow_ok,
    commands.Channel.Close.index: on_channel_close,
    commands.Channel.CloseOk.index: on_channel_close_ok,
    commands.Exchange.Declare.index: on_exchange_declare,
    commands.Exchange.Delete.index: on_exchange_delete,
    commands.Exchange.Bind.index: on_exchange_bind,
    commands.Exchange.Unbind.index: on_exchange_unbind,
    commands.Queue.Declare.index: on_queue_declare,
    commands.Queue.Bind.index: on_queue_bind,
    commands.Queue.Unbind.index: on_queue_unbind,
    commands.Queue.Purge.index: on_queue_purge,
    commands.Queue.Delete.index: on_queue_delete,
    commands.Basic.Qos.index: on_basic_qos,
    commands.Basic.Consume.index: on_basic_consume,
    commands.Basic.Cancel.index: on_basic_cancel,
    commands.Basic.Get.index: on_basic_get,
    commands.Basic.Recover.index: on_basic_recover,
    commands.Basic.RecoverAsync.index: on_basic_recover_async,
    commands.Confirm.Select.index: on_confirm_select,
    commands.Tx.Select.index: on_tx_select,
    commands.Tx.Commit.index: on_tx_commit,
    commands.Tx.Rollback.index: on_tx_rollback,
}
