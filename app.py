"""QueueLab: the app factory and the command line.

    python app.py                      # http://127.0.0.1:15672 and amqp://guest:guest@127.0.0.1:5672/
    python app.py --host 0.0.0.0       # a classroom: prints the URL students should open
    python app.py --amqp-port 0        # AMQP on any free port; --no-amqp for none
    python app.py --data-dir /srv/ql   # where durable topology is kept (./data); --in-memory: none

One process holds the broker: the web pages, the in-process clients and the AMQP listener all
share it. Ports: the management UI/API on 15672 and AMQP on 5672, as RabbitMQ uses; when a default
port is taken (say a real RabbitMQ runs), the next free one is used and printed. A port you ask
for explicitly must be free.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from typing import Any

from flask import Flask

from broker import Broker
from broker.store import Store, StoreError
from gc_tuning import tune_for_broker

DEFAULT_HTTP_PORT = 15672
DEFAULT_AMQP_PORT = 5672
DEFAULT_DATA_DIR = "data"


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
    parser.add_argument(
        "--amqp-port", type=int, default=None, help=f"AMQP port ({DEFAULT_AMQP_PORT}; 0 = any free)"
    )
    parser.add_argument("--no-amqp", action="store_true", help="do not start the AMQP listener")
    parser.add_argument(
        "--amqp-user",
        action="append",
        default=[],
        metavar="USER:PASSWORD",
        help="an AMQP login (repeatable; default guest:guest)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another name the web UI may be opened by (e.g. a DNS name for the classroom)",
    )
    parser.add_argument(
        "--lessons",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of a teacher's own lesson files (*.toml), besides the shipped ones",
    )
    parser.add_argument(
        "--data-dir",
        default=DEFAULT_DATA_DIR,
        metavar="DIR",
        help=f"where durable exchanges, queues and bindings are kept (./{DEFAULT_DATA_DIR})",
    )
    parser.add_argument(
        "--in-memory", action="store_true", help="keep nothing on disk: every start is empty"
    )
    parser.add_argument("--debug", action="store_true", help="Flask debug mode with reloader")
    return parser.parse_args(argv)


def parse_users(pairs: list[str]) -> dict[str, str]:
    users = {}
    for pair in pairs or ["guest:guest"]:
        user, sep, password = pair.partition(":")
        if not sep or not user:
            sys.exit(f"queuelab: --amqp-user wants USER:PASSWORD, not {pair!r}")
        users[user] = password
    return users


def start_amqp(broker: Broker, args: argparse.Namespace):
    """The AMQP listener: the asked-for port, or 5672 (or the next free one after it)."""
    from amqp import AMQPServer

    users = parse_users(args.amqp_user)
    if args.amqp_port is not None:
        server = AMQPServer(broker, args.host, args.amqp_port, users)
        try:
            return server.start()
        except OSError as error:
            sys.exit(f"queuelab: cannot listen for AMQP on {args.host}:{args.amqp_port}: {error}")
    server = AMQPServer(broker, args.host, DEFAULT_AMQP_PORT, users)
    return server.start(port_attempts=100)


def open_broker(args: argparse.Namespace, watcher: bool) -> Broker:
    """The broker, rebuilt from the data directory's store unless --in-memory (or this is only
    the reloader's watcher). A store that cannot be read stops the start: a user's data is
    never silently replaced by an empty broker."""
    if watcher:
        return Broker()
    if args.in_memory:
        print("QueueLab data:   in memory only (--in-memory): nothing is kept", flush=True)
        return Broker()
    try:
        broker = Broker(store=Store(args.data_dir))
    except StoreError as error:
        sys.exit(f"queuelab: {error}")
    print(f"QueueLab data:   {broker.store.path} ({broker.recovered})", flush=True)
    return broker


def lan_address() -> str | None:
    """This machine's address on the local network, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent; picks the LAN interface
            return probe.getsockname()[0]
        except OSError:
            return None


def classroom_urls(host: str, port: int) -> list[str]:
    """What to print: the local URL, plus this machine's address when serving the network."""
    if host not in ("0.0.0.0", "::"):
        return [f"http://{host}:{port}/"]
    urls = [f"http://127.0.0.1:{port}/"]
    address = lan_address()
    if address is not None:
        urls.append(f"http://{address}:{port}/  <- students open this")
    return urls


def allowed_hosts(host: str, extra: list[str]) -> frozenset[str]:
    """The Host names the web app answers to: loopback, the bind address, and when serving the
    network this machine's names and address; plus what the teacher allows (--allow-host)."""
    from web.toolkit import LOOPBACK_HOSTS

    names = set(LOOPBACK_HOSTS) | {name.lower() for name in extra}
    if host in ("0.0.0.0", "::"):
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        names |= {address for address in [lan_address()] if address}
    else:
        names.add(host.lower())
    return frozenset(names)


def web_port(args: argparse.Namespace) -> int:
    """The web port. Under the reloader the watching process binds it and hands the socket to
    the serving child, so the child must use the port the watcher chose, not choose again."""
    if os.environ.get("WERKZEUG_RUN_MAIN") == "true" and "QUEUELAB_WEB_PORT" in os.environ:
        return int(os.environ["QUEUELAB_WEB_PORT"])
    port = choose_port(args.host, args.port, DEFAULT_HTTP_PORT, "web")
    os.environ["QUEUELAB_WEB_PORT"] = str(port)
    return port


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # the same clean shutdown as Ctrl-C


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    tune_for_broker()
    # Under the reloader the first process only watches files; the child serves. Starting the
    # broker and listener in the watcher too would bind the AMQP port twice.
    watcher = args.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true"
    port = web_port(args)
    broker = open_broker(args, watcher)
    amqp = None if (args.no_amqp or watcher) else start_amqp(broker, args)
    app = create_app(
        {
            "BROKER": broker,
            "AMQP_URL": amqp.url if amqp else None,
            "ALLOWED_HOSTS": allowed_hosts(args.host, args.allow_host),
            "LESSONS_DIRS": args.lessons,
        }
    )
    if not watcher:
        for url in classroom_urls(args.host, port):
            print(f"QueueLab web UI: {url}", flush=True)
        if amqp is not None:
            print(f"QueueLab AMQP:   {amqp.url}", flush=True)
            if amqp.port != DEFAULT_AMQP_PORT and args.amqp_port is None:
                print(f"  (port {DEFAULT_AMQP_PORT} is taken, so AMQP is on {amqp.port})")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        app.run(host=args.host, port=port, threaded=True, debug=args.debug)
    except KeyboardInterrupt:
        pass
    finally:
        shutdown(app, amqp, broker)


def shutdown(app: Flask, amqp: Any, broker: Broker) -> None:
    """Close frames to every page and AMQP client (320 CONNECTION_FORCED), stop simulations and
    the service loop, then the broker."""
    import web

    web.shutdown(app)
    if amqp is not None:
        amqp.stop()
    broker.close()


if __name__ == "__main__":
    main()
