"""Connections and channels: opening them, and what closing them does.

Closing a channel cancels its consumers and requeues its unacked messages (redelivered=true);
closing a connection closes its channels and deletes its exclusive queues. A channel error
closes the channel; a connection error closes the connection (fail()).
"""

from __future__ import annotations

from typing import Any

from broker import errors
from broker.actions import CloseChannel, CloseConnection
from broker.errors import AMQPError, ConnectionClosed
from broker.state import BrokerState, ChannelState, ConnectionState
from broker.translatable import N_, phrase
from broker.verbs.dispatch import dispatch
from broker.verbs.settle import requeue_all
from broker.verbs.teardown import delete_queue, remove_consumer


def connect(
    s: BrokerState,
    name: str,
    vhost: str,
    user: str,
    kind: str,
    client_properties: dict[str, Any] | None,
) -> ConnectionState:
    if vhost not in s.vhosts:
        raise AMQPError(
            errors.NOT_ALLOWED,
            f"vhost {vhost} not found",
            N_("connect to '/' or create the vhost first"),
        )
    connection = ConnectionState(name, vhost, user, kind, client_properties, s.clock.now())
    s.connections[connection.id] = connection
    s.emit("connection.opened", vhost=vhost, connection=connection.name, user=user, kind=kind)
    return connection


def open_channel(s: BrokerState, connection: ConnectionState, number: int | None) -> ChannelState:
    if connection.closed:
        raise ConnectionClosed(connection.close_reason or "connection is closed")
    number = number or connection.allocate_channel_number()
    if number in connection.channels:
        raise AMQPError(
            errors.CHANNEL_ERROR,
            f"second 'channel.open' seen on channel {number}",
            N_("open each channel number once"),
        )
    channel = connection.channels[number] = ChannelState(connection, number)
    s.emit("channel.opened", vhost=connection.vhost, connection=connection.name, channel=number)
    return channel


def close_channel(s: BrokerState, channel: ChannelState, error: AMQPError | None) -> None:
    if channel.closed:
        return
    channel.closed = True
    channel.close_error = error
    # Single-active-consumer queues hand over to their next consumer once this channel's
    # consumers are all gone and its unacked messages are back in place.
    handed_over = {c.queue for c in channel.consumers.values() if c.queue.single_active}
    for consumer in list(channel.consumers.values()):
        remove_consumer(s, consumer)
    s.direct_reply_to.forget(channel)
    requeue_all(s, channel)
    for queue in handed_over:
        if not queue.deleted:
            dispatch(s, queue)
    channel.connection.channels.pop(channel.number, None)
    if channel.on_close is not None:
        s.act(CloseChannel(channel.on_close, error))
    s.emit(
        "channel.closed",
        vhost=channel.connection.vhost,
        connection=channel.connection.name,
        channel=channel.number,
        reason=error.reply_text if error else phrase(N_("closed by client")),
        reply_code=error.reply_code if error else 200,
    )


# The reasons a connection closes with that are the broker's own words (Connection.close()'s and
# the AMQP door's): said in the reader's language. Any other (a reply text of RabbitMQ's, a
# reason a program gave) is shown as it was given.
_OWN_REASONS = {text: phrase(text) for text in (N_("closed by client"), N_("closed"))}


def close_connection(
    s: BrokerState, connection: ConnectionState, reason: str, error: AMQPError | None = None
) -> None:
    if connection.closed:
        return
    for channel in list(connection.channels.values()):
        close_channel(s, channel, error)
    connection.closed = True
    reason = _OWN_REASONS.get(reason, reason)
    connection.close_reason = reason
    vhost = s.vhosts[connection.vhost]
    for queue in [q for q in vhost.queues.values() if q.owner is connection]:
        delete_queue(s, queue, phrase(N_("its exclusive owner connection closed")))
    s.connections.pop(connection.id, None)
    if connection.on_close is not None:
        s.act(CloseConnection(connection.on_close, reason, error))
    s.emit("connection.closed", vhost=connection.vhost, connection=connection.name, reason=reason)


def fail(s: BrokerState, channel: ChannelState, error: AMQPError) -> None:
    """A channel error closes the channel; a connection error closes the connection."""
    if error.is_channel_error:
        close_channel(s, channel, error)
    else:
        close_connection(s, channel.connection, error.reply_text, error)
