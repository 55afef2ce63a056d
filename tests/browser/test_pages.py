"""The live pages in a real Chromium: forms, live updates, the diagram, ack modes, simulations.

Every test waits for the page's websocket (body[data-live="open"]) before it acts, then waits for
conditions (Playwright's expect polls), never for fixed times.
"""

from __future__ import annotations

import threading
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from app import create_app
from broker import Broker, Channel, Properties
from tests.live_server import LiveServer, live_server

pytestmark = pytest.mark.timeout(60)


def q(name: str) -> str:
    return quote(name, safe="")


def open_live(page: Page, server: LiveServer, path: str) -> Page:
    page.goto(server.url + path)
    page.wait_for_selector('body[data-live="open"]')
    return page


def client(broker: Broker, name: str = "test client") -> Channel:
    return broker.connect(name).channel()


def queue_node(page: Page, name: str):
    return page.locator(f'#diagram g[data-node="queue"][data-name="{name}"]')


def test_declare_bind_publish_in_forms_and_the_overview_follows(
    page: Page, server: LiveServer
) -> None:
    open_live(page, server, "/exchanges")
    form = page.locator("#declare-exchange")
    form.get_by_label("Name").fill("shop")
    form.get_by_label("Type").select_option("topic")
    form.get_by_role("button", name="Declare exchange").click()
    expect(page.locator("#declare-result")).to_contain_text("Declared shop")
    expect(page.locator('#exchanges tr[data-name="shop"]')).to_contain_text("topic")

    open_live(page, server, "/queues")
    form = page.locator("#declare-queue")
    form.get_by_label("Name").fill("orders.eu")
    form.locator('input[name="x-message-ttl"]').fill("60000")
    form.get_by_role("button", name="Declare queue").click()
    expect(page.locator("#declare-result")).to_contain_text("Declared queue orders.eu")
    row = page.locator('#queues tr[data-name="orders.eu"]')
    expect(row).to_contain_text("x-message-ttl")

    open_live(page, server, "/exchanges/%2F/shop")
    bind = page.locator("#bind")
    bind.locator('input[name="destination"]').fill("orders.eu")
    bind.locator('input[name="routing_key"]').fill("order.eu.#")
    bind.get_by_role("button", name="Bind").click()
    expect(page.locator("#bind-result")).to_contain_text("Bound queue orders.eu")
    expect(page.locator("#bindings-table")).to_contain_text("order.eu.#")

    publish = page.locator("#publish")
    publish.locator('input[name="routing_key"]').fill("order.eu.1")
    publish.locator('textarea[name="payload"]').fill("hello")
    publish.get_by_role("button", name="Publish").click()
    expect(page.locator("#publish-result")).to_contain_text("Routed")
    expect(page.locator("#publish-result")).to_contain_text("orders.eu")
    trace = page.locator("#trace-list li.trace").first
    expect(trace).to_contain_text("order.eu.1")
    expect(trace.locator("tr.match")).to_contain_text("order.eu.#")
    expect(page.locator('[data-fact="published"]')).to_have_text("1")

    open_live(page, server, "/")
    expect(queue_node(page, "orders.eu")).to_have_attribute("data-ready", "1")
    expect(page.locator('[data-total="published"]')).to_have_text("1")
    expect(page.locator('#diagram g[data-node="exchange"][data-name="shop"]')).to_be_visible()
    expect(page.locator("#diagram .edge-label")).to_contain_text("order.eu.#")

    # Traffic from another client shows up without a reload: counters, bars, a producer.
    channel = client(server.broker, "billing-service")
    channel.basic_publish("shop", "order.eu.2", b"second")
    expect(queue_node(page, "orders.eu")).to_have_attribute("data-ready", "2")
    expect(page.locator('[data-total="published"]')).to_have_text("2")
    producer = page.locator('#diagram g[data-node="producer"][data-name="billing-service"]')
    expect(producer).to_contain_text("published 1")


