"""The pages' pure models in a real Chromium, without drawing: the event vocabulary as the pages
read it, the overview's Topology and RateMeter, and the event-loop page's LoopModel. Each test
imports the ES module into a page and feeds it frames shaped as the live sockets send them.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from broker.vocabulary import EVENT_TYPES
from tests.live_server import LiveServer

pytestmark = pytest.mark.timeout(60)


def open_page(page: Page, server: LiveServer, path: str = "/") -> Page:
    page.goto(server.url + path)
    page.wait_for_selector('body[data-live="open"]')
    return page


# --- the vocabulary ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/exchanges", "/queues", "/events", "/connections"])
def test_every_page_carries_the_vocabulary_and_classifies_as_the_server_does(
    page: Page, server: LiveServer, path: str
) -> None:
    open_page(page, server, path)
    assert page.locator("script#event-vocabulary").count() == 1
    seen = page.evaluate(
        """async () => {
            const v = await import("/static/lib/vocabulary.js");
            return v.eventTypes().map((type) => ({
                type, family: v.family(type), problem: v.isProblem(type), flow: v.isFlow(type),
                fields: v.fields(type), hasQueue: v.hasField(type, "queue"),
            }));
        }"""
    )
    assert sorted(row["type"] for row in seen) == sorted(EVENT_TYPES)
    for row in seen:
        expected = EVENT_TYPES[row["type"]]
        assert row["family"] == expected.family, row
        assert row["problem"] == expected.problem, row
        assert row["flow"] == (expected.family == "flow"), row
        assert row["fields"] == list(expected.fields), row
        assert row["hasQueue"] == ("queue" in expected.fields), row
    unknown = page.evaluate(
        """async () => {
            const v = await import("/static/lib/vocabulary.js");
            return [v.family("no.such.event"), v.isProblem("no.such.event"), v.fields("x")];
        }"""
    )
    assert unknown == [None, False, []]


# --- the overview's Topology ---------------------------------------------------------------------

SNAPSHOT: dict[str, Any] = {
    "type": "snapshot",
    "snapshot": {
        "exchanges": [
            {"name": "", "type": "direct", "arguments": {}},
            {"name": "orders", "type": "fanout", "arguments": {}},
        ],
        "queues": [
            {
                "name": name,
                "arguments": {},
                "messages_ready": 0,
                "messages_unacknowledged": 0,
                "consumers": consumers,
            }
            for name, consumers in (("eu", 1), ("audit", 0))
        ],
        "bindings": [
            {
                "source": "orders",
                "destination": name,
                "destination_type": "queue",
                "routing_key": "",
                "arguments": {},
                "properties_key": "~",
            }
            for name in ("eu", "audit")
        ],
        "consumers": [
            {
                "consumer_tag": "worker-1",
                "queue": "eu",
                "channel": "worker (1)",
                "connection": "worker",
                "ack_required": True,
                "prefetch_count": 10,
                "unacked": 0,
            }
        ],
        "connections": [{"name": "shop"}, {"name": "worker"}],
        "totals": {"published": 0, "delivered": 0, "acked": 0, "unroutable": 0},
    },
    "events": [],
}

DELIVERY = {
    "vhost": "/",
    "queue": "eu",
    "message_id": 1,
    "delivery_tag": 1,
    "connection": "worker",
    "channel": "worker (1)",
}

BATCHES: list[dict[str, Any]] = [
    {  # published, routed along both bindings, enqueued twice
        "type": "batch",
        "events": [
            {
                "type": "published",
                "seq": 1,
                "vhost": "/",
                "exchange": "orders",
                "routing_key": "order.eu",
                "message_id": 1,
                "size": 5,
                "connection": "shop",
                "channel": "shop (1)",
            },
            {
                "type": "routed",
                "seq": 2,
                "vhost": "/",
                "exchange": "orders",
                "exchange_type": "fanout",
                "routing_key": "order.eu",
                "message_id": 1,
                "cause": "published",
                "queues": ["eu", "audit"],
                "matched": [
                    {"source": "orders", "destination": q, "destination_type": "queue"}
                    for q in ("eu", "audit")
                ],
            },
            {
                "type": "enqueued",
                "seq": 3,
                "vhost": "/",
                "queue": "eu",
                "message_id": 1,
                "depth": 1,
            },
            {
                "type": "enqueued",
                "seq": 4,
                "vhost": "/",
                "queue": "audit",
                "message_id": 1,
                "depth": 1,
            },
        ],
        "queues": {"eu": [1, 0, 1], "audit": [1, 0, 0]},
        "totals": {"published": 1, "delivered": 0, "acked": 0, "unroutable": 0},
    },
    {  # delivered to the consumer of eu
        "type": "batch",
        "events": [
            {
                "type": "delivered",
                "seq": 5,
                **DELIVERY,
                "consumer_tag": "worker-1",
                "redelivered": False,
                "auto_ack": False,
            }
        ],
        "queues": {"eu": [0, 1, 1], "audit": [1, 0, 0]},
        "totals": {"published": 1, "delivered": 1, "acked": 0, "unroutable": 0},
    },
    {  # acked
        "type": "batch",
        "events": [{"type": "acked", "seq": 6, **DELIVERY}],
        "queues": {"eu": [0, 0, 1], "audit": [1, 0, 0]},
        "totals": {"published": 1, "delivered": 1, "acked": 1, "unroutable": 0},
    },
]

FEED_TOPOLOGY = """async ([snapshot, batches]) => {
    const { Topology, RateMeter } = await import("/static/overview/model.js");
    const { layout } = await import("/static/overview/layout.js");
    const model = new Topology();
    const rates = new RateMeter(["published", "delivered", "acked", "unroutable"]);
    model.load(snapshot);
    const first = rates.sample(model.totals);
    const state = () => ({
        queues: Object.fromEntries([...model.queues].map(([n, q]) => [n, [q.ready, q.unacked]])),
        unacked: model.consumers.get("worker-1").unacked,
        producers: Object.fromEntries([...model.producers].map(([n, p]) => [n, p.published])),
        totals: model.totals,
    });
    const steps = batches.map((batch) => ({ structural: model.applyBatch(batch), ...state() }));
    const picture = layout(model);
    return {
        first, steps, rates: rates.sample(model.totals),
        nodes: [...picture.nodes.keys()], edges: [...picture.edges.keys()],
    };
}"""


def test_the_overview_model_follows_a_message_to_two_queues_and_its_ack(
    page: Page, server: LiveServer
) -> None:
    open_page(page, server)
    result = page.evaluate(FEED_TOPOLOGY, [SNAPSHOT, BATCHES])
    published, delivered, acked = result["steps"]
    # A new producer appears: the picture must be laid out again.
    assert published["structural"] is True
    assert published["producers"] == {"shop": 1}
    assert published["queues"] == {"eu": [1, 0], "audit": [1, 0]}
    assert published["unacked"] == 0
    # The delivery is the consumer's until it is acked; no new structure for either.
    assert delivered["structural"] is False
    assert delivered["queues"] == {"eu": [0, 1], "audit": [1, 0]}
    assert delivered["unacked"] == 1
    assert acked["structural"] is False
    assert acked["queues"] == {"eu": [0, 0], "audit": [1, 0]}
    assert acked["unacked"] == 0
    assert acked["totals"] == {"published": 1, "delivered": 1, "acked": 1, "unroutable": 0}
    assert result["first"] is None
    assert result["rates"] == {"published": 1, "delivered": 1, "acked": 1, "unroutable": 0}
    # The default exchange has no traffic, so only "orders" is drawn.
    assert result["nodes"] == ["p:shop", "x:orders", "q:audit", "q:eu", "c:worker-1"]
    assert sorted(result["edges"]) == [
        "binding|x:orders|q:audit",
        "binding|x:orders|q:eu",
        "consume|q:eu|c:worker-1",
        "publish|p:shop|x:orders",
    ]


def test_the_overview_model_forgets_what_is_deleted(page: Page, server: LiveServer) -> None:
    open_page(page, server)
    result = page.evaluate(
        """async ([snapshot]) => {
            const { Topology } = await import("/static/overview/model.js");
            const model = new Topology();
            model.load(snapshot);
            const structural = [
                {type: "published", exchange: "", routing_key: "eu", connection: "shop"},
                {type: "routed", exchange: "", queues: ["eu", "amq.rabbitmq.reply-to.abc"]},
                {type: "binding.deleted", source: "orders", destination: "audit",
                 destination_type: "queue", routing_key: "", arguments: {}},
                {type: "consumer.cancelled", consumer_tag: "worker-1", queue: "eu"},
                {type: "queue.deleted", name: "eu"},
                {type: "connection.closed", connection: "shop"},
                {type: "get.empty", queue: "audit"},
            ].map((e) => model.apply(e));
            return {
                structural, queues: [...model.queues.keys()], bindings: model.bindings.size,
                consumers: model.consumers.size, producers: model.producers.size,
                defaultRoutes: [...model.defaultRoutes], used: [...model.usedExchanges],
            };
        }""",
        [SNAPSHOT],
    )
    assert result["structural"] == [True, True, True, True, True, True, False]
    assert result["queues"] == ["audit"]
    assert result["bindings"] == 1
    assert result["consumers"] == 0
    assert result["producers"] == 0
    assert result["defaultRoutes"] == []  # eu is gone; a reply-to key is never a queue
    assert result["used"] == [""]


# --- the event-loop page's LoopModel -------------------------------------------------------------

GATE = {"mode": "running", "slow_motion": 0, "steps": 0, "waiting_at_gate": False, "idle": False}
LOOP_SNAPSHOT: dict[str, Any] = {
    "type": "snapshot",
    "generation": 1,
    "snapshot": {
        "ready": [],
        "ready_total": 0,
        "timers": [],
        "timers_total": 0,
        "current": None,
        "tasks": [],
        "exceptions": [],
        "lag": {"samples": []},
        "notes": [{"t": 0.0, "text": "the loop started", "task": None}],
    },
    "order": {
        "ready": [],
        "timers": [],
        "current": None,
        "ready_total": 0,
        "timers_total": 0,
        "now": 0.5,
    },
    "gate": GATE,
    "running": None,
    "runs": [],
    "flow": [],
    "orders": None,
}
CALLBACK = {
    "id": 1,
    "label": "Task handle-message-7 step",
    "kind": "task_step",
    "task": 3,
    "message": 7,
}
TIMER = {"id": 2, "label": "sleep(5)", "kind": "timer", "task": None, "when": 5.0, "queued_at": 0.9}
TASK = {
    "id": 3,
    "name": "handle-message-7",
    "state": "done",
    "started": True,
    "steps": 1,
    "result": "ok",
    "stack": [],
}
LOOP_BATCH: dict[str, Any] = {
    "type": "batch",
    "generation": 1,
    "events": [
        {"type": "ready", "t": 1.0, "entry": CALLBACK},
        {"type": "timer", "t": 1.01, "entry": TIMER},
        {"type": "run", "t": 1.02, "entry": CALLBACK},
        {"type": "task", "t": 1.2, "task": TASK},
        {"type": "ran", "t": 1.27, "id": 1, "duration": 0.25},
        {"type": "lag", "t": 1.3, "lag": 0.2, "source": "heartbeat"},
        {
            "type": "exception",
            "t": 1.31,
            "exception": {
                "t": 1.31,
                "handled": True,
                "type": "TimeoutError",
                "message": "late",
                "how": "caught by wait_for",
            },
        },
        {"type": "control", "t": 1.4, "mode": "paused", "slow_motion": 0},
    ],
    "flow": [
        {"message": 7, "step": "published", "t": 0.95, "body": "order 7"},
        {"message": 7, "step": "delivered", "t": 0.99, "redelivered": False},
        {"message": 7, "step": "acked", "t": 1.28},
    ],
    "order": {
        "ready": [],
        "timers": [2],
        "current": None,
        "ready_total": 0,
        "timers_total": 1,
        "now": 1.5,
    },
    "gate": {**GATE, "mode": "paused"},
    "running": None,
    "orders": [0, 0, 1],
}

FEED_LOOP = """async ([snapshot, batch]) => {
    const { LoopModel } = await import("/static/loop/model.js");
    let ms = 0;
    const model = new LoopModel({ queue: "orders", clock: () => ms });
    model.applySnapshot(snapshot);
    model.takeLog();
    model.applyBatch({ ...batch, generation: 99 });  // an older loop's batch: ignored
    const ignored = model.log.length;
    model.applyBatch(batch);
    ms = 500;  // the loop's clock runs on between frames
    const { added, finished } = model.takeLog();
    return {
        ignored,
        ready: [...model.ready.keys()], timers: [...model.timers.keys()],
        current: model.current, tasks: [...model.tasks.values()].map((t) => t.name),
        exceptions: model.exceptions.length, lag: model.lag, mode: model.gate.mode,
        depth: model.depth, messages: [...model.messages.values()],
        log: added.map((r) => [r.category, r.text, r.took ?? null]),
        finished: finished.length, now: model.loopNow(), dirty: [...model.dirty].sort(),
    };
}"""


def test_the_loop_model_follows_a_callback_a_task_and_a_message(
    page: Page, server: LiveServer
) -> None:
    open_page(page, server)
    result = page.evaluate(FEED_LOOP, [LOOP_SNAPSHOT, LOOP_BATCH])
    assert result["ignored"] == 0
    assert result["ready"] == []  # it ran
    assert result["timers"] == [2]
    assert result["current"] is None  # and returned
    assert result["tasks"] == ["handle-message-7"]
    assert result["exceptions"] == 1
    assert result["lag"] == [{"t": 1.3, "lag": 0.2, "source": "heartbeat"}]
    assert result["mode"] == "paused"
    assert result["depth"] == [0, 0, 1]
    assert result["messages"] == [
        {
            "id": 7,
            "body": "order 7",
            "steps": ["published", "delivered", "acked"],
            "redelivered": False,
        }
    ]
    # The log in the order things happened, the flow interleaved by time; the callback's line
    # knows how long it took.
    assert result["log"] == [
        ["message", "message #7 published to orders: order 7", None],
        ["callback", "▶ Task handle-message-7 step", 0.25],
        ["message", "message #7 → task handle-message-7 → acked", None],
        ["exception", "handled TimeoutError: late (caught by wait_for)", None],
        ["control", "loop paused", None],
    ]
    assert result["finished"] == 1
    assert result["now"] == pytest.approx(2.0)
    assert {"ready", "timers", "running", "tasks", "messages", "log", "lag"} <= set(result["dirty"])
