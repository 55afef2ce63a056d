"""The web side: blueprints for the pages, the JSON API and the live websockets.

    toolkit.py   one error shape, one JSON body reader, one cross-site check
    api/         the HTTP API, one module per resource (RabbitMQ's management API)
    pages.py     the broker's HTML pages
    live/        the one websocket fan-out hub, and the broker pages' live socket
    loop/        the event-loop page: its loop, API and socket
    serialize.py broker values as JSON

`register(app)` wires them to the app's broker (`app.config["BROKER"]`) and keeps the shared
pieces in `app.extensions`: "queuelab.simulations" (simulated consumers and producers),
"queuelab.api" (the API's management connection), "queuelab.live" (the broker pages' hub),
"queuelab.loop" and "queuelab.loop.live" (the event-loop page's loop and hub).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import BaseConverter

from broker.vocabulary import vocabulary
from simulation import Simulations


class AnythingConverter(BaseConverter):
    """Matches the rest of the path, slashes and empty segments included (the API reads the
    raw URI itself, since WSGI has already decoded %2F)."""

    regex = r"[\s\S]*"  # newlines too: %0A is a valid name character
    part_isolating = False


def register(app: Flask) -> None:
    from web import api, i18n
    from web.glossary import glossary
    from web.lessons import init_lessons
    from web.live.broker_feed import init_live
    from web.live.hub import decline_compression
    from web.loop import init_loop
    from web.pages import pages
    from web.toolkit import refuse_cross_site, refuse_foreign_host

    broker = app.config["BROKER"]
    simulations = Simulations(broker)
    app.extensions["queuelab.simulations"] = simulations
    app.extensions[api.EXTENSION] = api.ApiState(broker, simulations)
    app.url_map.converters.setdefault("anything", AnythingConverter)
    # Pages read the event vocabulary from here instead of keeping lists of event names.
    app.jinja_env.globals["event_vocabulary"] = vocabulary
    # Another web page must not drive a student's broker: the Host must be one the app serves
    # (DNS rebinding), and a write must come from the app's own pages (Origin).
    app.before_request(refuse_foreign_host)
    app.before_request(refuse_cross_site)
    app.before_request(decline_compression)

    i18n.init_app(app)
    app.register_blueprint(pages)
    app.register_blueprint(glossary)
    init_lessons(app)
    app.register_blueprint(api.api)
    init_live(app, broker, simulations)
    init_loop(app)


def shutdown(app: Flask, timeout: float = 2.0) -> None:
    """Stop what the web side runs for this app: simulations, its live sockets (close frame
    1001) and the service loop. Safe to call more than once."""
    from web.live.broker_feed import EXTENSION as LIVE
    from web.loop import stop_loop

    app.extensions["queuelab.simulations"].stop_all()
    app.extensions[LIVE].shutdown(timeout)
    stop_loop(app, timeout)