def test_direct_reply_to_skips_the_queues_in_the_overview(page: Page, server: LiveServer) -> None:
    """An RPC with amq.rabbitmq.reply-to: the request goes through rpc_queue, the reply from
    the default exchange straight to the client's consumer, on a lane of its own."""
    open_live(page, server, "/")
    rpc_client, rpc_server = (
        client(server.broker, "rpc client"),
        client(server.broker, "rpc server"),
    )
    rpc_server.queue_declare("rpc_queue")
    replies = []
    rpc_client.basic_consume("amq.rabbitmq.reply-to", replies.append, no_ack=True)
    request = Properties(reply_to="amq.rabbitmq.reply-to", correlation_id="1")
    rpc_client.basic_publish("", "rpc_queue", b"2+2", request)
    asked = rpc_server.basic_get("rpc_queue", no_ack=True)
    rpc_server.basic_publish("", asked.message.properties.reply_to, b"4")
    assert [d.body for d in replies] == [b"4"]
    expect(queue_node(page, "rpc_queue")).to_be_visible()
    expect(page.locator("#diagram path.edge-reply")).to_have_count(1)
    expect(page.locator('#diagram g[data-node="queue"]')).to_have_count(1)  # no reply "queue"
    expect(page.locator(".legend")).to_contain_text("direct reply-to")
    page.reload()  # drawn from the snapshot as well as from events
    page.wait_for_selector('body[data-live="open"]')
    expect(page.locator("#diagram path.edge-reply")).to_have_count(1)


def test_an_unroutable_publish_says_why(page: Page, server: LiveServer) -> None:
    channel = client(server.broker)
    channel.exchange_declare("shop", "topic")
    channel.queue_declare("eu")
    channel.queue_bind("eu", "shop", "*.eu.#")

    open_live(page, server, "/exchanges/%2F/shop")
    publish = page.locator("#publish")
    publish.locator('input[name="routing_key"]').fill("order.us.paid")
    publish.get_by_role("button", name="Publish").click()
    result = page.locator("#publish-result")
    expect(result).to_contain_text("Unroutable")
    expect(result).to_contain_text("word 2 `eu` ≠ `us`")
    trace = page.locator("#trace-list li.trace-unroutable").first
    expect(trace.locator("tr.miss")).to_contain_text("word 2 `eu` ≠ `us`")
    expect(page.locator('[data-fact="unroutable"]')).to_have_text("1")

    open_live(page, server, "/")
    channel.basic_publish("shop", "order.asia.paid", b"lost")
    expect(page.locator("#unroutable-list")).to_contain_text("word 2 `eu` ≠ `asia`")
    expect(page.locator("#diagram .reason-note")).to_contain_text("unroutable")
    expect(page.locator('[data-total="unroutable"]')).to_have_text("2")


def test_get_with_each_ack_mode_shows_the_redelivered_flag(page: Page, server: LiveServer) -> None:
    channel = client(server.broker)
    channel.exchange_declare("dlx", "fanout")
    channel.queue_declare("parked")
    channel.queue_bind("parked", "dlx", "")
    channel.queue_declare("work", arguments={"x-dead-letter-exchange": "dlx"})
    channel.basic_publish("", "work", b"job-1")

    open_live(page, server, "/queues/%2F/work")
    get = page.locator("#get")
    messages = page.locator("#get-messages li.message")

    def get_with(mode: str) -> None:
        get.get_by_label("Ack mode").select_option(mode)
        get.get_by_role("button", name="Get").click()

    get_with("nack_requeue_true")
    expect(messages).to_have_count(1)
    expect(messages.first).to_contain_text("job-1")
    expect(messages.first).to_contain_text("redelivered: false")
    expect(page.locator("#count-ready")).to_have_text("1")

    get_with("reject_requeue_true")
    expect(messages.first).to_contain_text("redelivered: true")
    expect(page.locator("#get-result")).to_contain_text("Rejected with requeue")
    expect(page.locator("#count-ready")).to_have_text("1")

    get_with("reject_requeue_false")
    expect(page.locator("#get-result")).to_contain_text("dead-lettered")
    expect(page.locator("#count-ready")).to_have_text("0")
    get_with("ack_requeue_false")
    expect(page.locator("#get-result")).to_contain_text("no ready messages")

    open_live(page, server, "/queues/%2F/parked")
    expect(page.locator("#count-ready")).to_have_text("1")
    get_with("ack_requeue_false")
    expect(messages.first).to_contain_text("job-1")
    expect(messages.first).to_contain_text("x-death")
    expect(page.locator("#get-result")).to_contain_text("Acked")
    expect(page.locator("#count-ready")).to_have_text("0")


