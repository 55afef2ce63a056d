"""The broker's verbs: functions that change BrokerState under the lock and leave actions.

Each module is one concept, named for it. A verb takes the state (and the channel asking) and
returns what its caller asked for; what must reach the world outside is left in `state.actions`
and carried out by the front (front.py) after the lock is released. Nothing here takes the lock,
does I/O, reads a thread or calls back up into the front. Modules depend downward only:

    deadlines   when the timer must look at a queue again (TTL, x-expires)
    teardown    what goes away and what goes with it: queues, exchanges, bindings, consumers
    expiry      messages past their TTL, queues past x-expires
    dispatch    ready messages to consumers with room, one delivery at a time
    limits      into a queue: x-max-length, x-max-length-bytes and x-overflow
    publish     publish checks, routing (with the trace of why) and the confirm
    dead_letter republishing a rejected, expired or dropped message to the DLX, with x-death
    declare     exchanges and queues: declare, delete, purge, RabbitMQ's equivalence rules
    bindings    queue and exchange bindings
    consume     basic.consume, basic.cancel, basic.get, and a channel's limits (qos, flow, credit)
    settle      ack, nack, reject, recover: the unacked bookkeeping
    lifecycle   connections and channels: open, close, and what closing requeues and deletes
    views       read-only pictures of the state for pages, the HTTP API and tests
"""
