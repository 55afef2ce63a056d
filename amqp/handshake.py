"""The connection handshake's content: what the server offers and what it learns from the client.

    server                           client
    connection.start      ->
                          <-         connection.start-ok   (properties, login)
    connection.tune       ->
                          <-         connection.tune-ok    (frame_max, heartbeat)
                          <-         connection.open       (vhost)
    connection.open-ok    ->

The order and the replies to a wrong step are the protocol's (amqp/protocol.py); here are the
listener's settings, the methods it sends, and what it keeps from the client's answers.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from pamqp import commands

from amqp import auth
from amqp.codec import build
from broker import errors
from broker.errors import AMQPError

VERSION = "0.1.0"

SERVER_CAPABILITIES = {
    "publisher_confirms": True,
    "exchange_exchange_bindings": True,
    "basic.nack": True,
    "consumer_cancel_notify": True,
    "connection.blocked": True,
    "authentication_failure_close": True,
    "per_consumer_qos": True,
}


@dataclass(frozen=True)
class Settings:
    """What the listener offers every client.

    `users` maps user names to passwords (PLAIN and AMQPLAIN logins); `loopback_users` may log in
    only from this machine (RabbitMQ's `loopback_users`: guest, whose password everyone knows);
    `heartbeat` is the interval proposed in connection.tune (the client's answer in tune-ok wins,
    0 turns it off)."""

    users: dict[str, str] = field(default_factory=lambda: {"guest": "guest"})
    loopback_users: frozenset[str] = frozenset({"guest"})
    heartbeat: int = 60
    frame_max: int = 131072
    channel_max: int = 2047
    version: str = VERSION


def server_properties(version: str) -> dict[str, Any]:
    return {
        "capabilities": dict(SERVER_CAPABILITIES),
        "cluster_name": "queuelab",
        "copyright": "QueueLab, a teaching broker",
        "information": "An in-memory broker with RabbitMQ's model, for learning",
        "platform": f"Python {sys.version.split()[0]}",
        "product": "QueueLab",
        "version": version,
    }


class Handshake:
    """One connection's negotiation: filled in as start-ok and tune-ok arrive."""

    def __init__(self, settings: Settings, from_loopback: bool = True) -> None:
        self.settings = settings
        self.from_loopback = from_loopback  # the client connected from this machine
        self.client_properties: dict[str, Any] = {}
        self.cancel_notify = False  # the client understands basic.cancel from the server
        self.auth_failure_close = False  # … and connection.close for a refused login
        self.user = ""
        self.frame_max = settings.frame_max
        self.channel_max = settings.channel_max
        self.heartbeat = 0

    def start(self) -> commands.Connection.Start:
        return build(
            commands.Connection.Start,
            version_major=0,
            version_minor=9,
            server_properties=server_properties(self.settings.version),
            mechanisms=" ".join(auth.MECHANISMS),
            locales="en_US",
        )

    def start_ok(self, method: commands.Connection.StartOk) -> None:
        """Keep the client's properties and check its login. Raises AMQPError: 503 for a
        mechanism we did not offer, 403 for a refused login (RabbitMQ's texts)."""
        self.client_properties = dict(method.client_properties or {})
        capabilities = self.client_properties.get("capabilities") or {}
        self.cancel_notify = bool(capabilities.get("consumer_cancel_notify"))
        self.auth_failure_close = bool(capabilities.get("authentication_failure_close"))
        mechanism = method.mechanism
        try:
            found = auth.credentials(mechanism, method.response)
        except auth.UnknownMechanism:
            message = f"unknown authentication mechanism '{mechanism}'"
            raise AMQPError(errors.COMMAND_INVALID, message) from None
        if found is not None:
            self.user = found[0]
        if found is None or not auth.check(self.settings.users, *found):
            raise AMQPError(
                errors.ACCESS_REFUSED,
                f"Login was refused using authentication mechanism {mechanism}. "
                "For details see the broker logfile.",
            )
        if self.user in self.settings.loopback_users and not self.from_loopback:
            message = f"user '{self.user}' can only connect via localhost"
            raise AMQPError(errors.ACCESS_REFUSED, message)

    def tune(self) -> commands.Connection.Tune:
        return build(
            commands.Connection.Tune,
            channel_max=self.channel_max,
            frame_max=self.frame_max,
            heartbeat=self.settings.heartbeat,
        )

    def tune_ok(self, method: commands.Connection.TuneOk) -> None:
        if method.frame_max:
            self.frame_max = max(4096, min(self.frame_max, method.frame_max))
        if method.channel_max:
            self.channel_max = min(self.channel_max, method.channel_max)
        self.heartbeat = method.heartbeat or 0
