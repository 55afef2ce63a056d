"""Simulated producers and consumers: traffic a lesson switches on with one click.

``Simulations`` (one per broker) starts them from JSON-like options, which
``consumer_options`` / ``producer_options`` check first (``SimulationError`` says what is
wrong); ``render`` fills in a producer's routing-key and body templates. Nothing here knows
Flask: the HTTP API (``web/api.py``) sits on top.

======================  =====================================================================
``options.py``          checking and completing the options; ``SimulationError``
``templates.py``        ``render``: ``{n}``, ``{ts}``, ``{a|b|c}`` in keys and bodies
``base.py``             ``Simulation``: a connection, a thread, a state and counters
``consumer.py``         ``SimulatedConsumer``: prefetch, processing time, failures, crashes
``producer.py``         ``SimulatedProducer``: a steady rate, ``count`` times or until stopped
``registry.py``         ``Simulations``: start, list and stop the simulations of one broker
======================  =====================================================================
"""

from .options import SimulationError, consumer_options, producer_options
from .registry import Simulations
from .templates import render

__all__ = ["SimulationError", "Simulations", "consumer_options", "producer_options", "render"]
