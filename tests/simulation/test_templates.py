"""Producer templates: {n}, {ts} and {a|b}; other braces (JSON) stay as they are."""

from __future__ import annotations

import random

from simulation import render


def test_templates() -> None:
    rng = random.Random(1)
    assert render("a.{n}", 7, rng) == "a.7"
    assert render('{"x": {n}}', 3, rng) == '{"x": 3}'
    assert render("{a|b}", 1, rng) in ("a", "b")
    assert render("{}", 1, rng) == "{}"
