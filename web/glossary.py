"""The glossary: each concept QueueLab teaches in the article's Chinese and in English.

`/glossary` pairs the terms (交换机 — exchange), says in one sentence what each is, and links the
page where it can be watched live; `GET /api/glossary` gives the same as JSON (in the request's
language) for scripts and lessons.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template
from flask_babel import gettext

from lessons.concepts import CONCEPTS
from web.pages import NAV

glossary = Blueprint("glossary", __name__)


@glossary.app_context_processor
def _nav_labels() -> dict[str, Any]:
    labels = dict(NAV)
    return {"nav_label": lambda endpoint: labels[endpoint]}


def entries(translate: bool = True) -> list[dict[str, Any]]:
    """The concepts in order; `meaning` translated, or (for the page, which translates it in a
    way a switch in place can redo) left as its English message id."""
    return [
        {
            "id": concept.id,
            "english": concept.english,
            "chinese": concept.chinese,
            "meaning": gettext(concept.meaning) if translate else concept.meaning,
            "page": concept.page,
        }
        for concept in CONCEPTS
    ]


@glossary.get("/glossary")
def page() -> str:
    return render_template("glossary.html", entries=entries(translate=False))


@glossary.get("/api/glossary")
def api() -> Any:
    return jsonify(entries())
