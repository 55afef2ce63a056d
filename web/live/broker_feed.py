"""The broker pages' live socket: the broker's events in batches, one socket per page view.

Protocol (`/ws/live?vhost=%2F`), JSON text frames from the server:

    {"type": "snapshot", "snapshot": broker.snapshot(vhost), "simulations": [...],
     "events": [the last <= 200 events of the vhost, up to snapshot.seq]}
    {"type": "batch", "seq": N, "events": [...], "missed": 0, "sampled": 1,
     "totals": {...}, "rates": {...}, "queues": {"name": [ready, unacked, consumers]},
     "simulations": [...]   # only when some simulation changed}
    {"type": "error", "error": "not_found", "reason": "..."}   # then the socket closes

A snapshot frame comes first, and may come again at any time (after events were lost): the page
replaces its state with it. Batches follow at most every LIVE_TICK seconds (50 ms), and only
when something happened; every event in them has `seq` > the snapshot's `seq`.

How it scales. The hub (web/live/hub.py) holds ONE subscription to the broker's event stream
while sockets are open. Every tick this feed drains what arrived, groups it by vhost, samples it
when the rate is high (more than LIVE_SAMPLE_ABOVE events: about LIVE_SAMPLE_TARGET message-flow
events are kept, chosen by message id so a kept message keeps its whole story, and every entity
event is kept), and builds each vhost's frame once for every socket watching the vhost. So the
broker fans events out to one reader, not to a classroom of tabs. A socket that cannot keep up
is closed (1013) and the page reconnects to a fresh snapshot.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, current_app, request
from flask_sock import Sock

from broker import Broker
from broker.events import Event, Subscription
from broker.vocabulary import FLOW_EVENTS
from simulation import Simulations
from web.live.client import HubSettings
from web.live.frames import CLOSE_POLICY, Frame
from web.live.hub import Hub, serve_socket
from web.serialize import dumps, event_dict, json_safe

EXTENSION = "queuelab.live"

DEFAULTS: dict[str, Any] = {
    "LIVE_TICK": 0.05,  # seconds between batches (20 Hz)
    "LIVE_SAMPLE_ABOVE": 300,  # events in one tick above which message-flow events are sampled
    "LIVE_SAMPLE_TARGET": 100,  # about how many message-flow events a sampled batch keeps
    "LIVE_CLIENT_BUFFER": 4_000_000,  # bytes a socket may have waiting before it is closed
    "LIVE_SEND_TIMEOUT": 5.0,  # seconds one send may block before the connection is cut
    "LIVE_HISTORY": 200,  # events sent with the snapshot
    # Bytes of a message body shown in a `published` event; at most HISTORY_BODY_BYTES (2048),
    # all the broker's event history keeps of a body.
    "LIVE_BODY_LIMIT": 128,
    # Which events carry their routing `trace` (why each binding did or did not match):
    # "unroutable" (the default), "all" or "none"; GET /api/messages/{id}/history always has it.
    # Never in a sampled batch.
    "LIVE_TRACE": "unroutable",
    "LIVE_HUB_BUFFER": 200_000,  # events the hub's own subscription holds between ticks
    "LIVE_RESYNC_INTERVAL": 2.0,  # at most one fresh snapshot per socket this often
}

live = Blueprint("live", __name__)
sock = Sock()


def _traced(setting: Any) -> frozenset[str]:
    if setting in (True, "all"):
        return frozenset({"routed", "unroutable"})
    if setting == "unroutable":
        return frozenset({"unroutable"})
    return frozenset()


class BrokerFeed:
    """What the broker pages' sockets carry, per vhost."""

    def __init__(self, broker: Broker, simulations: Simulations, config: Mapping[str, Any]):
        self.broker = broker
        self.simulations = simulations
        self.history = config["LIVE_HISTORY"]
        self.hub_buffer = config["LIVE_HUB_BUFFER"]
        self.sample_above = config["LIVE_SAMPLE_ABOVE"]
        self.sample_target = config["LIVE_SAMPLE_TARGET"]
        self.body_limit = config["LIVE_BODY_LIMIT"]
        self.traced = _traced(config["LIVE_TRACE"])

    def refusal(self, vhost: str) -> tuple[dict[str, Any], int, str] | None:
        if vhost in self.broker.vhosts:
            return None
        error = {"type": "error", "error": "not_found", "reason": f"no vhost '{vhost}'"}
        return error, CLOSE_POLICY, "no such vhost"

    def snapshot(self, vhost: str) -> Frame | None:
        """The vhost now, and its last LIVE_HISTORY events up to the snapshot's seq."""
        if vhost not in self.broker.vhosts:
            return None
        snapshot = self.broker.snapshot(vhost)
        seq = snapshot["seq"]
        history = [
            e
            for e in self.broker.events.recent(limit=max(2_000, self.history))
            if e.seq <= seq and e.data.get("vhost") == vhost
        ][-self.history :]
        body = {
            "type": "snapshot",
            "snapshot": json_safe(snapshot),
            "simulations": json_safe(self.simulations.list(vhost)),
            "events": [self.event(e, e.type in self.traced) for e in history],
        }
        return Frame(body, dumps, seq=seq, snapshot=True)

    def open(self) -> _BrokerSource:
        return _BrokerSource(self)

    def event(self, event: Event, with_trace: bool) -> dict[str, Any]:
        return event_dict(event, self.body_limit, with_trace, compact=True)

    def sample(self, events: list[Event]) -> tuple[list[Event], int]:
        """The events a batch keeps, and 1 in how many message-flow events it keeps."""
        if len(events) <= self.sample_above:
            return events, 1
        flow = sum(1 for e in events if e.type in FLOW_EVENTS)
        every = max(1, math.ceil(flow / self.sample_target))
        if every == 1:
            return events, 1
        kept, position = [], 0
        for event in events:
            if event.type in FLOW_EVENTS:
                message_id = event.data.get("message_id")
                position += 1
                key = message_id if isinstance(message_id, int) else position
                if key % every:
                    continue
            kept.append(event)
        return kept, every


