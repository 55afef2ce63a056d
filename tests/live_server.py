"""A real QueueLab web server on an ephemeral port, in a background thread, for tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server

import web
from app import create_app
from broker import Broker


class LiveServer:
    def __init__(self, broker: Broker, config: dict[str, Any] | None = None) -> None:
        self.broker = broker
        self.app = create_app({"BROKER": broker, **(config or {})})
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        web.shutdown(self.app)
        self._server.shutdown()
        self._thread.join(timeout=10)


@contextmanager
def live_server(broker: Broker | None = None, **config: Any) -> Iterator[LiveServer]:
    """Serve a fresh broker (or the given one) until the block ends."""
    own = broker is None
    broker = broker or Broker()
    server = LiveServer(broker, config).start()
    try:
        yield server
    finally:
        server.stop()
        if own:
            broker.close()
