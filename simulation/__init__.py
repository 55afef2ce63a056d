"""Simulated producers and consumers: traffic a lesson switches on with one click."""

from simulation.simulations import (
    SimulationError,
    Simulations,
    consumer_options,
    producer_options,
    render,
)

__all__ = ["SimulationError", "Simulations", "consumer_options", "producer_options", "render"]
