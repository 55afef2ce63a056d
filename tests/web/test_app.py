"""The app as `python app.py` runs it: web and AMQP ports, a real client, a clean shutdown."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pika
import pytest
from simple_websocket import Client, ConnectionClosed

import app as app_module
from broker import Broker

ROOT = Path(__file__).resolve().parents[2]


class RunningApp:
    """`python app.py …` in a subprocess, with the URLs it printed."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.web_url = self.amqp_url = None
        reader = threading.Thread(target=self._read, daemon=True)
        reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match.group(1)
            if self.process.poll() is not None and not self.lines:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in output:\n{''.join(self.lines)}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


@pytest.mark.timeout(90)
def test_run_command_serves_web_and_amqp_then_shuts_down_cleanly():
    running = RunningApp("--in-memory", "--port", "0", "--amqp-port", "0")
    try:
        amqp_url = running.wait_for(r"QueueLab AMQP:\s+(amqp://\S+)")
        web_url = running.wait_for(r"Running on (http://127\.0\.0\.1:\d+)")
        with urllib.request.urlopen(web_url + "/") as response:
            assert response.status == 200
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        channel = connection.channel()
        channel.queue_declare("hello")
        channel.confirm_delivery()  # so the publish is done before we look at it over HTTP
        channel.basic_publish("", "hello", b"from pika")
        with urllib.request.urlopen(web_url + "/api/queues/%2F/hello") as response:
            queue = json.load(response)
        assert queue["messages_ready"] == 1, "the web side sees what the AMQP client sent"
        page = Client.connect(web_url.replace("http", "ws") + "/ws/live?vhost=%2F")
        assert json.loads(page.receive(timeout=10))["type"] == "snapshot"
        assert running.stop() == 0
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(100):  # batches may still arrive before the close frame
                page.receive(timeout=10)
        assert closed.value.reason == 1001, "a page is told the server is going away"
        with pytest.raises(pika.exceptions.AMQPError):
            connection.process_data_events(time_limit=2)
            channel.queue_declare("hello", passive=True)
    finally:
        running.stop()


@pytest.mark.timeout(60)
def test_an_explicit_amqp_port_that_is_taken_is_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        running = RunningApp("--in-memory", "--port", "0", "--amqp-port", str(port))
        assert running.process.wait(timeout=30) != 0
        output = "".join(running.lines)
        assert f"cannot listen for AMQP on 127.0.0.1:{port}" in output


def test_a_taken_default_amqp_port_moves_to_the_next_free_one(monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr(app_module, "DEFAULT_AMQP_PORT", port)
        args = app_module.parse_args(["--amqp-user", "teacher:secret"])
        broker = Broker()
        server = app_module.start_amqp(broker, args)
        try:
            assert server.port > port
            assert server.url.startswith("amqp://teacher:secret@127.0.0.1:")
        finally:
            server.stop()
            broker.close()


def test_classroom_mode_prints_the_address_students_open():
    urls = app_module.classroom_urls("0.0.0.0", 15672)
    assert urls[0] == "http://127.0.0.1:15672/"
    assert all(url.startswith("http://") for url in urls)


def test_bad_amqp_user_option_is_refused():
    with pytest.raises(SystemExit, match="USER:PASSWORD"):
        app_module.parse_users(["nocolon"])


@pytest.mark.timeout(60)
def test_debug_mode_under_the_reloader_serves_one_port_and_binds_amqp_once():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    running = RunningApp("--debug", "--in-memory", "--port", str(port), "--amqp-port", "0")
    try:
        assert running.wait_for(r"QueueLab web UI: (http://\S+)") == f"http://127.0.0.1:{port}/"
        amqp_url = running.wait_for(r"QueueLab AMQP:\s+(amqp://\S+)")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/overview") as response:
            assert response.status == 200
        pika.BlockingConnection(pika.URLParameters(amqp_url)).close()
        printed = [line for line in running.lines if "QueueLab AMQP:" in line]
        assert len(printed) == 1, "only the serving process starts the listener"
    finally:
        running.process.send_signal(signal.SIGINT)
        running.process.wait(timeout=20)
