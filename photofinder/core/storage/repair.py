"""`photofinder repair`: check the catalogue and rebuild a damaged one from what can be read.

The rebuild copies table by table in rowid chunks; a chunk that cannot be read is split in
halves down to single rows, so one bad page loses only its own rows. The damaged files are kept
aside (`catalog.sqlite3.damaged-<time>` with its -wal and -shm), the neighbour cache and the
search indexes are dropped (both are rebuilt from the catalogue), as are the duplicate
checker's verdicts (pairs are checked again when next needed), and `photofinder index`
re-reads whatever was lost."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from photofinder.core.errors import LibraryBusyError, PhotoFinderError
from photofinder.core.storage.atomic import fsync_dir
from photofinder.core.storage.backup import SavedRoot, library_evidence, read_roots_backup
from photofinder.core.storage.catalog import path_from_db, path_to_db
from photofinder.core.storage.locks import library_lock
from photofinder.core.storage.paths import AppPaths
from photofinder.core.storage.schema import migrate
from photofinder.core.storage.sqlite_errors import catalog_error

# Caches (neighbours, the duplicate checker's verdicts, keypoints, remembered duplicate groups
# and the counter they are checked against) and AUTOINCREMENT state: not copied.
SKIPPED_TABLES = frozenset({"neighbours", "verdicts", "keypoints", "duplicate_results",
                            "changes", "sqlite_sequence"})
SKIPPED_SETTING_PREFIX = "neighbours_seq:"  # how far the dropped neighbour cache had got
CHUNK_ROWS = 256
MAX_PROBLEMS = 20
LOCK_TIMEOUT_S = 10.0
SIDE_FILES = ("-wal", "-shm")
_Row = tuple[object, ...]
_Fixer = Callable[[_Row], _Row | None]
BUSY = (
    "another PhotoFinder (the app or a command) is using this library: close it, then run "
    "`photofinder repair` again"
)


@dataclass
class TableRecovery:
    """What the rebuild kept of one table."""

    name: str
    recovered: int = 0
    unreadable: int = 0  # row ids on pages that could not be read
    rejected: int = 0  # rows read but refused by the new catalogue (orphans, bad values)
    dropped: int = 0  # cache bookkeeping left out on purpose


@dataclass
class RepairReport:
    catalog: Path
    healthy: bool
    problems: list[str] = field(default_factory=list)  # what the integrity check found
    damaged_copy: Path | None = None
    tables: list[TableRecovery] = field(default_factory=list)
    roots_restored: int = 0  # folders put back from roots.json
    requeued: int = 0  # photos whose thumbnail was lost: `photofinder index` reads them again
    indexes_removed: int = 0


def repair_library(paths: AppPaths) -> RepairReport:
    """Check the catalogue with SQLite's integrity check; rebuild it when it is damaged, or
    empty where a library existed. Holds the library's locks and refuses (LibraryBusyError)
    while another process has the catalogue open."""
    data_dir, path = paths.data_dir, paths.catalog
    evidence = library_evidence(data_dir)
    if not path.exists() and evidence is None:
        raise PhotoFinderError(f"no catalogue in {data_dir}: nothing to repair")
    with (  # in the order an indexing run takes them
        library_lock(data_dir, "update", timeout_s=LOCK_TIMEOUT_S, busy_reason=BUSY),
        library_lock(data_dir, "catalog", timeout_s=LOCK_TIMEOUT_S, busy_reason=BUSY),
    ):
        report = RepairReport(catalog=path, healthy=False)
        rebuilt = path.with_name(f".{path.name}.repairing")
        rebuilt.unlink(missing_ok=True)
        with _exclusive_source(path) as source:
            report.problems = _integrity_problems(source)
            empty = not report.problems and not _has_schema(source)
            if not report.problems and not (empty and evidence is not None):
                report.healthy = True
                return report
            if empty:
                report.problems = [f"the catalogue is empty, but {evidence}"]
            _rebuild(source, rebuilt, data_dir, report)
        report.damaged_copy = _set_aside(path)
        os.replace(rebuilt, path)
        fsync_dir(path.parent)
        report.indexes_removed = _remove_indexes(paths.index_dir)
        return report


@contextlib.contextmanager
def _exclusive_source(path: Path) -> Iterator[sqlite3.Connection | None]:
    """The damaged catalogue opened with an exclusive lock (None when there is no file).
    Another open connection (the app, a command) makes it LibraryBusyError; a file too
    damaged to lock is read as far as it can be."""
    if not path.exists():
        yield None
        return
    conn = sqlite3.connect(path, isolation_level=None, timeout=0.5)
    try:
        try:
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            conn.execute("BEGIN EXCLUSIVE")
        except sqlite3.Error as exc:
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
            if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise LibraryBusyError(BUSY) from exc
        yield conn
    finally:
        with contextlib.suppress(sqlite3.Error):
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        conn.close()


def _integrity_problems(source: sqlite3.Connection | None) -> list[str]:
    """SQLite's integrity check: [] when it says "ok"."""
    if source is None:
        return ["the catalogue file is missing"]
    try:
        rows = source.execute(f"PRAGMA integrity_check({MAX_PROBLEMS})").fetchall()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    messages = [str(r[0]) for r in rows]
    return [] if messages == ["ok"] else messages


