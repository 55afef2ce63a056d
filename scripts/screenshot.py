"""Take docs/overview.png for the README: a small shop topology with live traffic, in Chromium.

    python scripts/screenshot.py                     # docs/overview.png (light)
    python scripts/screenshot.py --dark --out docs/overview-dark.png

Starts QueueLab on a free port with a demo topology (a topic exchange for orders, a fanout for
notifications, a dead-letter exchange), consumers that ack, one that rejects some messages, and
producers that publish a few messages a second (some unroutable, on purpose). Then opens the
overview in headless Chromium (/usr/bin/chromium, or $QUEUELAB_CHROMIUM), lets the traffic run
for a few seconds so the rate chart and the moving messages show, and saves the screenshot.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from broker import Broker, Properties  # noqa: E402
from tests.live_server import live_server  # noqa: E402

CHROMIUM = os.environ.get("QUEUELAB_CHROMIUM", "/usr/bin/chromium")


def build_topology(broker: Broker) -> None:
    """Exchanges, queues and bindings of a small web shop."""
    with broker.connect("setup", kind="python") as connection:
        channel = connection.channel()
        channel.exchange_declare("orders", "topic", durable=True)
        channel.exchange_declare("notifications", "fanout", durable=True)
        channel.exchange_declare("dead-letters", "fanout", durable=True)
        channel.queue_declare(
            "orders.eu",
            durable=True,
            arguments={"x-dead-letter-exchange": "dead-letters", "x-message-ttl": 60_000},
        )
        channel.queue_declare("orders.us", durable=True, arguments={"x-max-length": 50})
        channel.queue_declare("audit", durable=True)
        channel.queue_declare("email", durable=True)
        channel.queue_declare("sms", durable=True)
        channel.queue_declare("parked", durable=True)
        channel.queue_bind("orders.eu", "orders", "order.eu.#")
        channel.queue_bind("orders.us", "orders", "order.us.*")
        channel.queue_bind("audit", "orders", "order.*.paid")
        channel.queue_bind("email", "notifications", "")
        channel.queue_bind("sms", "notifications", "")
        channel.queue_bind("parked", "dead-letters", "")


def start_consumer(
    broker: Broker,
    name: str,
    queue: str,
    prefetch: int,
    processing: float,
    reject_rate: float = 0.0,
) -> None:
    """A consumer that acks each message after `processing` seconds (or rejects some)."""
    connection = broker.connect(
        name, kind="python", client_properties={"product": "demo worker", "platform": "Python"}
    )
    channel = connection.channel()
    channel.basic_qos(prefetch)

    def on_message(delivery) -> None:
        def settle() -> None:
            if channel.closed:
                return
            if random.random() < reject_rate:
                channel.basic_reject(delivery.delivery_tag, requeue=False)
            else:
                channel.basic_ack(delivery.delivery_tag)

        timer = threading.Timer(processing * random.uniform(0.6, 1.4), settle)
        timer.daemon = True
        timer.start()

    channel.basic_consume(queue, on_message)


def run_producers(broker: Broker, stop: threading.Event) -> None:
    """Orders from three regions (asia has no binding: unroutable) and some notifications."""
    shop = broker.connect("shop-api", kind="python").channel()
    mailer = broker.connect("signup-service", kind="python").channel()
    regions = ["eu", "eu", "us", "us", "eu", "asia"]
    n = 0
    while not stop.is_set():
        n += 1
        region = regions[n % len(regions)]
        event = random.choice(["created", "paid", "shipped"])
        key = f"order.{region}.{event}" if region != "us" else f"order.us.{event}"
        body = f'{{"order": {1000 + n}, "region": "{region}"}}'.encode()
        shop.basic_publish("orders", key, body, Properties(content_type="application/json"))
        if n % 3 == 0:
            mailer.basic_publish("notifications", "", b"welcome!")
        stop.wait(0.16)


OTHER_PAGES = {
    "exchanges": "/exchanges",
    "exchange": "/exchanges/%2F/orders",
    "queues": "/queues",
    "queue": "/queues/%2F/orders.eu",
    "events": "/events",
    "connections": "/connections",
    "loop": "/loop",
}


def shoot_all(page, base: str, folder: Path) -> None:
    """One screenshot per page, after the page had a moment of live traffic."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in OTHER_PAGES.items():
        page.goto(base + path)
        page.wait_for_selector('body[data-live="open"]')
        if name == "queue":
            page.locator("#get").get_by_role("button", name="Get").click()
            page.get_by_role("button", name="Peek").click()
        if name == "loop":  # a consumer service on the loop, and messages for it
            page.locator('button.demo-start[data-demo="consumer_service"]').click()
            page.wait_for_selector('#queue-depth:not(:text("no queue yet"))')
            page.get_by_role("button", name="Publish 10").click()
        time.sleep(2.5)
        page.evaluate("window.scrollTo(0, 0)")  # sticky bars show where the view was scrolled
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        print(f"saved {folder / f'{name}.png'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "overview.png"))
    parser.add_argument("--dark", action="store_true", help="dark colour scheme")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=12.0, help="traffic before the shot")
    parser.add_argument(
        "--all", metavar="DIR", help="also shoot every other page into DIR (for reviewing)"
    )
    parser.add_argument("--projector", action="store_true", help="projector (large text) mode")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    random.seed(7)
    broker = Broker()
    build_topology(broker)
    start_consumer(broker, "eu-fulfilment", "orders.eu", 3, processing=0.5, reject_rate=0.2)
    start_consumer(broker, "us-fulfilment", "orders.us", prefetch=2, processing=0.9)
    start_consumer(broker, "auditor", "audit", prefetch=10, processing=0.15)
    start_consumer(broker, "mailer", "email", prefetch=1, processing=0.3)
    stop = threading.Event()
    producer = threading.Thread(target=run_producers, args=(broker, stop), daemon=True)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with live_server(broker) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(
                viewport={"width": args.width, "height": args.height},
                color_scheme="dark" if args.dark else "light",
            )
            if args.projector:
                page.add_init_script("localStorage.setItem('queuelab.projector', 'on')")
            page.goto(server.url + "/")
            page.wait_for_selector('body[data-live="open"]')
            producer.start()
            time.sleep(args.seconds)  # a script, not a test: let the traffic build up
            page.screenshot(path=str(out), full_page=True)
            if args.all:
                shoot_all(page, server.url, Path(args.all))
            browser.close()
    finally:
        stop.set()
        broker.close()
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
