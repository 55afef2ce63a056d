"""The run command's data directory: durable topology survives kill -9; a bad store stops it."""

from __future__ import annotations

import json
import signal
import urllib.request
from pathlib import Path

import pytest

from broker.store.schema import FILE_NAME
from tests.web.test_app import RunningApp


def put(url: str, body: dict) -> int:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="PUT"
    )
    with urllib.request.urlopen(request) as response:
        return response.status


def queue_names(web_url: str) -> list[str]:
    with urllib.request.urlopen(web_url + "/api/queues/%2F") as response:
        return sorted(queue["name"] for queue in json.load(response))


@pytest.mark.timeout(90)
def test_a_durable_queue_survives_sigkill(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    running = RunningApp("--data-dir", str(data_dir), "--port", "0", "--no-amqp")
    try:
        printed = running.wait_for(r"QueueLab data:\s+(.+)")
        assert printed.startswith(str(data_dir / FILE_NAME)) and "recovered 0 vhosts" in printed
        web_url = running.wait_for(r"Running on (http://127\.0\.0\.1:\d+)")
        assert put(web_url + "/api/queues/%2F/orders", {"durable": True}) == 201
        assert put(web_url + "/api/queues/%2F/scratch", {"durable": False}) == 201
        running.process.send_signal(signal.SIGKILL)  # no shutdown: only what is on disk
        running.process.wait(timeout=20)
    finally:
        running.stop()
    again = RunningApp("--data-dir", str(data_dir), "--port", "0", "--no-amqp")
    try:
        assert "recovered 1 vhost, 0 exchanges, 1 queue" in again.wait_for(r"QueueLab data:(.+)")
        web_url = again.wait_for(r"Running on (http://127\.0\.0\.1:\d+)")
        assert queue_names(web_url) == ["orders"]
    finally:
        assert again.stop() == 0


@pytest.mark.timeout(60)
def test_a_store_it_cannot_read_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"not a database " * 500)
    running = RunningApp("--data-dir", str(tmp_path), "--port", "0", "--no-amqp")
    assert running.process.wait(timeout=30) != 0
    output = "".join(running.lines)
    assert str(tmp_path / FILE_NAME) in output and "will not start over it" in output
    assert "Running on" not in output


@pytest.mark.timeout(60)
def test_in_memory_keeps_nothing(tmp_path: Path) -> None:
    running = RunningApp("--in-memory", "--port", "0", "--no-amqp", "--data-dir", str(tmp_path))
    try:
        assert "in memory only" in running.wait_for(r"QueueLab data:(.+)")
        running.wait_for(r"Running on (http://127\.0\.0\.1:\d+)")
    finally:
        assert running.stop() == 0
    assert list(tmp_path.iterdir()) == []
