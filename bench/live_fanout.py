"""100 live websocket clients while 5,000 messages a second flow through the broker.

The server (broker + Flask app + Werkzeug threaded server on port 0) runs in this process, with an
in-process publisher paced at RATE msgs/s to a queue and an auto-ack consumer (the blocking
client). The clients run in a child process — like browsers, they are not in the server's
process — as threads with simple-websocket, and record, for every event they receive, the time
from the event (its broker timestamp) to its arrival.

Phases, in one run:
  1. without clients: RATE msgs/s for PHASE seconds; messages consumed per second;
  2. with CLIENTS sockets connected: the same, plus the event->client latencies;
  3. saturation (for information): an unpaced publisher for SATURATION seconds, without and
     with the clients.
Last line: p99_ms=<event->client p99> throughput_ratio=<phase 2 rate / phase 1 rate>
(goals: p99 <= 250, ratio >= 0.8).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import selectors
import socket
import statistics
import threading
import time
from typing import Any

from _common import ROOT  # noqa: F401  (puts the repository on sys.path)

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "100"))
RATE = int(os.environ.get("BENCH_RATE", "5000"))
PHASE = float(os.environ.get("BENCH_SECONDS", "10"))
SATURATION = float(os.environ.get("BENCH_SATURATION_SECONDS", "2"))
BODY = b'{"order": 12345, "region": "eu", "amount": 99.5}'
# Each event dict starts {"seq":N,"time":T,"type":...}; nothing else has an unquoted "time".
EVENT_TIME = re.compile(rb'\{"seq":\d+,"time":([0-9.]+)')
MISSED = re.compile(rb'"missed":(\d+)')
SAMPLED = re.compile(rb'"sampled":(\d+)')


# --- the clients (child process) ------------------------------------------------------------


class RawSocket:
    """A minimal websocket reader for the bench: handshake, then unmasked server frames.

    One process stands in for 100 browsers, so its clients must cost little: one thread reads
    every socket (selectors), frames are cut out of a byte buffer, and of each frame only what is
    measured is read (the event times), not the whole JSON (a browser parses its own frames on
    its own machine)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(
            b"GET /ws/live?vhost=%2F HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            response += chunk
        head, _, rest = response.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head[:100])
        self.buffer = bytearray(rest)
        self.closed = False
        self.sock.setblocking(False)

    def frames(self) -> list[memoryview]:
        """Read what is there; return the complete text frames (views into a copy)."""
        try:
            while True:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    self.closed = True
                    break
                self.buffer += chunk
                if len(chunk) < 1 << 20:
                    break
        except BlockingIOError:
            pass
        data = memoryview(bytes(self.buffer))
        out, position, end = [], 0, len(data)
        while end - position >= 2:
            opcode, length = data[position] & 0x0F, data[position + 1] & 0x7F
            offset = position + 2
            if length == 126:
                length, offset = int.from_bytes(data[offset : offset + 2], "big"), offset + 2
            elif length == 127:
                length, offset = int.from_bytes(data[offset : offset + 8], "big"), offset + 8
            if offset > end or end - offset < length:
                break
            if opcode == 0x1:
                out.append(data[offset : offset + length])
            elif opcode == 0x8:
                self.closed = True
            position = offset + length
        del self.buffer[:position]
        return out

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(b"\x88\x82\x00\x00\x00\x00\x03\xe8")  # masked close 1000
        self.sock.close()


def run_clients(port: int, count: int, commands: Any, results: Any) -> None:
    """Connect `count` sockets; record latencies between "start" and "stop" commands."""
    sockets = [RawSocket(port) for _ in range(count)]
    selector = selectors.DefaultSelector()
    for raw in sockets:
        selector.register(raw.sock, selectors.EVENT_READ, raw)
    results.put(("connected", count))
    latencies: list[float] = []
    stats = {"frames": 0, "events": 0, "bytes": 0, "missed": 0, "max_sampled": 1, "closed": 0}
    measuring = False
    while True:
        while not commands.empty():
            command = commands.get()
            if command == "start":
                measuring = True
            elif command == "stop":
                measuring = False
                latencies.sort()
                stats["client_cpu_s"] = time.process_time()
                results.put(("stats", stats, _percentiles(latencies)))
            elif command == "quit":
                for raw in sockets:
                    raw.close()
                return
        for key, _ in selector.select(timeout=0.05):
            raw = key.data
            frames = raw.frames()
            now = time.time()
            if raw.closed:
                selector.unregister(raw.sock)
                stats["closed"] += 1
            if not measuring:
                continue
            for data in frames:
                if data[:15] != b'{"type":"batch"':
                    continue
                times = [float(t) for t in EVENT_TIME.findall(data)]
                stats["frames"] += 1
                stats["bytes"] += len(data)
                stats["missed"] += int(MISSED.search(data).group(1))
                sampled = int(SAMPLED.search(data).group(1))
                stats["max_sampled"] = max(stats["max_sampled"], sampled)
                latencies.extend(now - t for t in times)
                stats["events"] += len(times)


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}

    def at(p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))] * 1000

    return {
        "count": len(values),
        "p50": at(0.50),
        "p90": at(0.90),
        "p99": at(0.99),
        "max": values[-1] * 1000,
        "mean": statistics.fmean(values) * 1000,
    }


# --- the server side (this process) -----------------------------------------------------------


