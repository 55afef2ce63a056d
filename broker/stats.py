"""Message rates, in the shape RabbitMQ's management API uses for `message_stats`.

A meter counts publishes, deliveries and acks; reading it turns the counts into per-second
rates over the time since the previous reading (taken at most once a second, so a page that
refreshes often still sees a steady figure).
"""

from __future__ import annotations

from typing import Any

STATS = ("publish", "deliver_get", "ack")


class RateMeter:
    def __init__(self, now: float) -> None:
        self.counts = dict.fromkeys(STATS, 0)
        self._sampled_at = now
        self._sampled = dict(self.counts)
        self._rates = dict.fromkeys(STATS, 0.0)

    def message_stats(self, now: float) -> dict[str, Any]:
        """{"publish": n, "publish_details": {"rate": r}, …} as RabbitMQ writes it."""
        elapsed = now - self._sampled_at
        if elapsed >= 1.0:
            self._rates = {
                name: (self.counts[name] - self._sampled[name]) / elapsed for name in STATS
            }
            self._sampled_at, self._sampled = now, dict(self.counts)
        stats: dict[str, Any] = {}
        for name in STATS:
            stats[name] = self.counts[name]
            stats[f"{name}_details"] = {"rate": round(self._rates[name], 1)}
        return stats
