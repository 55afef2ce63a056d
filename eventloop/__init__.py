"""The instrumented asyncio event loop behind the event-loop page, and its demo services.

``ServiceLoop`` runs an :class:`InstrumentedEventLoop` in a thread of its own and offers
thread-safe controls (pause / step / run / slow motion), a JSON-able ``snapshot()`` and a
bounded event stream. ``DEMOS`` holds the demo coroutines students can start on it.
"""

from .demos import DEMOS, Demo, register_demo
from .instrumented import InstrumentedEventLoop, note, report_handled
from .service import ServiceLoop
from .stream import Batch, Subscription

__all__ = [
    "DEMOS",
    "Batch",
    "Demo",
    "InstrumentedEventLoop",
    "ServiceLoop",
    "Subscription",
    "note",
    "register_demo",
    "report_handled",
]
