"""What the event-loop page's socket carries: the loop's events, its state, and the messages of
the consumer-service queue, in frames the live hub (web/live/hub.py) writes to every page.

While pages are open the hub holds one subscription to the loop's events and one (filtered) to
the broker's; every tick this feed builds one frame for them all. When one tick holds more than
LOOP_MAX_EVENTS loop events (or some were lost), it sends a snapshot instead (at most every
LOOP_SNAPSHOT_INTERVAL); after a reset, the new loop's snapshot. A frame goes out at least every
LOOP_KEEPALIVE seconds: it is the page's clock for countdowns. Nothing here makes the loop wait.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from broker.events import Event
from broker.vocabulary import FLOW_EVENTS
from eventloop import ServiceLoop
from web.live.frames import CLOSE_GOING_AWAY, Frame
from web.loop.keeper import LoopKeeper
from web.toolkit import ApiError

KEY = "loop"  # one loop per app: every socket watches it

# The broker events of a message at the consumer-service queue, as the page's message log shows
# them: the message flow (broker.vocabulary) but not unroutable, returned or confirm (those never
# reach a queue), not enqueued (routed already says it reached the queue: the log's "published"
# step) and not get.empty (no message).
QUEUE_STEPS = FLOW_EVENTS - {"unroutable", "returned", "confirm", "enqueued", "get.empty"}
BODY_PREVIEW = 200  # characters of a message body shown in the page's message log
MAX_FLOW_ITEMS = 200  # message events per frame (more in one tick: only the latest)


def dumps(value: Any) -> str:
    """Compact JSON, ASCII-only (a lone surrogate in some text cannot break a frame)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False, default=str)


