"""Routing-key and body templates for simulated producers.

``{n}`` is the message number (from 1), ``{eu|us|asia}`` picks one of the choices at random
(from the simulation's seeded generator, so a seed repeats the same choices), ``{ts}`` is the
time (ISO 8601, UTC). Other braces stay as they are, so a JSON body is a template as it is.
"""

from __future__ import annotations

import datetime as dt
import random
import re

_PLACEHOLDER = re.compile(r"\{(n|ts|[^{}|\"]+(?:\|[^{}|\"]*)+)\}")


def render(template: str, number: int, rng: random.Random) -> str:
    """Fill in `{n}`, `{ts}` and `{a|b|c}` placeholders; other braces (JSON) stay as they are."""

    def fill(match: re.Match[str]) -> str:
        token = match.group(1)
        if token == "n":
            return str(number)
        if token == "ts":
            return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        return rng.choice(token.split("|"))

    return _PLACEHOLDER.sub(fill, template)
