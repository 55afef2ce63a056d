"""Exchange types, one module each, looked up by the name a client declares."""

from __future__ import annotations

from broker.exchanges.base import Binding, Router
from broker.exchanges.direct import DirectRouter
from broker.exchanges.fanout import FanoutRouter
from broker.exchanges.headers import HeadersRouter
from broker.exchanges.topic import TopicRouter

ROUTERS: dict[str, type] = {
    "direct": DirectRouter,
    "fanout": FanoutRouter,
    "topic": TopicRouter,
    "headers": HeadersRouter,
}

__all__ = ["ROUTERS", "Binding", "Router"]
