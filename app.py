"""QueueLab: the app factory and the command line.

    python app.py                      # http://127.0.0.1:15672 and amqp://guest:guest@127.0.0.1:5672/
    python app.py --host 0.0.0.0       # a classroom: prints the URL students should open

One process holds the broker: the web pages, the in-process clients and the AMQP listener all
share it. Ports: the management UI/API on 15672 and AMQP on 5672, as RabbitMQ uses; when a default
port is taken (say a real RabbitMQ runs), the next free one is used and printed. A port you ask
for explicitly must be free.
"""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Any

from flask import Flask

from broker import Broker

DEFAULT_HTTP_PORT = 15672
DEFAULT_AMQP_PORT = 5672


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app around a broker (a new one unless config['BROKER'] is given)."""
    from web import register

    app = Flask(__name__)
    app.config.update(
        BROKER=None,
        MAX_CONTENT_LENGTH=1024 * 1024,
        AMQP_URL=None,
    )
    app.config.update(config or {})
    if app.config["BROKER"] is None:
        app.config["BROKER"] = Broker()
    register(app)
    return app


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def choose_port(host: str, wanted: int | None, default: int, what: str) -> int:
    """The asked-for port (which must be free), or the default or the next free one after it."""
    if wanted is not None:
        if wanted and not port_is_free(host, wanted):
            sys.exit(f"queuelab: {what} port {wanted} on {host} is taken; choose another")
        return wanted
    for port in range(default, default + 100):
        if port_is_free(host, port):
            return port
    sys.exit(f"queuelab: no free {what} port from {default} to {default + 99}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="app.py", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface (0.0.0.0 for a classroom)")
    parser.add_argument("--port", type=int, default=None, help=f"web port ({DEFAULT_HTTP_PORT})")
    parser.add_argument("--debug", action="store_true", help="Flask debug mode with reloader")
    return parser.parse_args(argv)


def classroom_urls(host: str, port: int) -> list[str]:
    """What to print: the local URL, plus this machine's address when serving the network."""
    if host not in ("0.0.0.0", "::"):
        return [f"http://{host}:{port}/"]
    urls = [f"http://127.0.0.1:{port}/"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent; picks the LAN interface
            urls.append(f"http://{probe.getsockname()[0]}:{port}/  <- students open this")
        except OSError:
            pass
    return urls


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    port = choose_port(args.host, args.port, DEFAULT_HTTP_PORT, "web")
    app = create_app()
    for url in classroom_urls(args.host, port):
        print(f"QueueLab web UI: {url}", flush=True)
    app.run(host=args.host, port=port, threaded=True, debug=args.debug)


if __name__ == "__main__":
    main()
