"""Bytes of memory per queued 100-byte message, with 200,000 queued.

Measured with tracemalloc around the publishes, so it counts what the broker keeps per message
(the message, its queue entry, its body, and its share of the recent-events ring) and nothing
the interpreter had before. Last line: bytes_per_message=<n> (goal ≤ 1024).
"""

from __future__ import annotations

import gc
import tracemalloc

from _common import ROOT  # noqa: F401 - puts the repository on sys.path

from broker import Broker

MESSAGES = 200_000


def main() -> None:
    broker = Broker()
    channel = broker.connect("bench").channel()
    channel.queue_declare("deep")
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for number in range(MESSAGES):
        channel.basic_publish("", "deep", b"%0100d" % number)  # a distinct 100-byte body each
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    depth = channel.queue_declare("deep", passive=True).message_count
    assert depth == MESSAGES, depth
    per_message = (after - before) / MESSAGES
    print(f"{MESSAGES:,} queued 100-byte messages: {(after - before) / 2**20:.1f} MiB")
    print(f"bytes_per_message={per_message:.0f}")


if __name__ == "__main__":
    main()
