"""The store in a data directory: open it (checked), read it back, and write through one thread."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from broker.store.changes import Change, Topology
from broker.store.schema import FILE_NAME, StoreError, open_database
from broker.store.writer import FailureReport, Writer
from broker.store.writes import read_topology

__all__ = ["Store", "StoreError"]


class Store:
    """A QueueLab store: `Store(data_dir)` opens it or raises StoreError naming the file.

    The broker calls `load` once at start, then `start` the writer; after that only `submit`
    (from the front, never under its lock), `wait` and `close`."""

    def __init__(self, data_dir: str | Path) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self._db = open_database(self.path)
        self._writer: Writer | None = None

    def load(self) -> Topology:
        """Everything durable on disk (before the writer starts)."""
        try:
            return read_topology(self._db)
        except (sqlite3.Error, ValueError) as error:
            raise StoreError(f"{self.path}: cannot read the store back ({error})") from error

    def start(self, on_failure: FailureReport) -> None:
        self._writer = Writer(self._db, on_failure)

    def submit(self, change: Change, seq: int) -> None:
        self._writer.submit(change, seq)

    def wait(self, seq: int) -> None:
        if self._writer is not None:
            self._writer.wait(seq)

    def close(self) -> None:
        """Write everything submitted, then close the file."""
        if self._writer is not None:
            self._writer.stop()
            self._writer = None
        self._db.close()