def test_simulated_consumers_ack_or_dead_letter(page: Page, server: LiveServer) -> None:
    channel = client(server.broker)
    channel.exchange_declare("dlx", "fanout")
    channel.queue_declare("parked")
    channel.queue_bind("parked", "dlx", "")
    channel.queue_declare("ok")
    channel.queue_declare("flaky", arguments={"x-dead-letter-exchange": "dlx"})

    open_live(page, server, "/queues/%2F/ok")
    form = page.locator("#simulate")
    form.locator('input[name="processing_ms"]').fill("0")
    form.get_by_role("button", name="Start consumer").click()
    expect(page.locator("#sim-list li")).to_contain_text("running")
    expect(page.locator("#count-consumers")).to_have_text("1")
    expect(page.locator("#consumers-table")).to_contain_text("manual")
    for n in range(3):
        channel.basic_publish("", "ok", f"job {n}".encode())
    expect(page.locator('[data-fact="acked"]')).to_have_text("3")
    expect(page.locator("#sim-list li")).to_contain_text("acked 3")
    expect(page.locator("#count-ready")).to_have_text("0")
    page.locator("#sim-list li").get_by_role("button", name="Stop").click()
    expect(page.locator("#sim-list li")).to_have_count(0)
    expect(page.locator("#count-consumers")).to_have_text("0")

    open_live(page, server, "/queues/%2F/flaky")
    form = page.locator("#simulate")
    form.locator('input[name="processing_ms"]').fill("0")
    form.locator('input[name="failure_rate"]').fill("100")
    form.get_by_label("On failure").select_option("reject-dlx")
    form.get_by_role("button", name="Start consumer").click()
    expect(page.locator("#count-consumers")).to_have_text("1")
    channel.basic_publish("", "flaky", b"doomed 1")
    channel.basic_publish("", "flaky", b"doomed 2")
    expect(page.locator('[data-fact="dead_lettered"]')).to_have_text("2")
    expect(page.locator("#sim-list li")).to_contain_text("rejected 2")

    open_live(page, server, "/queues/%2F/parked")
    expect(page.locator("#count-ready")).to_have_text("2")


def test_single_active_consumer_and_priorities_show_who_gets_the_messages(
    page: Page, server: LiveServer
) -> None:
    open_live(page, server, "/queues")
    form = page.locator("#declare-queue")
    form.get_by_label("Name").fill("in-order")
    form.get_by_label("x-single-active-consumer").select_option("true")
    form.get_by_role("button", name="Declare queue").click()
    expect(page.locator("#declare-result")).to_contain_text("Declared queue")

    open_live(page, server, "/queues/%2F/in-order")
    form = page.locator("#simulate")
    form.locator('input[name="processing_ms"]').fill("0")
    form.get_by_role("button", name="Start consumer").click()
    expect(page.locator("#count-consumers")).to_have_text("1")
    form.get_by_label("Priority").fill("5")
    form.get_by_role("button", name="Start consumer").click()
    rows = page.locator("#consumers-table tbody tr")
    expect(rows).to_have_count(2)
    # The earliest consumer has the turn; priority does not change that on a classic queue.
    expect(rows.nth(0)).to_contain_text("active")
    expect(rows.nth(1)).to_contain_text("priority 5")
    expect(rows.nth(1)).to_contain_text("waiting")
    channel = client(server.broker)
    for n in range(3):
        channel.basic_publish("", "in-order", f"step {n}".encode())
    sims = page.locator("#sim-list li")
    expect(sims.nth(0)).to_contain_text("acked 3")
    expect(sims.nth(1)).to_contain_text("priority 5")
    expect(sims.nth(1)).not_to_contain_text("acked")
    sims.nth(0).get_by_role("button", name="Stop").click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("active")
    channel.basic_publish("", "in-order", b"step 3")
    expect(sims.nth(0)).to_contain_text("acked 1")

    open_live(page, server, "/")
    expect(queue_node(page, "in-order")).to_contain_text("SAC")