class FlowLog:
    """The latest message-log items of the current loop (a new loop starts a fresh log)."""

    def __init__(self, size: int) -> None:
        self._lock = threading.Lock()
        self._items: deque[dict[str, Any]] = deque(maxlen=size)
        self._generation = 0

    def extend(self, items: list[dict[str, Any]], generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                self._items.clear()
                self._generation = generation
            self._items.extend(items)

    def history(self, generation: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._items) if generation == self._generation else []


class LoopFeed:
    """What the event-loop page's sockets carry (one key: the app's loop)."""

    def __init__(self, keeper: LoopKeeper, config: Mapping[str, Any]) -> None:
        self.keeper = keeper
        self.config = config
        self.flow = FlowLog(config["LOOP_FLOW_HISTORY"])

    def refusal(self, key: str) -> tuple[dict[str, Any], int, str] | None:
        """None once the loop runs (a page's first socket starts it); after shutdown, the 503."""
        try:
            self.keeper.loop()
        except ApiError as error:
            frame = {"type": "error", "error": error.error, "reason": error.reason}
            return frame, CLOSE_GOING_AWAY, "server shutting down"
        return None

    def snapshot(self, key: str = KEY) -> Frame:
        """The loop now: its snapshot, state, demo runs and message log."""
        svc, generation = self.keeper.loop()
        snapshot = svc.snapshot()
        body = {
            "type": "snapshot",
            "generation": generation,
            "seq": snapshot["seq"],
            "snapshot": snapshot,
            **self.keeper.live_state(svc),
            "runs": self.keeper.runs(),
            "flow": self.flow.history(generation),
            "orders": self.keeper.orders_depth(),
            "queue": self.keeper.context.queue,
        }
        return Frame(body, dumps, seq=snapshot["seq"], generation=generation, snapshot=True)

    def open(self) -> _LoopSource:
        return _LoopSource(self)

    def flow_items(self, events: list[Event], svc: ServiceLoop | None) -> list[dict[str, Any]]:
        """The broker events of the consumer-service queue, as the page's message log needs."""
        vhost, queue = self.keeper.context.vhost, self.keeper.context.queue
        # Broker events carry wall time; the page places them among the loop's events.
        started_wall = svc.loop.recorder.started_wall if svc is not None else 0.0
        bodies: dict[int, str] = {}
        items: list[dict[str, Any]] = []
        for event in events:
            data = event.data
            if data.get("vhost") != vhost:
                continue
            message_id = data.get("message_id")
            if event.type == "published":
                body = getattr(data.get("message"), "body", b"")
                bodies[message_id] = body[:BODY_PREVIEW].decode("utf-8", "replace")
                continue
            if event.type == "routed":
                if queue not in (data.get("queues") or ()):
                    continue
                step, extra = "published", {"body": bodies.get(message_id, "")}
            elif data.get("queue") != queue:
                continue
            else:
                step, extra = event.type, _step_details(event)
            t = round(event.time - started_wall, 6)
            items.append({"message": message_id, "step": step, "time": event.time, "t": t, **extra})
        return items[-MAX_FLOW_ITEMS:]  # a flood: the page shows the latest ones


def _step_details(event: Event) -> dict[str, Any]:
    data = event.data
    if event.type == "delivered":
        return {"redelivered": bool(data.get("redelivered"))}
    if event.type in ("nacked", "rejected"):
        return {"requeue": bool(data.get("requeue"))}
    if event.type == "dropped":
        return {"reason": str(data.get("reason", ""))}
    return {}


class _LoopSource:
    """The hub's subscriptions to the current loop and to the broker, and what the last frame
    said (to send only what changed, and at least a keepalive)."""

    def __init__(self, feed: LoopFeed) -> None:
        self.feed = feed
        self.keeper = feed.keeper
        maxlen = feed.config["LOOP_HUB_BUFFER"]
        self._maxlen = maxlen
        self._broker_sub = self.keeper.broker.events.subscribe(maxlen=maxlen, types=QUEUE_STEPS)
        self._loop_sub: Any = None
        svc, self._generation = self.keeper.current()
        if svc is not None:
            self._loop_sub = svc.subscribe(maxlen=maxlen)
        self._snapshot_due = False  # each new socket takes its own snapshot
        self._last_snapshot = self._last_frame = 0.0
        self._last_depth: list[int] | None = None
        self._runs_version = -1

    def close(self) -> None:
        for sub in (self._loop_sub, self._broker_sub):
            if sub is not None:
                sub.close()

    def frames(self, watched: Mapping[str, object], now: float) -> list[tuple[str, Frame]]:
        """Drain both subscriptions: one frame (a batch, or a snapshot), or none."""
        svc, generation = self.keeper.current()
        if svc is None:
            return []  # a reset is between stopping the old loop and starting the new one
        if generation != self._generation or self._loop_sub is None:
            self._follow(svc, generation)
        batch = self._loop_sub.get(timeout=0)
        flow = self.feed.flow_items(self._broker_sub.get(timeout=0), svc)
        if flow:
            self.feed.flow.extend(flow, generation)
        events, skipped = batch.events, 0
        if batch.missed or len(events) > self.feed.config["LOOP_MAX_EVENTS"]:
            skipped, events = len(events) + batch.missed, []
            self._snapshot_due = True
        interval = self.feed.config["LOOP_SNAPSHOT_INTERVAL"]
        if self._snapshot_due and (now - self._last_snapshot >= interval or not skipped):
            self._snapshot_due = False
            self._last_snapshot = self._last_frame = now
            return [(KEY, self._snapshot())]
        frame = self._batch(svc, generation, events, flow, skipped, now)
        return [(KEY, frame)] if frame is not None else []

    def _follow(self, svc: ServiceLoop, generation: int) -> None:
        """A new loop (after a reset): follow it, and send every page its snapshot."""
        if self._loop_sub is not None:
            self._loop_sub.close()
        self._loop_sub = svc.subscribe(maxlen=self._maxlen)
        self._generation = generation
        self._snapshot_due = True

    def _snapshot(self) -> Frame:
        frame = self.feed.snapshot()
        self._last_depth = frame.body["orders"]
        self._runs_version = self.keeper.runs_version
        return frame

    def _batch(
        self,
        svc: ServiceLoop,
        generation: int,
        events: list[dict[str, Any]],
        flow: list[dict[str, Any]],
        skipped: int,
        now: float,
    ) -> Frame | None:
        # Every frame carries the whole of the small state (queue depth, demo runs, gate,
        # order), not just changes: a socket that took its own snapshot between two ticks may
        # get a frame built just before it, and the next frame puts that right.
        depth = self.keeper.orders_depth()
        runs_version = self.keeper.runs_version
        live = self.keeper.live_state(svc)
        body: dict[str, Any] = {
            "type": "batch",
            "generation": generation,
            "seq": live["order"]["seq"],
            "events": events,
            "skipped": skipped,
            **live,
            "orders": depth,
            "runs": self.keeper.runs(),
        }
        changed = bool(events or flow or skipped or live["running"])
        if flow:
            body["flow"] = flow
        if depth != self._last_depth or runs_version != self._runs_version:
            self._last_depth, self._runs_version = depth, runs_version
            changed = True
        if not changed and now - self._last_frame < self.feed.config["LOOP_KEEPALIVE"]:
            return None
        self._last_frame = now
        return Frame(body, dumps, seq=body["seq"], generation=generation)
