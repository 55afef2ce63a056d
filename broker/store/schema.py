"""The store's file: its tables, its schema version, and opening it safely.

The version lives in SQLite's `user_version`, and `application_id` marks the file as QueueLab's,
so a file from elsewhere, a corrupt file or one written by a newer QueueLab is refused with a
clear error naming it, never read as empty and then written over.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_VERSION = 1
APPLICATION_ID = 0x51554C42  # "QULB"
FILE_NAME = "queuelab.sqlite3"

TABLES = """
CREATE TABLE vhosts (name TEXT PRIMARY KEY);
CREATE TABLE exchanges (
    vhost TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
    auto_delete INTEGER NOT NULL, internal INTEGER NOT NULL, arguments TEXT NOT NULL,
    PRIMARY KEY (vhost, name)
);
CREATE TABLE queues (
    vhost TEXT NOT NULL, name TEXT NOT NULL,
    auto_delete INTEGER NOT NULL, arguments TEXT NOT NULL,
    PRIMARY KEY (vhost, name)
);
CREATE TABLE bindings (
    vhost TEXT NOT NULL, source TEXT NOT NULL, destination_kind TEXT NOT NULL,
    destination TEXT NOT NULL, routing_key TEXT NOT NULL, arguments TEXT NOT NULL,
    PRIMARY KEY (vhost, source, destination_kind, destination, routing_key, arguments)
);
"""


class StoreError(Exception):
    """The store cannot be used: the message names the file and says what to do."""


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the store's file with the settings every reader and writer uses:
    WAL (readers do not wait for the writer) and synchronous=FULL (a commit is on disk)."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


def open_database(path: Path) -> sqlite3.Connection:
    """Open (or create) the store at `path`, checking it is a QueueLab store this version reads."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = connect(path)
        try:
            check_or_create(db, path)
            result = db.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise StoreError(f"{path}: the store is damaged ({result}); {_KEEP}")
        except BaseException:
            db.close()
            raise
    except sqlite3.Error as error:
        raise StoreError(f"{path}: cannot read the store ({error}); {_KEEP}") from error
    except OSError as error:
        raise StoreError(f"{path}: cannot open the store ({error.strerror})") from error
    return db


_KEEP = (
    "QueueLab will not start over it. Move the file away to start empty, "
    "or use --in-memory for no store"
)


def check_or_create(db: sqlite3.Connection, path: Path) -> None:
    application_id = db.execute("PRAGMA application_id").fetchone()[0]
    version = db.execute("PRAGMA user_version").fetchone()[0]
    tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if application_id == 0 and version == 0 and tables == 0:
        db.executescript(
            f"BEGIN; {TABLES} PRAGMA application_id={APPLICATION_ID};"
            f" PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
        )
        return
    if application_id != APPLICATION_ID:
        raise StoreError(f"{path}: this SQLite file is not a QueueLab store; {_KEEP}")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: the store was written by a newer QueueLab (schema {version}; this one "
            f"reads {SCHEMA_VERSION}); run that version, or move the file away"
        )
    if version < SCHEMA_VERSION:
        raise StoreError(f"{path}: unknown store schema {version}; {_KEEP}")
