"""Ours, beyond RabbitMQ: simulated producers and consumers (list, start, look at, stop)."""

from __future__ import annotations

from flask import Response, request

from web.api import inputs
from web.api.routing import route
from web.api.state import api_state
from web.serialize import json_safe
from web.toolkit import ApiError, json_response, read_json_body


@route("simulations", "GET")
def simulations_list() -> Response:
    return json_response(json_safe(api_state().simulations.list(request.args.get("vhost"))))


@route("simulations", "POST")
def simulations_start() -> Response:
    options = read_json_body()
    vhost = options.get("vhost", "/")
    if isinstance(vhost, str):
        inputs.vhost(vhost)
    info = api_state().start_simulation(options)
    return json_response(json_safe(info), 201, {"Location": f"/api/simulations/{info['id']}"})


def _not_found(text: str) -> ApiError:
    return ApiError(404, "not_found", f"NOT_FOUND - no simulation '{text[:50]}'")


def _simulation_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _not_found(text) from None


@route("simulations/{id}", "GET")
def simulation_get(sim_id: str) -> Response:
    simulation = api_state().simulations.get(_simulation_id(sim_id))
    if simulation is None:
        raise _not_found(sim_id)
    return json_response(json_safe(simulation.info()))


@route("simulations/{id}", "DELETE")
def simulation_delete(sim_id: str) -> Response:
    if not api_state().simulations.stop(_simulation_id(sim_id)):
        raise _not_found(sim_id)
    return Response(status=204)
