"""Options a simulation cannot run with are refused before anything starts."""

from __future__ import annotations

import pytest

from simulation import SimulationError, Simulations


@pytest.mark.parametrize(
    "options",
    [
        {"kind": "juggler"},
        {"kind": "consumer"},
        {"kind": "consumer", "queue": "q", "failure_rate": 2},
        {"kind": "consumer", "queue": "q", "on_failure": "explode"},
        {"kind": "consumer", "queue": "q", "prefetch": 1.5},
        {"kind": "consumer", "queue": "q", "priority": "high"},
        {"kind": "consumer", "queue": "q", "priority": 2**31},
        {"kind": "consumer", "queue": "q", "colour": "red"},
        {"kind": "producer", "exchange": "x", "rate": 0},
        {"kind": "producer", "exchange": "x", "properties": {"priority": "high"}},
        {"kind": "producer", "exchange": "x", "body": 5},
    ],
)
def test_bad_options_are_refused(simulations: Simulations, options: dict) -> None:
    with pytest.raises(SimulationError):
        simulations.start(options)