class _BrokerSource:
    """The hub's one subscription to the broker's events, and what the last frames said."""

    def __init__(self, feed: BrokerFeed) -> None:
        self.feed = feed
        self.broker = feed.broker
        self.subscription: Subscription = self.broker.events.subscribe(maxlen=feed.hub_buffer)
        self._last_simulations: dict[str, str] = {}
        self._samples: deque[tuple[float, dict[str, int]]] = deque()

    def close(self) -> None:
        self.subscription.close()

    def frames(self, watched: Mapping[str, object], now: float) -> list[tuple[str, Frame]]:
        """One frame per watched vhost where something happened."""
        events = self.subscription.get(timeout=0)
        missed = self.subscription.take_missed()
        by_vhost: dict[str, list[Event]] = {}
        for event in events:
            vhost = event.data.get("vhost")
            if vhost in watched:
                by_vhost.setdefault(vhost, []).append(event)
        totals = dict(self.broker.totals)
        rates = self._rates(now, totals)
        out = []
        for vhost in watched:
            vhost_events = by_vhost.get(vhost, [])
            simulations = self._changed_simulations(vhost)
            if not vhost_events and not missed and simulations is None:
                continue
            batch = self._batch(vhost, vhost_events, missed, totals, rates, simulations)
            out.append((vhost, batch))
        return out

    def _batch(
        self,
        vhost: str,
        events: list[Event],
        missed: int,
        totals: dict[str, int],
        rates: dict[str, float],
        simulations: list[dict[str, Any]] | None,
    ) -> Frame:
        events, every = self.feed.sample(events)
        traced = self.feed.traced if every == 1 else frozenset()
        body: dict[str, Any] = {
            "type": "batch",
            "seq": self.broker.events.last_seq,
            "events": [self.feed.event(e, e.type in traced) for e in events],
            "missed": missed,
            "sampled": every,
            "totals": totals,
            "rates": rates,
            "queues": self._queue_depths(vhost),
        }
        if simulations is not None:
            body["simulations"] = simulations
        return Frame(body, dumps, seq=body["seq"], resync=missed > 0)

    def _rates(self, now: float, totals: dict[str, int]) -> dict[str, float]:
        """Broker-wide messages per second over about the last second."""
        samples = self._samples
        samples.append((now, totals))
        while len(samples) > 2 and now - samples[1][0] >= 1.0:
            samples.popleft()
        then, old = samples[0]
        span = now - then
        if span <= 0:
            return dict.fromkeys(totals, 0.0)
        return {k: round((totals[k] - old.get(k, 0)) / span, 1) for k in totals}

    def _changed_simulations(self, vhost: str) -> list[dict[str, Any]] | None:
        current = json_safe(self.feed.simulations.list(vhost))
        text = dumps(current)
        if self._last_simulations.get(vhost) == text:
            return None
        self._last_simulations[vhost] = text
        return current

    def _queue_depths(self, vhost: str) -> dict[str, list[int]]:
        """[ready, unacked, consumers] per queue, read at one instant under the broker lock."""
        return {name: list(depth) for name, depth in self.broker.queue_depths(vhost).items()}


# --- the socket -------------------------------------------------------------------------------


@sock.route("/ws/live", bp=live)
def live_socket(ws: Any) -> None:
    serve_socket(current_app.extensions[EXTENSION], ws, request.args.get("vhost", "/"))


def init_live(app: Flask, broker: Broker, simulations: Simulations) -> Hub:
    """The broker pages' hub and socket, configured from the app's LIVE_* settings."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config.setdefault("SOCK_SERVER_OPTIONS", {"max_message_size": 64 * 1024})
    config = app.config
    settings = HubSettings(
        name="live",
        tick=config["LIVE_TICK"],
        send_timeout=config["LIVE_SEND_TIMEOUT"],
        resync_interval=config["LIVE_RESYNC_INTERVAL"],
        client_bytes=config["LIVE_CLIENT_BUFFER"],
        client_frames=1_000_000,  # bounded by bytes
        on_overflow="close",
    )
    hub = Hub(BrokerFeed(broker, simulations, config), settings)
    app.extensions[EXTENSION] = hub
    app.register_blueprint(live)
    return hub


def live_clients(app: Flask) -> int:
    """How many broker-page sockets this app is feeding now."""
    return app.extensions[EXTENSION].client_count
