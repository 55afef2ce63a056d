"""The listener: a TCP server speaking AMQP 0-9-1 to real clients (pika, aio-pika, …).

    from broker import Broker
    from amqp import AMQPServer

    server = AMQPServer(Broker(), port=0).start()   # port 0: any free port
    print(server.url)                                # amqp://guest:guest@127.0.0.1:40123/
    ...
    server.stop()                                    # clients get 320 CONNECTION_FORCED

The server runs its own asyncio event loop in one background thread; every connection is an
`AMQPTransport` on that loop around a sans-I/O `AMQPProtocol`. The loop's selector polls briefly
after traffic before it sleeps (`selector.py`, for round trips such as publisher confirms). The
broker stays the single source of truth: the listener only turns frames into calls on the
broker's channels and the broker's callbacks into frames.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
import time
from typing import Any
from urllib.parse import quote

from amqp.handshake import Settings
from amqp.selector import SpinThenSleepSelector
from amqp.transport import AMQPTransport
from broker import Broker

log = logging.getLogger("queuelab.amqp")


class AMQPServer:
    """An AMQP 0-9-1 listener in front of a `Broker`.

    `users` maps user names to passwords (PLAIN and AMQPLAIN logins); `heartbeat` is the interval
    proposed to clients in connection.tune (the client's answer in tune-ok wins, 0 turns it off).
    """

    def __init__(
        self,
        broker: Broker,
        host: str = "127.0.0.1",
        port: int = 5672,
        users: dict[str, str] | None = None,
        *,
        heartbeat: int = 60,
        frame_max: int = 131072,
        channel_max: int = 2047,
    ) -> None:
        self.broker = broker
        self.host = host
        self.requested_port = port
        self.settings = Settings(
            users=dict(users) if users is not None else {"guest": "guest"},
            heartbeat=heartbeat,
            frame_max=frame_max,
            channel_max=channel_max,
        )
        self.connections: set[AMQPTransport] = set()
        self.loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        self.loop_thread_id = 0
        self._port = 0
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # --- what the app and tests read --------------------------------------------------------

    @property
    def port(self) -> int:
        """The port actually bound (useful after asking for port 0)."""
        return self._port

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._server is not None

    @property
    def url(self) -> str:
        """amqp://user:password@host:port/ for the first configured user."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        if ":" in host:
            host = f"[{host}]"
        credentials = ""
        if self.settings.users:
            user, password = next(iter(self.settings.users.items()))
            credentials = f"{quote(user, safe='')}:{quote(password, safe='')}@"
        return f"amqp://{credentials}{host}:{self.port}/"

    def info(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "url": self.url,
            "connections": len(self.connections),
            "running": self.running,
        }

    # --- starting and stopping --------------------------------------------------------------

    def start(self, port_attempts: int = 1) -> AMQPServer:
        """Bind and serve in a background thread; returns once listening.

        With `port_attempts` > 1, a taken port makes it try the next ones (5672, 5673, …), which
        is what the app wants when a real RabbitMQ already holds 5672. Raises OSError when no
        port could be bound."""
        if self._thread is not None:
            raise RuntimeError("AMQPServer.start() called twice")
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(
            target=self._run, args=(port_attempts,), name="queuelab-amqp", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error
        log.info("AMQP listener on %s", self.url)
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Send connection.close (320 CONNECTION_FORCED) to every client, wait up to `timeout`
        for their close-ok, then drop what is left and stop the thread. The broker stays."""
        thread = self._thread
        if thread is None:
            return
        if thread.is_alive():
            future = asyncio.run_coroutine_threadsafe(self._shutdown(timeout), self.loop)
            try:
                future.result(timeout + 5)
            except Exception:
                log.exception("AMQP listener: error while stopping")
            self.loop.call_soon_threadsafe(self.loop.stop)
            thread.join(timeout + 5)
        self._thread = None
        self._server = None

    def __enter__(self) -> AMQPServer:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the loop thread --------------------------------------------------------------------

    def _run(self, port_attempts: int) -> None:
        loop = self.loop = asyncio.SelectorEventLoop(SpinThenSleepSelector())
        self.loop_thread_id = threading.get_ident()
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(self._bind(port_attempts))
            self._port = self._server.sockets[0].getsockname()[1]
        except BaseException as error:
            self._error = error
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            for connection in list(self.connections):
                connection.abort()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    async def _bind(self, port_attempts: int) -> asyncio.base_events.Server:
        port = self.requested_port
        for attempt in range(max(1, port_attempts)):
            try:
                return await self.loop.create_server(
                    lambda: AMQPTransport(self),
                    self.host,
                    port + attempt if port else 0,
                    reuse_address=True,
                    backlog=128,
                )
            except OSError as error:
                last = attempt == max(1, port_attempts) - 1
                if error.errno != errno.EADDRINUSE or last or not port:
                    raise
        raise AssertionError("unreachable")

    async def _shutdown(self, timeout: float) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.shut_down()
        deadline = time.monotonic() + timeout
        while self.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for connection in list(self.connections):
            connection.abort()
        await asyncio.sleep(0)
