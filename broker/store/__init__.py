"""The durable store: durable topology on disk (SQLite, WAL), written by one thread.

The broker never calls the disk under its lock. A verb that changes something durable leaves a
`StoreWrite` action (actions.py) holding one change (changes.py); the front hands it to the
store's one writer thread (writer.py) after letting the lock go, and the writer commits what
has gathered in one transaction (group commit). At start, `Broker(store=…)` reads everything
back (`Store.load`) and rebuilds the state from it (verbs/recover.py): a cold start.

Only durable things are stored: durable exchanges and queues, bindings whose two ends are
durable, vhosts. Non-durable and exclusive ones never touch the disk.
"""

from broker.store.changes import Change, Topology
from broker.store.database import Store, StoreError

__all__ = ["Change", "Store", "StoreError", "Topology"]
