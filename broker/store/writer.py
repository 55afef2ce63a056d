"""The store's one writer thread: changes in the order the broker made them, committed in groups.

The front hands changes over after releasing the broker lock (`submit` never touches the disk).
The writer takes everything that has gathered and commits it in one transaction: one fsync for
many changes (synchronous=FULL), as RabbitMQ's message store groups its writes. A transaction
that fails is rolled back and its changes are written one by one, so one bad change is lost
alone, reported (log and `on_failure`), and every later change is still written.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable

from broker.store.changes import Change
from broker.store.writes import apply

log = logging.getLogger("queuelab.store")

# What the writer reports when a change could not be written: (the change, the error).
FailureReport = Callable[[Change, BaseException], None]
_STOP = object()


class Writer:
    def __init__(self, db: sqlite3.Connection, on_failure: FailureReport) -> None:
        self._db = db
        self._on_failure = on_failure
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._written = 0  # the sequence number of the last change done with (written or lost)
        self._done = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="queuelab-store", daemon=True)
        self._thread.start()

    def submit(self, change: Change, seq: int) -> None:
        """Queue a change (no disk I/O: safe anywhere, cheap)."""
        self._inbox.put((seq, change))

    def wait(self, seq: int) -> None:
        """Return once change `seq` and all before it are done with (written, or reported lost)."""
        with self._done:
            self._done.wait_for(lambda: self._written >= seq or self._stopped)

    def stop(self) -> None:
        """Write what was submitted, then end the thread."""
        self._inbox.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        stop = False
        while not stop:
            batch = [self._inbox.get()]
            while True:
                try:
                    batch.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            stop = batch[-1] is _STOP
            changes = [item for item in batch if item is not _STOP]
            if changes:
                self._write(changes)
        with self._done:
            self._stopped = True
            self._done.notify_all()

    def _write(self, changes: list[tuple[int, Change]]) -> None:
        try:
            self._commit(changes)
        except Exception:
            for one in changes:  # find the change that failed; write the others
                try:
                    self._commit([one])
                except Exception as error:
                    self._report(one[1], error)
        with self._done:
            self._written = changes[-1][0]
            self._done.notify_all()

    def _commit(self, changes: list[tuple[int, Change]]) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for _, change in changes:
                apply(db, change)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _report(self, change: Change, error: BaseException) -> None:
        log.error("the store could not write %r", change, exc_info=error)
        try:
            self._on_failure(change, error)
        except Exception:
            log.exception("reporting a store failure failed")