def _has_schema(source: sqlite3.Connection | None) -> bool:
    if source is None:
        return False
    return bool(source.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0])


# --- the rebuild ---------------------------------------------------------------------------
def _rebuild(
    source: sqlite3.Connection | None, target: Path, data_dir: Path, report: RepairReport
) -> None:
    """A new catalogue at `target` with the current schema and every row that can be read."""
    dest = sqlite3.connect(target, isolation_level=None)
    try:
        dest.execute("PRAGMA foreign_keys=ON")
        migrate(dest)
        dest.execute("BEGIN")
        for table in _tables_in_dependency_order(dest):
            recovery = TableRecovery(table)
            report.tables.append(recovery)
            if source is not None:
                _copy_table(source, dest, table, recovery)
            if table == "roots":
                report.roots_restored = _restore_roots(dest, read_roots_backup(data_dir))
        report.requeued = _requeue_photos_without_thumbnail(dest)
        dest.execute("COMMIT")
    except sqlite3.Error as exc:
        dest.close()
        target.unlink(missing_ok=True)
        raise catalog_error(exc, target) from exc
    dest.close()


def _tables_in_dependency_order(dest: sqlite3.Connection) -> list[str]:
    """The new catalogue's tables, each after the tables its foreign keys point to."""
    names = [
        str(r[0]) for r in dest.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid"
        )
        if str(r[0]) not in SKIPPED_TABLES
    ]
    parents = {
        name: {str(r[2]) for r in dest.execute(f"PRAGMA foreign_key_list({_quote(name)})")}
        for name in names
    }
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= {*ordered, n}]
        ordered.extend(ready or [n for n in names if n not in ordered])  # a cycle: as is
    return ordered


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in conn.execute(f"PRAGMA table_info({_quote(table)})")]


def _copy_table(
    source: sqlite3.Connection, dest: sqlite3.Connection, table: str, recovery: TableRecovery
) -> None:
    try:
        available = set(_columns(source, table))
    except sqlite3.DatabaseError:
        available = set()  # the schema itself is unreadable
    columns = [c for c in _columns(dest, table) if c in available]
    if not columns:
        return
    names = ", ".join(_quote(c) for c in columns)
    insert = f"INSERT INTO {_quote(table)} ({names}) VALUES ({', '.join('?' * len(columns))})"
    fix = _row_fixer(dest, table, columns)
    key_at = columns.index("key") if table == "settings" and "key" in columns else None
    rows = (
        _readable_rows(source, table, names, recovery)
        if _has_rowid(dest, table)
        else _readable_prefix(source, f"SELECT {names} FROM {_quote(table)}", recovery)
    )
    for row in rows:
        if key_at is not None and str(row[key_at]).startswith(SKIPPED_SETTING_PREFIX):
            recovery.dropped += 1
            continue
        fixed = fix(row)
        if fixed is None:
            recovery.rejected += 1
            continue
        try:
            dest.execute(insert, fixed)
            recovery.recovered += 1
        except sqlite3.DatabaseError:  # a foreign key to a lost row, or a damaged value
            recovery.rejected += 1


def _has_rowid(conn: sqlite3.Connection, table: str) -> bool:
    try:
        conn.execute(f"SELECT rowid FROM {_quote(table)} LIMIT 0")
    except sqlite3.OperationalError:  # a WITHOUT ROWID table
        return False
    return True


