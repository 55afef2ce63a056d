"""The event-loop page: a real asyncio loop in this server, shown live, one callback at a time.

    GET    /loop                     the page
    GET    /api/loop                 the loop's snapshot, the controls, the demos, the consumer
    GET    /api/loop/demos           every demo: title, two-line explanation, source code
    GET    /api/loop/demos/{name}    one demo (and whether it is running)
    POST   /api/loop/demos/{name}    start it on the service loop; body {"params": {...}} optional
    DELETE /api/loop/demos/{name}    cancel its task (a callback itself: it waits while paused)
    POST   /api/loop/control         {"action": "run" | "pause" | "step" | "reset"}
                                     {"action": "slow", "seconds": 0.5}
    WS     /ws/loop                  a snapshot frame, then batches (~20 a second)

One `LoopKeeper` per app (keeper.py) keeps the app's ServiceLoop, made the first time someone
uses the page, so apps that never open it start no thread; call `stop_loop` at shutdown. Demos
get a DemoContext around the app's broker. The socket is fed by the live hub (web/live/hub.py)
from `LoopFeed` (feed.py); the page and the API are in routes.py.

The socket (JSON text frames from the server; the page says nothing)::

    {"type": "snapshot", "generation": g, "seq": n, "snapshot": ServiceLoop.snapshot(),
     "order": ..., "gate": ..., "running": ..., "runs": [...], "flow": [...], "orders": [r, u, c]}
    {"type": "batch", "generation": g, "seq": n, "events": [loop events with seq > the snapshot's],
     "order": {"ready": [ids], "timers": [ids], "current": id, ...}, "gate": {...},
     "running": {"line": {...}, "for": seconds} | null, "skipped": 0,
     "orders": [ready, unacked, consumers] | null, "runs": [...],
     "flow": [{"message": 7, "step": "delivered", ...}]}   # only when something happened

A snapshot frame may come again at any time (a new loop after "reset", events lost, a flood of
events, a page that fell behind): the page replaces its state with it. `order` lets the page
check the ready queue and timers it keeps from the events against the loop's own, every frame.
`flow` follows the messages of the consumer-service queue through the broker (published,
delivered, acked …).

Language: the loop's texts are English with their messages beside them (`label` and
`label_i18n` …, broker/translatable.py), which the page translates; the API's answers are in the
request's language (words.py), a step's `message` and a paused `hint` with `message_i18n` /
`hint_i18n` beside them.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from web.live.client import HubSettings
from web.live.hub import Hub
from web.loop.feed import LoopFeed
from web.loop.keeper import LoopKeeper
from web.loop.routes import HUB, KEEPER, loop_pages

DEFAULTS: dict[str, Any] = {
    "LOOP_TICK": 0.05,  # seconds between frames (20 Hz)
    "LOOP_CLIENT_FRAMES": 100,  # frames a socket may have waiting before it gets a snapshot
    "LOOP_CLIENT_BUFFER": 4_000_000,  # bytes a socket may have waiting before it gets one
    "LOOP_MAX_EVENTS": 200,  # loop events in one tick above which a snapshot is sent instead
    "LOOP_SNAPSHOT_INTERVAL": 0.5,  # at most one such snapshot this often
    "LOOP_SEND_TIMEOUT": 5.0,  # seconds one send may block before the connection is cut
    "LOOP_KEEPALIVE": 1.0,  # a frame at least this often (the page's clock for countdowns)
    "LOOP_STEP_WAIT": 3.0,  # seconds a step request waits for its callback to finish
    "LOOP_FLOW_HISTORY": 100,  # consumer-queue message events sent with a snapshot
    "LOOP_HUB_BUFFER": 50_000,  # events the hub's subscriptions hold between ticks
    "LOOP_HEARTBEAT": 0.05,  # seconds between the loop's lag-measuring heartbeats
}


def init_loop(app: Flask) -> LoopKeeper:
    """Register the page, API and socket; the loop itself starts on first use."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    config = {key: app.config[key] for key in DEFAULTS}
    keeper = LoopKeeper(app.config["BROKER"], config)
    settings = HubSettings(
        name="loop",
        tick=config["LOOP_TICK"],
        send_timeout=config["LOOP_SEND_TIMEOUT"],
        resync_interval=config["LOOP_SNAPSHOT_INTERVAL"],
        client_bytes=config["LOOP_CLIENT_BUFFER"],
        client_frames=config["LOOP_CLIENT_FRAMES"],
        on_overflow="snapshot",
    )
    app.extensions[KEEPER] = keeper
    app.extensions[HUB] = Hub(LoopFeed(keeper, config), settings)
    app.register_blueprint(loop_pages)
    return keeper


def stop_loop(app: Flask, timeout: float = 2.0) -> None:
    """Close the page's sockets (1001) and stop the service loop (call at shutdown;
    idempotent). Later use of the page answers 503."""
    hub = app.extensions.get(HUB)
    if hub is not None:
        hub.shutdown(timeout)
        app.extensions[KEEPER].stop()
