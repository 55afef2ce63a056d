"""Fixtures and helpers shared by the AMQP listener tests (`pytest_plugins = ["tests.amqp_helpers"]`).

- `amqp_broker`, `amqp_server`, `amqp_url`: a fresh Broker with a listener on an ephemeral port.
- `target`: the URL of each broker under test, QueueLab's listener and a real RabbitMQ on
  127.0.0.1:5672, for conformance tests that must see the same outcomes on both.
- `RawClient`: a socket speaking AMQP by hand, for feeding the listener bad input.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import struct
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pamqp import commands
from pamqp import frame as pamqp_frame

from amqp import AMQPServer
from broker import Broker

ROOT = Path(__file__).resolve().parent.parent

RABBITMQ_HOST = "127.0.0.1"
RABBITMQ_PORT = 5672
RABBITMQ_URL = f"amqp://guest:guest@{RABBITMQ_HOST}:{RABBITMQ_PORT}/%2F"


def unique(label: str = "t") -> str:
    """A name no other test (or earlier run on the real RabbitMQ) uses."""
    return f"ql-test-{label}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def amqp_broker() -> Iterator[Broker]:
    broker = Broker()
    yield broker
    broker.close()


@pytest.fixture
def amqp_server(amqp_broker: Broker) -> Iterator[AMQPServer]:
    server = AMQPServer(amqp_broker, port=0).start()
    yield server
    server.stop(timeout=0.2)


@pytest.fixture
def amqp_url(amqp_server: AMQPServer) -> str:
    return amqp_server.url


def _rabbitmq_reachable() -> bool:
    try:
        with socket.create_connection((RABBITMQ_HOST, RABBITMQ_PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The real RabbitMQ: skipped only when none is installed; started when installed but down;
    under CI=true an installed but unreachable RabbitMQ fails the test."""
    if _rabbitmq_reachable():
        return RABBITMQ_URL
    server = shutil.which("rabbitmq-server")
    if server is None:
        pytest.skip("RabbitMQ is not installed (no rabbitmq-server on PATH)")
    subprocess.run([server, "-detached"], check=False, capture_output=True, timeout=60)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if _rabbitmq_reachable():
            time.sleep(2)  # the port opens a little before the broker accepts logins
            return RABBITMQ_URL
        time.sleep(1)
    message = f"RabbitMQ is installed but not reachable on {RABBITMQ_HOST}:{RABBITMQ_PORT}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(params=["queuelab", "rabbitmq"])
def target(request: pytest.FixtureRequest) -> str:
    """Each broker under test in turn; conformance tests assert the same outcome on both."""
    if request.param == "queuelab":
        return request.getfixturevalue("amqp_url")
    return request.getfixturevalue("rabbitmq_url")


def pika_params(url: str, **query: object):  # noqa: ANN201
    import pika

    params = pika.URLParameters(url)
    params.heartbeat = int(query.get("heartbeat", 0))  # type: ignore[arg-type]
    params.blocked_connection_timeout = 10
    params.connection_attempts = 1
    return params


def pika_connect(url: str, **query: object):  # noqa: ANN201
    import pika

    return pika.BlockingConnection(pika_params(url, **query))


# --- raw sockets ----------------------------------------------------------------------------


class RawClient:
    """AMQP by hand: connect, log in, open channels, send any bytes, read frames back."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 3.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_method(self, channel: int, method: object) -> None:
        self.send(pamqp_frame.marshal(method, channel))

    def handshake(self, vhost: str = "/", user: str = "guest", password: str = "guest") -> None:
        self.send(b"AMQP\x00\x00\x09\x01")
        assert isinstance(self.read_frame()[1], commands.Connection.Start)
        capabilities = {"authentication_failure_close": True, "consumer_cancel_notify": True}
        self.send_method(
            0,
            commands.Connection.StartOk(
                client_properties={"capabilities": capabilities},
                mechanism="PLAIN",
                response=f"\x00{user}\x00{password}",
            ),
        )
        tune = self.read_frame()[1]
        assert isinstance(tune, commands.Connection.Tune), tune
        self.send_method(0, commands.Connection.TuneOk(2047, 131072, 0))
        self.send_method(0, commands.Connection.Open(vhost))
        opened = self.read_frame()[1]
        assert isinstance(opened, commands.Connection.OpenOk), opened

    def open_channel(self, number: int = 1) -> None:
        self.send_method(number, commands.Channel.Open())
        assert isinstance(self.read_frame()[1], commands.Channel.OpenOk)

    def read_frame(self) -> tuple[int, object]:
        """(channel, frame) for the next frame; raises EOFError when the server hung up."""
        while True:
            if len(self.buffer) >= 7:
                size = struct.unpack_from(">I", self.buffer, 3)[0]
                if len(self.buffer) >= size + 8:
                    used, channel, value = pamqp_frame.unmarshal(self.buffer)
                    self.buffer = self.buffer[used:]
                    return channel, value
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buffer += chunk

    def read_until_closed(self) -> bytes:
        """Everything the server sends until it closes the socket."""
        data = self.buffer
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk

    def expect_connection_close(self) -> commands.Connection.Close:
        """Read frames until connection.close arrives; answer close-ok."""
        while True:
            channel, value = self.read_frame()
            if isinstance(value, commands.Connection.Close):
                with contextlib.suppress(OSError):
                    self.send_method(0, commands.Connection.CloseOk())
                return value

    def close(self) -> None:
        self.sock.close()
