"""Waiting for things in tests without sleeping blindly: a condition, or websocket frames."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any


def wait_for(condition: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll until `condition()` is truthy and return its value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def frames_until(
    ws: Any, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 8.0
) -> list[dict[str, Any]]:
    """Read JSON frames from a websocket client until `done(frames so far)` says enough."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not done(seen):
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; got {[f['type'] for f in seen]}"
        data = ws.receive(timeout=left)
        if data is not None:
            seen.append(json.loads(data))
    return seen


def events_of(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events carried by the batch frames among `frames`, in order."""
    return [e for f in frames if f["type"] == "batch" for e in f["events"]]