def test_a_priority_queue_serves_the_highest_priority_first(page: Page, server: LiveServer) -> None:
    open_live(page, server, "/queues")
    form = page.locator("#declare-queue")
    form.get_by_label("Name").fill("urgent-first")
    form.get_by_label("x-max-priority").fill("5")
    form.get_by_role("button", name="Declare queue").click()
    expect(page.locator("#declare-result")).to_contain_text("Declared queue")

    open_live(page, server, "/queues/%2F/urgent-first")
    publish = page.locator("#publish")
    for body, priority in (("routine", "1"), ("urgent", "5"), ("whenever", "")):
        publish.locator("textarea[name='payload']").fill(body)
        publish.get_by_label("priority").fill(priority)
        publish.get_by_role("button", name="Publish").click()
        expect(page.locator("#publish-result")).to_contain_text("Published")
        page.locator("#publish-result").evaluate("node => node.replaceChildren()")
    expect(page.locator("#count-ready")).to_have_text("3")
    page.locator("#peek-button").click()
    expect(page.locator("#peek .payload")).to_have_text(["urgent", "routine", "whenever"])

    open_live(page, server, "/")
    expect(queue_node(page, "urgent-first")).to_contain_text("prio")


def test_two_tabs_see_each_others_actions(page: Page, server: LiveServer) -> None:
    other = page.context.new_page()
    other.console_errors = []
    other.on(
        "console", lambda m: other.console_errors.append(m.text) if m.type == "error" else None
    )
    open_live(page, server, "/")
    open_live(other, server, "/queues")

    other.bring_to_front()
    form = other.locator("#declare-queue")
    form.get_by_label("Name").fill("shared")
    form.get_by_role("button", name="Declare queue").click()
    expect(queue_node(page, "shared")).to_be_visible()

    open_live(page, server, "/queues")
    open_live(other, server, "/queues/%2F/shared")
    other.bring_to_front()
    other.locator("#publish textarea[name='payload']").fill("from tab two")
    other.locator("#publish").get_by_role("button", name="Publish").click()
    expect(page.locator('#queues tr[data-name="shared"] [data-cell="ready"]')).to_have_text("1")

    page.bring_to_front()  # a background tab gets few animation frames: clicks would crawl
    purge = page.locator('#queues tr[data-name="shared"] button[data-action="purge-queue"]')
    purge.click()
    expect(purge).to_have_text("Really purge?")
    purge.click()
    expect(other.locator("#count-ready")).to_have_text("0")
    # The purge re-renders this tab's table too; arm the delete button only after it has, or
    # the re-render could replace the armed button between the two clicks.
    expect(page.locator('#queues tr[data-name="shared"] [data-cell="ready"]')).to_have_text("0")
    delete = page.locator('#queues tr[data-name="shared"] button[data-action="delete-queue"]')
    delete.click()
    expect(delete).to_have_text("Really delete?")
    delete.click()
    expect(other.locator("#deleted-banner")).to_be_visible()
    assert other.console_errors == []


def test_api_errors_are_shown_as_lessons(page: Page, server: LiveServer) -> None:
    client(server.broker).queue_declare("orders", arguments={"x-max-length": 5})

    open_live(page, server, "/exchanges")
    form = page.locator("#declare-exchange")
    form.get_by_label("Name").fill("amq.mine")
    form.get_by_role("button", name="Declare exchange").click()
    error = page.locator("#declare-result .notice.error")
    expect(error.locator(".reason")).to_contain_text("ACCESS_REFUSED")
    expect(error.locator(".hint")).not_to_be_empty()

    open_live(page, server, "/queues")
    form = page.locator("#declare-queue")
    form.get_by_label("Name").fill("orders")
    form.get_by_label("durable").uncheck()  # as declared; only the argument differs
    form.locator('input[name="x-max-length"]').fill("7")
    form.get_by_role("button", name="Declare queue").click()
    error = page.locator("#declare-result .notice.error")
    expect(error).to_contain_text("PRECONDITION_FAILED")
    expect(error).to_contain_text("x-max-length")


