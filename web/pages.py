"""The HTML pages."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

pages = Blueprint("pages", __name__)


@pages.get("/")
def overview() -> str:
    broker = current_app.config["BROKER"]
    return render_template("overview.html", snapshot=broker.snapshot())
