"""The broker tests' channel: one connection's first channel on a fresh broker."""

from __future__ import annotations

import pytest

from broker import Broker


@pytest.fixture
def channel(broker: Broker):
    with broker.connect("test") as connection:
        yield connection.channel()
