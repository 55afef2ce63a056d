"""QueueLab's broker: RabbitMQ's model in memory, thread-safe, with a live event stream.

from broker import Broker
broker = Broker()
with broker.connect("me") as connection:
    channel = connection.channel()
    channel.queue_declare("hello")
    channel.basic_publish("", "hello", b"hi")
    print(channel.basic_get("hello", no_ack=True).body)
"""

from broker.clock import RealClock, VirtualClock
from broker.errors import AMQPError, ChannelClosed, ConnectionClosed
from broker.front import Broker
from broker.handles import Channel, Connection
from broker.message import Delivery, Message, Properties
from broker.results import DeclareOk, PublishResult

__all__ = [
    "AMQPError",
    "Broker",
    "Channel",
    "ChannelClosed",
    "Connection",
    "ConnectionClosed",
    "DeclareOk",
    "Delivery",
    "Message",
    "Properties",
    "PublishResult",
    "RealClock",
    "VirtualClock",
]
