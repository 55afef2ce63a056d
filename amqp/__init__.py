"""QueueLab's AMQP 0-9-1 listener: real pika and aio-pika programs talk to the in-memory broker.

    from broker import Broker
    from amqp import AMQPServer

    broker = Broker()
    server = AMQPServer(broker, host="127.0.0.1", port=5672).start()
    # aio_pika.connect_robust("amqp://guest:guest@localhost/") now reaches `broker`
    server.stop()

Modules, one idea each:
    codec       the wire format: frames, methods, content header (no I/O)
    auth        PLAIN and AMQPLAIN logins
    connection  one TCP connection: handshake, frames, heartbeats, ordered output
    channel     one channel: each AMQP method mapped onto the broker channel's verb
    server      the listener thread and its asyncio loop
"""

from amqp.server import AMQPServer

__all__ = ["AMQPServer"]
