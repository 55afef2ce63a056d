"""QueueLab's AMQP 0-9-1 listener: real pika and aio-pika programs talk to the in-memory broker.

    from broker import Broker
    from amqp import AMQPServer

    broker = Broker()
    server = AMQPServer(broker, host="127.0.0.1", port=5672).start()
    # aio_pika.connect_robust("amqp://guest:guest@localhost/") now reaches `broker`
    server.stop()

Modules, one idea each, from the wire up:
    codec       the wire format: frames, methods, content header (no I/O)
    auth        PLAIN and AMQPLAIN logins
    handshake   the listener's settings; connection.start / tune and what start-ok, tune-ok say
    output      a connection's ordered output: confirms coalesced, deliveries batched
    methods     each channel method mapped onto the broker channel's verb
    channel     one channel: dispatch, content assembly, its output and delivery credit
    protocol    one connection as a sans-I/O state machine: bytes in, frames and events out
    events      what the protocol asks of its driver: opened, set a timer, hang up
    transport   the asyncio side of one connection: socket, cross-thread inbox, timers
    selector    the loop's selector, which polls briefly after traffic
    server      the listener thread and its asyncio loop
"""

from amqp.server import AMQPServer

__all__ = ["AMQPServer"]
