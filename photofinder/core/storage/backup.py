"""What a data folder remembers outside the catalogue: the watched folders (roots.json), and
whether a library existed there (so an emptied catalogue is reported, not silently recreated)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from photofinder.core.storage.atomic import atomic_write_bytes


class WatchedRoot(Protocol):
    """A watched or excluded folder (catalog.Root is one)."""

    @property
    def path(self) -> str: ...

    @property
    def excluded(self) -> bool: ...


ROOTS_BACKUP = "roots.json"
INDEX_FOLDER = "indexes"  # AppPaths.index_dir
BACKUP_FORMAT = 1


@dataclass(frozen=True)
class SavedRoot:
    path: str
    excluded: bool


def roots_backup_path(data_dir: Path) -> Path:
    return data_dir / ROOTS_BACKUP


def _encode(roots: Iterable[SavedRoot]) -> bytes:
    entries = [{"path": r.path, "excluded": r.excluded} for r in roots]
    return json.dumps({"format": BACKUP_FORMAT, "roots": entries}, indent=1).encode()


def write_roots_backup(data_dir: Path, roots: Iterable[WatchedRoot]) -> None:
    """Keep the watched and excluded folders beside the catalogue (atomically; only when they
    changed). `photofinder repair` restores them when the catalogue lost its roots."""
    saved = sorted({SavedRoot(r.path, r.excluded) for r in roots}, key=lambda r: r.path)
    target = roots_backup_path(data_dir)
    if not saved and not target.exists():
        return
    data = _encode(saved)
    try:
        if target.read_bytes() == data:
            return
    except OSError:
        pass
    atomic_write_bytes(target, data)


def read_roots_backup(data_dir: Path) -> list[SavedRoot]:
    """The folders roots.json lists; empty when it is missing or unreadable."""
    try:
        payload = json.loads(roots_backup_path(data_dir).read_text("utf-8"))
        return [SavedRoot(str(e["path"]), bool(e["excluded"])) for e in payload["roots"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def library_evidence(data_dir: Path) -> str | None:
    """Why we believe a library existed in this data folder, or None for a new one."""
    saved = read_roots_backup(data_dir)
    if saved:
        return f"{ROOTS_BACKUP} lists {len(saved)} folder{'' if len(saved) == 1 else 's'}"
    indexes = data_dir / INDEX_FOLDER
    if indexes.is_dir() and any(indexes.glob("*.hnsw")):
        return f"{INDEX_FOLDER}/ holds search indexes"
    return None
