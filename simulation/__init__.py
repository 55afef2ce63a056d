"""Simulated producers and consumers: traffic a lesson switches on with one click."""
