"""What a demo may use besides its own event loop: the app's broker, handed in.

Demos that talk to the broker take a :class:`DemoContext` argument named ``ctx``; the web app
builds one around *its* broker (there is no global broker to reach for). Demos that do not need
it leave ``ctx`` out, or make it optional, and still run under plain ``asyncio.run``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from broker.errors import AMQPError

if TYPE_CHECKING:
    from broker import Broker

log = logging.getLogger("queuelab.loop")

#: The queue the consumer-service demo consumes (and the blocking-call demo feeds).
ORDERS = "orders"


@dataclass(frozen=True)
class DemoContext:
    """The app's broker, the vhost and the queue the consumer-service demo uses."""

    broker: Broker
    vhost: str = "/"
    queue: str = ORDERS

    @contextlib.contextmanager
    def feed_orders(self, every: float) -> Iterator[None]:
        """While the ``with`` block runs, a thread of its own ("order feeder") publishes an
        order to :attr:`queue` every ``every`` seconds, as long as the queue has a consumer.

        The publishing thread never waits for the event loop: when the loop is blocked, the
        deliveries pile up (as callbacks in the loop's ready queue, then as ready messages in
        the queue once the consumer's prefetch is used up).
        """
        stop = threading.Event()
        thread = threading.Thread(
            target=self._feed, args=(every, stop), name="order feeder", daemon=True
        )
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=every + 2)

    def _feed(self, every: float, stop: threading.Event) -> None:
        try:
            connection = self.broker.connect("order feeder (blocking-call demo)", vhost=self.vhost)
        except Exception:  # the broker is closing
            return
        try:
            channel = connection.channel()
            count = 0
            while not stop.wait(every):
                try:
                    declared = channel.queue_declare(self.queue, passive=True)
                except AMQPError:  # no such queue yet: the passive declare closed the channel
                    channel = connection.channel()
                    continue
                if declared.consumer_count:
                    count += 1
                    body = f"order {count} (published while the blocking demo ran)"
                    channel.basic_publish("", self.queue, body.encode())
        except Exception:  # the broker or the connection closed under us: stop feeding
            log.debug("order feeder stopped", exc_info=True)
        finally:
            with contextlib.suppress(Exception):
                connection.close()
