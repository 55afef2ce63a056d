"""The HTTP API: RabbitMQ's management API paths and JSON, for the subset QueueLab supports.

    curl -s localhost:15672/api/queues/%2F
    curl -s -X PUT -H 'content-type: application/json' -d '{"durable": true}' \\
         localhost:15672/api/queues/%2F/orders

One module per resource, as RabbitMQ's management API groups them; `routing` routes every /api
request on its raw path (names may hold '/', written %2F), `inputs` checks what a request asks
for, `views` shows broker state in RabbitMQ's shapes, `state` holds what requests share. Errors
are the toolkit's JSON errors (web/toolkit.py).

Ours, beyond RabbitMQ: `GET /api/queues/{vhost}/{name}/peek`, extra `ackmode`s on `get`,
`GET /api/events`, `GET /api/event-types`, `GET /api/messages/{id}/history`, `/api/simulations`
and `repeat`/`rate` on publish (which start a simulated producer). The event-loop page's
`/api/loop…` endpoints are in web/loop/.
"""

from web.api.routing import api
from web.api.state import EXTENSION, ApiState

# Each module registers its routes, in the order `GET /api` lists them.
# isort: off
from web.api import overview, exchanges, queues, bindings  # noqa: F401, E402
from web.api import clients, definitions, events, simulations  # noqa: F401, E402

# isort: on

__all__ = ["EXTENSION", "ApiState", "api"]