def test_event_log_filters_pauses_and_tells_a_message_story(page: Page, server: LiveServer) -> None:
    channel = client(server.broker)
    channel.queue_declare("jobs")
    open_live(page, server, "/events")
    channel.basic_publish("", "jobs", b"story")
    rows = page.locator("#log-body tr")
    expect(page.locator('#log-body tr[data-type="published"]')).to_have_count(1)

    page.locator("#filter-type").select_option("group:topology")
    expect(page.locator('#log-body tr[data-type="published"]')).to_have_count(0)
    expect(page.locator('#log-body tr[data-type="queue.declared"]')).to_have_count(1)
    page.locator("#filter-type").select_option("")
    page.locator("#filter-entity").fill("nothing-is-called-this")
    expect(rows).to_have_count(0)
    page.locator("#filter-entity").fill("jobs")
    expect(page.locator('#log-body tr[data-type="enqueued"]')).to_have_count(1)

    page.get_by_role("button", name="Pause").click()
    channel.basic_publish("", "jobs", b"while paused")
    # published, routed, enqueued: counted while paused, shown on resume
    expect(page.locator("#log-status")).to_contain_text("paused, 3 new events waiting")
    expect(page.locator('#log-body tr[data-type="published"]')).to_have_count(1)
    page.get_by_role("button", name="Resume").click()
    expect(page.locator('#log-body tr[data-type="published"]')).to_have_count(2)

    delivery = channel.basic_get("jobs")
    channel.basic_ack(delivery.delivery_tag)
    page.locator('#log-body tr[data-type="acked"] button[data-message-id]').click()
    steps = page.locator("#history-body .timeline li")
    expect(steps.first).to_contain_text("published")
    expect(steps.first).to_contain_text("story")
    expect(page.locator("#history-body")).to_contain_text("enqueued")
    expect(steps.last).to_contain_text("acked")


def test_connections_page_follows_clients(page: Page, server: LiveServer) -> None:
    open_live(page, server, "/connections")
    connection = server.broker.connect(
        "pika on the laptop", client_properties={"product": "pika", "version": "1.3.2"}
    )
    channel = connection.channel()
    channel.basic_qos(7)
    table = page.locator("#connections-table")
    expect(table).to_contain_text("pika on the laptop")
    expect(table).to_contain_text("1.3.2")
    expect(page.locator("#channels-table")).to_contain_text("7")
    expect(page.locator("#channels-table")).not_to_contain_text("client not reading")
    # Play a socket writer whose client stopped reading: one delivery uses up its credit.
    channel.queue_declare("backlog")
    for _ in range(3):
        channel.basic_publish("", "backlog", b"waiting")
    channel.delivery_credit = 1
    channel.basic_consume("backlog", lambda delivery: None, no_ack=True)
    expect(page.locator("#channels-table")).to_contain_text("client not reading")
    connection.channel().basic_consume("amq.rabbitmq.reply-to", lambda d: None, no_ack=True)
    reply_row = page.locator("#all-consumers-table tr", has_text="direct reply-to")
    expect(reply_row).to_contain_text("amq.rabbitmq.reply-to.")
    expect(reply_row.locator("a.entity-link")).to_have_count(0)  # no queue page to open
    connection.close()
    expect(page.locator("#connection-tables")).not_to_contain_text("pika on the laptop")


def test_missing_queue_page_teaches_then_opens_when_declared(
    page: Page, server: LiveServer
) -> None:
    open_live(page, server, "/queues/%2F/later")
    expect(page.locator(".notice.error")).to_contain_text(
        "NOT_FOUND - no queue 'later' in vhost '/'"
    )
    client(server.broker).queue_declare("later", arguments={"x-max-length": 3})
    expect(page.locator("#entity-name")).to_have_text("later")
    expect(page.locator("#facts")).to_contain_text("x-max-length")


def test_publish_many_starts_a_simulated_producer(page: Page, server: LiveServer) -> None:
    channel = client(server.broker)
    channel.exchange_declare("ticks", "fanout")
    channel.queue_declare("t1")
    channel.queue_bind("t1", "ticks", "")
    open_live(page, server, f"/exchanges/%2F/{q('ticks')}")
    publish = page.locator("#publish")
    publish.locator('textarea[name="payload"]').fill("tick {n}")
    publish.locator('input[name="count"]').fill("5")
    publish.locator('input[name="rate"]').fill("200")
    publish.get_by_role("button", name="Publish").click()
    expect(page.locator("#publish-result")).to_contain_text("simulated producer")
    expect(page.locator("#producer-list li")).to_contain_text("published 5")
    expect(page.locator('[data-fact="routed"]')).to_have_text("5")


