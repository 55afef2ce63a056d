"""What a check answers: solved or not, and why, in words a learner can act on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lessons.checks.lab import Lab


@dataclass(frozen=True)
class Verdict:
    solved: bool
    why: str  # an English message id with %(name)s placeholders (args)
    args: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)  # e.g. the routing trace


Check = Callable[["Lab", dict[str, Any], Any], Verdict]
