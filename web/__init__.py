"""The web side: blueprints for the pages, the JSON API and the live websocket."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from web.pages import pages

    app.register_blueprint(pages)