def _readable_rows(
    source: sqlite3.Connection, table: str, names: str, recovery: TableRecovery
) -> Iterator[_Row]:
    """Every row that can still be read, in rowid chunks split down to single rows."""
    select = f"SELECT {names} FROM {_quote(table)} NOT INDEXED"
    try:
        low, high = source.execute(
            f"SELECT MIN(rowid), MAX(rowid) FROM {_quote(table)}"
        ).fetchone()
    except sqlite3.DatabaseError:  # the damage is on the way to the first or last row
        yield from _readable_prefix(source, f"{select} ORDER BY rowid", recovery)
        return
    if low is None:
        return
    ranged = f"{select} WHERE rowid BETWEEN ? AND ?"
    for start in range(int(low), int(high) + 1, CHUNK_ROWS):
        yield from _read_range(source, ranged, start, min(start + CHUNK_ROWS - 1, int(high)),
                               recovery)


def _read_range(
    source: sqlite3.Connection, select: str, low: int, high: int, recovery: TableRecovery
) -> Iterator[_Row]:
    try:
        rows = source.execute(select, (low, high)).fetchall()
    except sqlite3.DatabaseError:
        if low == high:
            recovery.unreadable += 1
            return
        middle = (low + high) // 2
        yield from _read_range(source, select, low, middle, recovery)
        yield from _read_range(source, select, middle + 1, high, recovery)
        return
    yield from rows


def _readable_prefix(
    source: sqlite3.Connection, select: str, recovery: TableRecovery
) -> Iterator[_Row]:
    """The rows a plain scan returns before it hits the damage (its row ids are unknown)."""
    try:
        cursor = source.execute(select)
        while row := cursor.fetchone():
            yield tuple(row)
    except sqlite3.DatabaseError:
        recovery.unreadable += 1


def _row_fixer(dest: sqlite3.Connection, table: str, columns: list[str]) -> _Fixer:
    """Adjust rows for the new catalogue: files whose folder was lost join the restored
    folder that holds them (None: no folder does)."""
    if table == "files" and "root_id" in columns and "path" in columns:
        return _FileRootFixer(dest, columns.index("root_id"), columns.index("path"))
    return lambda row: row


class _FileRootFixer:
    def __init__(self, dest: sqlite3.Connection, root_at: int, path_at: int) -> None:
        self.roots = {int(i): path_from_db(p) for i, p in dest.execute(
            "SELECT id, path FROM roots WHERE excluded = 0")}
        self.root_at, self.path_at = root_at, path_at

    def __call__(self, row: _Row) -> _Row | None:
        root_id = row[self.root_at]
        if isinstance(root_id, int) and root_id in self.roots:
            return row
        path = Path(path_from_db(row[self.path_at]))
        holders = [(len(p), i) for i, p in self.roots.items() if path.is_relative_to(p)]
        if not holders:
            return None  # not under a watched folder: `index` finds it again if it should
        fixed = list(row)
        fixed[self.root_at] = max(holders)[1]
        return tuple(fixed)


def _restore_roots(dest: sqlite3.Connection, saved: list[SavedRoot]) -> int:
    """Put back the folders roots.json lists that the damaged catalogue lost."""
    known = {path_from_db(r[0]) for r in dest.execute("SELECT path FROM roots")}
    missing = [r for r in saved if r.path not in known]
    dest.executemany(
        "INSERT INTO roots(path, excluded, added_at) VALUES (?, ?, ?)",
        [(path_to_db(r.path), int(r.excluded), time.time()) for r in missing],
    )
    return len(missing)


def _requeue_photos_without_thumbnail(dest: sqlite3.Connection) -> int:
    """A photo whose thumbnail was lost is read again by the next `photofinder index`."""
    return dest.execute(
        "UPDATE files SET status = 'pending' WHERE status = 'ok' AND NOT EXISTS "
        "(SELECT 1 FROM thumbnails t WHERE t.file_id = files.id)"
    ).rowcount


# --- files ---------------------------------------------------------------------------------
def _set_aside(path: Path) -> Path | None:
    """Rename the damaged catalogue and its -wal and -shm to `<name>.damaged-<time>…`
    (side files first, so a new catalogue never meets the old write-ahead log)."""
    if not path.exists():
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    number = 1
    while aside.exists():
        number += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, aside.with_name(aside.name + suffix))
    os.replace(path, aside)
    fsync_dir(path.parent)
    return aside


def _remove_indexes(index_dir: Path) -> int:
    """Drop the search indexes (caches of the catalogue, rebuilt on the next open)."""
    removed = 0
    if not index_dir.is_dir():
        return removed
    for path in index_dir.iterdir():
        if path.suffix in (".hnsw", ".json") and path.is_file():
            path.unlink()
            removed += 1
    return removed
