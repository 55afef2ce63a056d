"""What the AMQP protocol asks of its driver: the client opened, set a timer, hang up."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Opened:
    """connection.open-ok went out: the client is in `vhost` as `user`."""

    user: str
    vhost: str
    heartbeat: int  # seconds agreed in tune-ok, 0 for none


@dataclass(frozen=True)
class SetTimer:
    """Call `timer_fired()` after `seconds` (None: no timer), replacing any earlier timer."""

    seconds: float | None


@dataclass(frozen=True)
class HangUp:
    """Close the socket: after writing the output, or at once (`abort`) for a dead peer."""

    abort: bool = False


Event = Opened | SetTimer | HangUp
