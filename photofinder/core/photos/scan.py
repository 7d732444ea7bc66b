"""Walk watched folders: regular photo files with size and mtime, skipping hidden and system
folders; symbolic links and special files are reported with a reason and never opened."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from photofinder.core.photos.imageio import file_kind, is_photo_name

SKIPPED_FOLDERS = frozenset(
    {"$RECYCLE.BIN", "System Volume Information", "@eaDir", "#recycle", "lost+found",
     "__MACOSX", "node_modules"}
)


@dataclass
class ScanResult:
    files: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (size, mtime_ns)
    folder_errors: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # path -> why it is not indexed


@dataclass
class _Walk:
    """The state of one walk: folders still to list, and the folders already listed."""

    excluded: set[str]
    result: ScanResult
    folders: list[str] = field(default_factory=list)  # real folders, listed first
    linked: list[str] = field(default_factory=list)  # folder links, followed once afterwards
    visited: set[tuple[int, int]] = field(default_factory=set)


def _skip_folder(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_FOLDERS


def _contains(outer: str, inner: str) -> bool:
    """Whether `inner` is `outer` or lies below it (both absolute, resolved)."""
    try:
        return os.path.commonpath([outer, inner]) == outer
    except ValueError:  # different drives
        return False


def scan_tree(
    root: Path,
    excluded: Iterable[str] = (),
    checkpoint: Callable[[], None] = lambda: None,
    result: ScanResult | None = None,
) -> ScanResult:
    """Every regular photo file below `root`; unreadable folders are recorded with a reason.

    Links to files, dangling links and special files (FIFOs, sockets, devices) land in
    `result.skipped`. Symbolic links to folders are followed once, after every real folder:
    a folder already listed (same device and inode) is skipped with a reason, which also
    breaks link loops."""
    walk = _Walk({os.path.normcase(str(p)) for p in excluded}, result or ScanResult())
    walk.folders.append(str(root))
    while walk.folders or walk.linked:
        through_link = not walk.folders
        folder = walk.folders.pop() if walk.folders else walk.linked.pop()
        checkpoint()
        for entry in _list_new_folder(folder, through_link, walk):
            try:
                _visit(entry, walk)
            except OSError:  # vanished between listing and stat
                continue
    return walk.result


def photo_paths(root: Path, excluded: Iterable[str] = ()) -> list[Path]:
    """The regular photo files below `root` by the indexer's rules (see `scan_tree`), sorted."""
    return sorted(Path(path) for path in scan_tree(root, excluded).files)


def _list_new_folder(folder: str, through_link: bool, walk: _Walk) -> list[os.DirEntry[str]]:
    """The entries of a folder not listed before; a repeat reached by a link is reported."""
    try:
        info = os.stat(folder)
        if (info.st_dev, info.st_ino) in walk.visited:
            if through_link:
                walk.result.skipped[folder] = _repeated_folder_reason(folder)
            return []
        walk.visited.add((info.st_dev, info.st_ino))
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError as exc:
        walk.result.folder_errors[folder] = exc.strerror or type(exc).__name__
        return []


def _repeated_folder_reason(link: str) -> str:
    target = os.path.realpath(link)
    if _contains(target, os.path.realpath(os.path.dirname(link))):
        return f"symbolic link loop (leads back to {target})"
    return f"symbolic link to {target}: skipped (that folder is already scanned)"


def _visit(entry: os.DirEntry[str], walk: _Walk) -> None:
    if entry.name.startswith("."):
        return
    if entry.is_symlink():
        _visit_link(entry, walk)
    elif entry.is_dir(follow_symlinks=False):
        if not _skip_folder(entry.name) and os.path.normcase(entry.path) not in walk.excluded:
            walk.folders.append(entry.path)
    elif is_photo_name(entry.name):
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISREG(info.st_mode):
            walk.result.files[entry.path] = (info.st_size, info.st_mtime_ns)
        else:
            walk.result.skipped[entry.path] = f"not a regular file ({file_kind(info.st_mode)})"


def _visit_link(entry: os.DirEntry[str], walk: _Walk) -> None:
    """A folder link is queued; a link to a photo, a dangling link or a loop is reported."""
    try:
        info = os.stat(entry.path)
    except FileNotFoundError:
        target = os.readlink(entry.path)
        walk.result.skipped[entry.path] = f"dangling symbolic link (to {target})"
        return
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        walk.result.skipped[entry.path] = "symbolic link loop"
        return
    target = os.path.realpath(entry.path)
    if stat.S_ISDIR(info.st_mode):
        if _skip_folder(entry.name) or {
            os.path.normcase(entry.path), os.path.normcase(target)
        } & walk.excluded:
            return
        walk.linked.append(entry.path)
    elif is_photo_name(entry.name):
        walk.result.skipped[entry.path] = (
            f"symbolic link to {target}: skipped (a photo is indexed only at its own path)"
        )
