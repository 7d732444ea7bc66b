"""The catalogue's SQLite schema and its step-wise migrations."""

from __future__ import annotations

import sqlite3

from photofinder.core.errors import NewerCatalogError

# Each entry upgrades the schema from version i to i + 1; never edit a released step, append one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE roots (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        excluded INTEGER NOT NULL DEFAULT 0,
        added_at REAL NOT NULL
    );
    CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        root_id INTEGER REFERENCES roots(id) ON DELETE SET NULL,
        path TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        content_hash TEXT,
        width INTEGER,
        height INTEGER,
        format TEXT,
        captured_at TEXT,
        status TEXT NOT NULL CHECK (status IN ('pending', 'ok', 'failed')),
        error TEXT,
        scan_id INTEGER NOT NULL DEFAULT 0,
        updated_at REAL NOT NULL
    );
    CREATE INDEX files_by_hash ON files(content_hash);
    CREATE INDEX files_by_root ON files(root_id);
    CREATE TABLE thumbnails (
        file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
        jpeg BLOB NOT NULL
    );
    CREATE TABLE vectors (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        method TEXT NOT NULL,
        version TEXT NOT NULL,
        vector BLOB NOT NULL,
        UNIQUE (file_id, method)
    );
    CREATE INDEX vectors_by_method ON vectors(method, version, seq);
    CREATE TABLE folder_errors (
        path TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        seen_at REAL NOT NULL
    );
    CREATE TABLE decisions (
        hash_a TEXT NOT NULL,
        hash_b TEXT NOT NULL,
        kind TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (hash_a, hash_b, kind)
    );
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: camera make and model, for duplicate review and keeper rules.
    """
    ALTER TABLE files ADD COLUMN camera TEXT;
    """,
    # 3: the layout hash (photofinder.core.layout_hash) that finds rotated and mirrored copies;
    # NULL until computed (older rows are filled from their thumbnails on first use).
    """
    ALTER TABLE files ADD COLUMN layout_hash INTEGER;
    """,
    # 4: each photo's close neighbours in the vector index, recorded while indexing, so that
    # finding duplicates does not search the whole index again (settings key
    # "neighbours_seq:<method>:<version>" holds the last vector sequence number recorded).
    """
    CREATE TABLE neighbours (
        method TEXT NOT NULL,
        version TEXT NOT NULL,
        a INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        b INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        PRIMARY KEY (method, version, a, b)
    ) WITHOUT ROWID;
    CREATE INDEX neighbours_by_a ON neighbours(a);
    CREATE INDEX neighbours_by_b ON neighbours(b);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the database up to SCHEMA_VERSION, one transaction per step; refuse newer ones."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if current > SCHEMA_VERSION:
        raise NewerCatalogError(
            f"the catalogue was written by a newer PhotoFinder (schema {current}, this version "
            f"understands up to {SCHEMA_VERSION}); update PhotoFinder or use another data folder"
        )
    for version in range(current, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