def test_projector_mode_sticks(page: Page, server: LiveServer) -> None:
    open_live(page, server, "/")
    page.get_by_role("button", name="Projector").click()
    expect(page.locator("html")).to_have_attribute("data-projector", "on")
    open_live(page, server, "/queues")
    expect(page.locator("html")).to_have_attribute("data-projector", "on")
    expect(page.locator("#live-status")).to_have_text("live")


def test_messages_with_properties_and_headers(page: Page, server: LiveServer) -> None:
    channel = client(server.broker)
    channel.exchange_declare("match", "headers")
    channel.queue_declare("pdf")
    open_live(page, server, "/exchanges/%2F/match")
    bind = page.locator("#bind")
    bind.locator('input[name="destination"]').fill("pdf")
    bind.get_by_label("x-match").select_option("any")
    bind.get_by_role("button", name="+ add headers to match").click()
    bind.locator(".kv-row .kv-key").fill("format")
    bind.locator(".kv-row .kv-value").fill("pdf")
    bind.get_by_role("button", name="Bind").click()
    expect(page.locator("#bindings-table")).to_contain_text("x-match")

    publish = page.locator("#publish")
    publish.get_by_role("button", name="+ add headers").click()
    publish.locator(".kv-row .kv-key").fill("format")
    publish.locator(".kv-row .kv-value").fill("pdf")
    publish.locator("summary").click()
    publish.locator('input[name="correlation_id"]').fill("corr-42")
    publish.locator('textarea[name="payload"]').fill("%PDF-1.7")
    publish.get_by_role("button", name="Publish").click()
    expect(page.locator("#publish-result")).to_contain_text("Routed")

    open_live(page, server, "/queues/%2F/pdf")
    page.get_by_role("button", name="Peek").click()
    peeked = page.locator("#peek li.message")
    expect(peeked).to_contain_text("header format")
    expect(peeked).to_contain_text("corr-42")
    expect(peeked).to_contain_text("%PDF-1.7")
    channel.basic_publish("", "pdf", bytes(range(250, 256)), Properties(content_type="bin"))
    page.locator("#get").get_by_label("Count").fill("2")
    page.locator("#get").get_by_role("button", name="Get").click()
    expect(page.locator("#get-messages li.message").nth(1)).to_contain_text("base64")

    # A binding with arguments is removed by its properties_key (key plus arguments' hash).
    open_live(page, server, "/exchanges/%2F/match")
    unbind = page.locator("#bindings-table").get_by_role("button", name="Unbind")
    unbind.click()
    unbind.click()
    expect(page.locator("#no-bindings")).to_be_visible()


def test_the_page_reconnects_and_redraws_after_a_server_restart(page: Page) -> None:
    first = Broker()
    with live_server(first) as server:
        client(first).queue_declare("before-restart")
        open_live(page, server, "/")
        expect(queue_node(page, "before-restart")).to_be_visible()
        server.app.extensions["queuelab.live"].shutdown()  # close frames, as on Ctrl-C
        expect(page.locator("body")).to_have_attribute("data-live", "closed")
        expect(page.locator("#live-status")).to_contain_text("retrying")
        port = server.port
    first.close()

    second = Broker()  # a fresh broker on the same port: the page must forget the old one
    client(second).queue_declare("after-restart")
    restarted = make_server("127.0.0.1", port, create_app({"BROKER": second}), threaded=True)
    thread = threading.Thread(target=restarted.serve_forever, daemon=True)
    thread.start()
    try:
        expect(page.locator("body")).to_have_attribute("data-live", "open", timeout=15_000)
        expect(queue_node(page, "after-restart")).to_be_visible()
        expect(queue_node(page, "before-restart")).to_have_count(0)
    finally:
        restarted.shutdown()
        thread.join(timeout=10)
        second.close()
