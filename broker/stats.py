"""Message rates, in the shape RabbitMQ's management API uses for `message_stats`.

A meter reads a dict of running counts (a connection's, a queue's, an exchange's); reading it
turns the counts into per-second rates over the time since the previous reading (taken at most
once a second, so a page that refreshes often still sees a steady figure).
"""

from __future__ import annotations

from typing import Any

CONNECTION_STATS = {"publish": "publish", "deliver_get": "deliver_get", "ack": "ack"}
QUEUE_STATS = {
    "publish": "published",
    "deliver_get": "delivered",
    "ack": "acked",
    "redeliver": "redelivered",
}
EXCHANGE_STATS = {"publish_in": "published", "publish_out": "routed"}


class RateMeter:
    def __init__(self, counts: dict[str, int], names: dict[str, str], now: float) -> None:
        self.counts = counts  # read, never written: its owner keeps counting
        self._names = names  # RabbitMQ's stat name -> key in `counts`
        self._sampled_at = now
        self._sampled = self._read()
        self._rates = dict.fromkeys(names, 0.0)

    def _read(self) -> dict[str, int]:
        return {stat: self.counts[key] for stat, key in self._names.items()}

    def message_stats(self, now: float) -> dict[str, Any]:
        """{"publish": n, "publish_details": {"rate": r}, …} as RabbitMQ writes it."""
        current = self._read()
        elapsed = now - self._sampled_at
        if elapsed >= 1.0:
            self._rates = {s: (current[s] - self._sampled[s]) / elapsed for s in current}
            self._sampled_at, self._sampled = now, current
        stats: dict[str, Any] = {}
        for stat, count in current.items():
            stats[stat] = count
            stats[f"{stat}_details"] = {"rate": round(self._rates[stat], 1)}
        return stats
