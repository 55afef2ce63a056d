"""The web side: blueprints for the pages, the JSON API and the live websocket.

`register(app)` wires them to the app's broker (`app.config["BROKER"]`) and keeps the shared
pieces in `app.extensions`: "queuelab.simulations" (simulated consumers and producers),
"queuelab.api" (the API's management connection) and "queuelab.live" (the websocket hub).
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
    from web import live
    from web.api import ApiState, api
    from web.loop import init_loop
    from web.pages import pages

    broker = app.config["BROKER"]
    simulations = Simulations(broker)
    app.extensions["queuelab.simulations"] = simulations
    app.extensions["queuelab.api"] = ApiState(broker, simulations)
    app.url_map.converters.setdefault("anything", AnythingConverter)
    # Pages read the event vocabulary from here instead of keeping lists of event names.
    app.jinja_env.globals["event_vocabulary"] = vocabulary

    app.register_blueprint(pages)
    app.register_blueprint(api)
    live.init_app(app, broker, simulations)
    init_loop(app)


def shutdown(app: Flask, timeout: float = 2.0) -> None:
    """Stop what the web side runs for this app: simulations, its live sockets (close frame
    1001) and the service loop. Safe to call more than once."""
    from web.loop import stop_loop

    app.extensions["queuelab.simulations"].stop_all()
    app.extensions["queuelab.live"].shutdown(timeout)
    stop_loop(app)
