"""Shared by the benchmarks: run them from the repository root (`python bench/x.py`)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def best_of(runs: int, measure) -> float:
    """The best rate of several runs: the least disturbed by whatever else the machine does."""
    return max(measure() for _ in range(runs))
