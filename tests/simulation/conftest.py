"""The registry of simulations each test starts its simulations from (stopped afterwards)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from broker import Broker
from simulation import Simulations


@pytest.fixture
def simulations(broker: Broker) -> Iterator[Simulations]:
    registry = Simulations(broker)
    yield registry
    registry.stop_all()
