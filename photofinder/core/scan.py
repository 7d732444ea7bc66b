"""Walk watched folders: photo files with size and mtime, skipping hidden and system folders."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from photofinder.core.imageio import is_photo_name

SKIPPED_FOLDERS = frozenset(
    {"$RECYCLE.BIN", "System Volume Information", "@eaDir", "#recycle", "lost+found",
     "__MACOSX", "node_modules"}
)


@dataclass
class ScanResult:
    files: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (size, mtime_ns)
    folder_errors: dict[str, str] = field(default_factory=dict)


def _skip_folder(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_FOLDERS


def scan_tree(
    root: Path,
    excluded: Iterable[str] = (),
    checkpoint: Callable[[], None] = lambda: None,
    result: ScanResult | None = None,
) -> ScanResult:
    """Every photo below `root`; unreadable folders are recorded with a reason, not fatal.

    Symbolic links to folders are followed once: a folder already visited (same device and
    inode) is skipped, which breaks link loops."""
    result = result if result is not None else ScanResult()
    skip = {os.path.normcase(str(p)) for p in excluded}
    visited: set[tuple[int, int]] = set()
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        checkpoint()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in visited:
                continue
            visited.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as entries:
                children = list(entries)
        except OSError as exc:
            result.folder_errors[folder] = exc.strerror or type(exc).__name__
            continue
        for entry in children:
            try:
                if entry.is_dir(follow_symlinks=True):
                    if not _skip_folder(entry.name) and os.path.normcase(entry.path) not in skip:
                        stack.append(entry.path)
                elif is_photo_name(entry.name) and not entry.name.startswith("."):
                    stat = entry.stat(follow_symlinks=True)
                    result.files[entry.path] = (stat.st_size, stat.st_mtime_ns)
            except OSError:  # vanished or a dangling link between listing and stat
                continue
    return result
