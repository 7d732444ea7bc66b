"""The catalogue's SQLite schema and its step-wise migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from photofinder.core.errors import CatalogDamagedError, NewerCatalogError
from photofinder.core.storage.backup import library_evidence

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
    # 3: the layout hash (photofinder.core.photos.layout_hash) that finds rotated and mirrored
    # copies; NULL until computed (older rows are filled from their thumbnails on first use).
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
    # 5: failures that may go away (permission, I/O error, memory) are retried on each update;
    # older rows are classed by their stored reason. Symbolic links and special files that a
    # scan skipped, with the reason shown in `status` (paths that are not valid UTF-8 are
    # stored as BLOBs of their OS bytes, in every path column).
    """
    ALTER TABLE files ADD COLUMN error_transient INTEGER NOT NULL DEFAULT 0;
    UPDATE files SET error_transient = 1 WHERE status = 'failed' AND (
        error LIKE 'permission denied%' OR error LIKE 'unreadable%'
        OR error LIKE 'not enough memory%');
    CREATE TABLE skipped (
        path TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        seen_at REAL NOT NULL
    );
    """,
    # 6: the duplicate checker's verdict on a pair of photos, by their content hashes (sorted)
    # and the checker's version, so that each pair is checked once, whatever the strictness,
    # the folder or the run (photofinder.core.duplicates.verdicts). A cache: repair drops it.
    """
    CREATE TABLE verdicts (
        hash_a TEXT NOT NULL,
        hash_b TEXT NOT NULL,
        version TEXT NOT NULL,
        same INTEGER NOT NULL CHECK (same IN (0, 1)),
        PRIMARY KEY (hash_a, hash_b, version)
    ) WITHOUT ROWID;
    """,
    # 7: each photo's keypoints, detected while it is indexed, for the duplicate check and
    # precise search (photofinder.core.matching.stored_keypoints), under the version of what
    # detected them. A cache beside the thumbnail: repair drops it, photos without are
    # detected when needed.
    """
    CREATE TABLE keypoints (
        file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
        version TEXT NOT NULL,
        data BLOB NOT NULL
    );
    """,
    # 8: a method's photo ids read from an index alone (the index's sync at every start):
    # through vectors_by_method each id was a row lookup, seconds at 100,000 photos.
    """
    CREATE INDEX vectors_ids_by_method ON vectors(method, version, file_id);
    """,
    # 9: a counter that triggers move whenever something duplicate groups depend on changes
    # (a photo that is or was indexed, vectors, recorded neighbours, the user's decisions, a
    # setting other than the neighbour mark), and the last groups found under each search key
    # with the counter they were found at (photofinder.core.duplicates.remembered_groups): a
    # search of an unchanged library answers from them. A cache: repair drops the groups.
    """
    CREATE TABLE changes (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        counter INTEGER NOT NULL
    );
    INSERT INTO changes(id, counter) VALUES (1, 0);
    CREATE TRIGGER files_added AFTER INSERT ON files
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER files_changed AFTER UPDATE ON files
        WHEN OLD.status = 'ok' OR NEW.status = 'ok'
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER files_removed AFTER DELETE ON files
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER vectors_added AFTER INSERT ON vectors
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER vectors_changed AFTER UPDATE ON vectors
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER vectors_removed AFTER DELETE ON vectors
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER neighbours_added AFTER INSERT ON neighbours
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER neighbours_changed AFTER UPDATE ON neighbours
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER neighbours_removed AFTER DELETE ON neighbours
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER decisions_added AFTER INSERT ON decisions
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER decisions_changed AFTER UPDATE ON decisions
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER decisions_removed AFTER DELETE ON decisions
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER settings_added AFTER INSERT ON settings
        WHEN NEW.key NOT LIKE 'neighbours_seq:%'
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER settings_changed AFTER UPDATE ON settings
        WHEN NEW.key NOT LIKE 'neighbours_seq:%'
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER settings_removed AFTER DELETE ON settings
        WHEN OLD.key NOT LIKE 'neighbours_seq:%'
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TABLE duplicate_results (
        key TEXT PRIMARY KEY,
        changes INTEGER NOT NULL,
        groups TEXT NOT NULL,
        considered BLOB NOT NULL,
        absent BLOB NOT NULL
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _refuse_newer(current: int) -> None:
    if current > SCHEMA_VERSION:
        raise NewerCatalogError(
            f"the catalogue was written by a newer PhotoFinder (schema {current}, this version "
            f"understands up to {SCHEMA_VERSION}); update PhotoFinder or use another data folder"
        )


def statements(script: str) -> list[str]:
    """The SQL statements of `script`, a trigger's body (with its own semicolons) kept whole."""
    found: list[str] = []
    pending = ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                found.append(pending.strip())
            pending = ""
    if pending.strip(" \n;"):
        found.append(pending.strip())
    return found


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the database up to SCHEMA_VERSION, one transaction per step; refuse newer ones.
    Each step re-reads the version inside its write transaction, so two processes migrating
    at once apply every step exactly once."""
    current = _user_version(conn)
    _refuse_newer(current)
    while current < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = _user_version(conn)
            _refuse_newer(current)
            if current < SCHEMA_VERSION:
                for statement in statements(MIGRATIONS[current]):
                    conn.execute(statement)
                current += 1
                conn.execute(f"PRAGMA user_version = {current}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def refuse_emptied_catalog(conn: sqlite3.Connection, path: Path) -> None:
    """Raise CatalogDamagedError when the catalogue holds no schema (a zero-byte or emptied
    file, or none at all) although its folder shows that a library existed there."""
    if _user_version(conn) or conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
        return
    evidence = library_evidence(path.parent)
    if evidence is not None:
        raise CatalogDamagedError(
            f"the catalogue {path} is empty, but a library existed in this folder "
            f"({evidence}): run `photofinder repair` to start it again with its folders"
        )