class Consumer:
    def __init__(self, broker: Any) -> None:
        from clients.blocking import BlockingConnection

        self.count = 0
        self.connection = BlockingConnection(broker, name="bench consumer")
        channel = self.connection.channel()
        channel.queue_declare("bench")
        channel.basic_consume("bench", self._on_message, auto_ack=True)

    def _on_message(self, channel: Any, delivery: Any, properties: Any, body: bytes) -> None:
        self.count += 1


def publish(broker: Any, rate: float | None, seconds: float) -> int:
    """Publish to the queue for `seconds`, paced at `rate` msgs/s (None: as fast as possible)."""
    channel = broker.connect("bench publisher").channel()
    sent = 0
    started = time.perf_counter()
    while True:
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            break
        due = int(elapsed * rate) + 1 if rate else sent + 200
        while sent < due:
            channel.basic_publish("", "bench", BODY)
            sent += 1
        if rate:
            time.sleep(0.002)
    channel.connection.close()
    return sent


def measure(broker: Any, consumer: Consumer, rate: float | None, seconds: float) -> dict:
    before = consumer.count
    cpu = time.process_time()
    started = time.perf_counter()
    sent = publish(broker, rate, seconds)
    elapsed = time.perf_counter() - started
    consumed_in_time = consumer.count - before
    deadline = time.monotonic() + 5
    while consumer.count - before < sent and time.monotonic() < deadline:
        time.sleep(0.01)
    return {
        "sent_per_s": sent / elapsed,
        "consumed_per_s": consumed_in_time / elapsed,
        "server_cpu": (time.process_time() - cpu) / elapsed,
    }


def main() -> None:
    from werkzeug.serving import make_server

    from app import create_app
    from broker import Broker
    from gc_tuning import tune_for_broker
    from web.live.broker_feed import live_clients
    from web.live.hub import shutdown_all

    tune_for_broker()
    broker = Broker()
    app = create_app({"BROKER": broker})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    consumer = Consumer(broker)
    wall_start = time.perf_counter()
    print(f"live fan-out: {CLIENTS} sockets, {RATE} msgs/s for {PHASE:g} s per phase", flush=True)

    alone = measure(broker, consumer, RATE, PHASE)
    print(
        f"without clients: {alone['consumed_per_s']:8.0f} msgs/s consumed "
        f"(server CPU {alone['server_cpu']:.0%} of a core)",
        flush=True,
    )

    context = multiprocessing.get_context("spawn")
    commands, results = context.Queue(), context.Queue()
    child = context.Process(target=run_clients, args=(server.port, CLIENTS, commands, results))
    child.start()
    assert results.get(timeout=60)[0] == "connected"
    deadline = time.monotonic() + 20
    while live_clients(app) < CLIENTS and time.monotonic() < deadline:
        time.sleep(0.05)
    print(f"{live_clients(app)} sockets connected", flush=True)

    time.sleep(0.5)  # the snapshots are sent; measure the steady state
    hub = app.extensions["queuelab.live"]
    ticks = hub.ticks
    commands.put("start")
    watched = measure(broker, consumer, RATE, PHASE)
    print(f"  hub ticks/s: {(hub.ticks - ticks) / PHASE:.1f}", flush=True)
    commands.put("stop")
    _, stats, latency = results.get(timeout=60)
    print(
        f"with {CLIENTS} clients: {watched['consumed_per_s']:8.0f} msgs/s consumed "
        f"(server CPU {watched['server_cpu']:.0%} of a core)",
        flush=True,
    )
    per_client = stats["frames"] / max(1, CLIENTS) / PHASE
    print(
        f"  frames: {stats['frames']} ({per_client:.1f}/s per socket), "
        f"{stats['bytes'] / PHASE / 1e6:.1f} MB/s in all, "
        f"events received: {stats['events']}, sampled up to 1 in {stats['max_sampled']}, "
        f"missed: {stats['missed']}, sockets closed by the server: {stats['closed']}, "
        f"client process CPU {stats['client_cpu_s']:.1f} s",
        flush=True,
    )
    if latency["count"]:
        print(
            "  event->client latency ms: "
            f"p50 {latency['p50']:.1f}  p90 {latency['p90']:.1f}  p99 {latency['p99']:.1f}  "
            f"max {latency['max']:.1f}  (n={latency['count']})",
            flush=True,
        )

    if SATURATION > 0:
        # The clients are connected but no longer read-measured; they still receive everything.
        full_with = measure(broker, consumer, None, SATURATION)
        commands.put("quit")
        child.join(20)
        deadline = time.monotonic() + 10
        while live_clients(app) and time.monotonic() < deadline:
            time.sleep(0.05)
        full_alone = measure(broker, consumer, None, SATURATION)
        print(
            f"saturation (unpaced publisher, {SATURATION:g} s): "
            f"{full_alone['consumed_per_s']:.0f} msgs/s alone, "
            f"{full_with['consumed_per_s']:.0f} with {CLIENTS} clients "
            f"(ratio {full_with['consumed_per_s'] / full_alone['consumed_per_s']:.2f})",
            flush=True,
        )
    else:
        commands.put("quit")
        child.join(20)

    shutdown_all(timeout=2)
    server.shutdown()
    consumer.connection.close()
    broker.close()
    ratio = watched["consumed_per_s"] / alone["consumed_per_s"]
    p99 = latency.get("p99", float("nan"))
    print(f"total time {time.perf_counter() - wall_start:.1f} s", flush=True)
    print(f"p99_ms={p99:.1f} throughput_ratio={ratio:.2f}", flush=True)


if __name__ == "__main__":
    main()
