"""Safe deletion: move photos to the platform trash, make the library forget them, restore them."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote_to_bytes

from photofinder.core.duplicates.trash_guard import why_not_trashable
from photofinder.core.errors import IndexSaveError, PhotoFinderError
from photofinder.core.storage.catalog import Catalog
from photofinder.core.storage.vector_index import VectorIndex

TrashFunction = Callable[[str], None]
NOT_MOVED = "; not moved to the trash"


class Library(Protocol):
    """What the trash needs of a library (photofinder.core.library.Library is one)."""

    @property
    def catalog(self) -> Catalog: ...

    @property
    def index(self) -> VectorIndex: ...
UNDO_UNAVAILABLE = "Undo is not available on this platform: restore files from the trash by hand."


class TrashError(PhotoFinderError):
    """A file could not be moved to the trash (nothing was deleted), or back out of it."""


@dataclass(frozen=True)
class TrashedFile:
    file_id: int
    path: Path
    size: int


@dataclass(frozen=True)
class CleanupGroup:
    """One reviewed duplicate group: the photo to keep and the ones marked for the trash."""

    keep: int
    remove: Sequence[int]


@dataclass
class TrashReport:
    trashed: list[TrashedFile] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    warning: str | None = None

    @property
    def freed_bytes(self) -> int:
        return sum(f.size for f in self.trashed)


@dataclass
class RestoreReport:
    restored: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def _send2trash(path: str) -> None:
    from send2trash import send2trash

    send2trash(path)


def trash_file(library: Library, file_id: int, send: TrashFunction | None = None) -> Path:
    """Move a catalogued photo to the trash (never a hard delete), then drop its catalogue row
    and its vector from the index. Only a file that is still exactly the catalogued photo goes
    (`trash_guard.why_not_trashable`); anything else raises TrashError with the reason."""
    record = library.catalog.file_by_id(file_id)
    if record is None:
        raise TrashError(f"photo {file_id} is not in the catalogue")
    path = Path(record.path)
    reason = why_not_trashable(record, library.catalog.roots())
    if reason is not None:
        raise TrashError(f"{path}: {reason}{NOT_MOVED}")
    try:
        (send or _send2trash)(str(path))
    except OSError as exc:
        raise TrashError(f"{path}: could not move to the trash ({exc})") from exc
    library.catalog.delete_files([file_id])
    library.index.remove(file_id)
    return path


def trash_files(
    library: Library, file_ids: Iterable[int], send: TrashFunction | None = None
) -> TrashReport:
    """Trash each photo (one failure does not stop the rest); the catalogue forgets exactly the
    ones that went to the trash. Returns what was trashed and what was not, with reasons."""
    report = TrashReport()
    for file_id in file_ids:
        _trash_into(report, library, file_id, send)
    _save_index(library, report)
    return report


def trash_duplicates(
    library: Library, groups: Sequence[CleanupGroup], send: TrashFunction | None = None
) -> TrashReport:
    """Trash the photos marked in each duplicate group, but only while the group's keeper is
    still there as reviewed: a keeper that is gone or changed keeps its whole group, and a
    name of the keeper's own file (a link) is never trashed."""
    report = TrashReport()
    roots = library.catalog.roots()
    for group in groups:
        marked = [r for i in group.remove if i != group.keep
                  and (r := library.catalog.file_by_id(i)) is not None]
        keeper = library.catalog.file_by_id(group.keep)
        if keeper is None:
            problem: str | None = f"photo {group.keep} is no longer in the catalogue"
        else:
            reason = why_not_trashable(keeper, roots)
            problem = None if reason is None else f"{keeper.path} {reason}"
        for record in marked:
            if problem is not None:
                report.failed.append((Path(record.path), f"kept: the photo to keep ({problem})"))
            elif keeper is not None and _same_file(record.path, keeper.path):
                report.failed.append((Path(record.path),
                                      "kept: it is the photo to keep under another name (a link)"))
            else:
                _trash_into(report, library, record.id, send)
    _save_index(library, report)
    return report


def _same_file(a: str, b: str) -> bool:
    """Two names of one file (a hard link, or a path through a folder link)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _trash_into(
    report: TrashReport, library: Library, file_id: int, send: TrashFunction | None
) -> None:
    record = library.catalog.file_by_id(file_id)
    if record is None:
        return
    try:
        path = trash_file(library, file_id, send)
    except TrashError as exc:
        reason = str(exc).removeprefix(f"{record.path}: ").removesuffix(NOT_MOVED)
        report.failed.append((Path(record.path), reason))
        return
    report.trashed.append(TrashedFile(file_id, path, record.size))


def _save_index(library: Library, report: TrashReport) -> None:
    """The catalogue already forgot the trashed photos; the index is a cache of it, so a
    failed save is only a warning (the next open catches up)."""
    if report.trashed and library.index.dirty:
        try:
            library.index.save()
        except IndexSaveError as exc:
            report.warning = str(exc)


# --- undo ------------------------------------------------------------------------------------
def undo_supported(platform: str = sys.platform) -> bool:
    """Restore works where the trash layout is known: freedesktop (Linux, BSD) and macOS."""
    return platform == "darwin" or platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))


def restore_files(files: Sequence[TrashedFile], platform: str = sys.platform) -> RestoreReport:
    """Move trashed photos back to where they were; each failure is reported, not raised."""
    report = RestoreReport()
    for trashed in files:
        try:
            report.restored.append(restore_file(trashed.path, trashed.size, platform))
        except TrashError as exc:
            report.failed.append((trashed.path, str(exc)))
    return report


def restore_file(original: Path, size: int | None = None, platform: str = sys.platform) -> Path:
    """Move the latest trashed copy of `original` back to its path (which must be free)."""
    original = Path(os.path.abspath(original))
    if not undo_supported(platform):
        raise TrashError(UNDO_UNAVAILABLE)
    if original.exists():
        raise TrashError(f"{original}: a file is already there; not overwritten")
    if platform == "darwin":
        source = _mac_trashed(original, size)
        info: Path | None = None
    else:
        source, info = _freedesktop_trashed(original)
    original.parent.mkdir(parents=True, exist_ok=True)
    try:
        _move_without_overwrite(source, original)
    except FileExistsError as exc:
        raise TrashError(f"{original}: a file is already there; not overwritten") from exc
    except OSError as exc:
        raise TrashError(f"{original}: could not restore from the trash ({exc})") from exc
    if info is not None:
        info.unlink(missing_ok=True)
    return original


def _move_without_overwrite(source: Path, target: Path) -> None:
    """Move a file to a path that must be free at the moment of the move, not only before it:
    a hard link fails on an existing name (atomically); across volumes, an exclusive create."""
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError:  # another volume, or no hard links there (FAT, some network shares)
        with source.open("rb") as reader, target.open("xb") as writer:
            try:
                shutil.copyfileobj(reader, writer)
            except BaseException:
                target.unlink(missing_ok=True)  # a partial copy; the trashed file stays
                raise
        shutil.copystat(source, target)
    source.unlink()


def freedesktop_trash_dirs(original: Path) -> list[tuple[Path, Path]]:
    """(trash folder, the folder its relative Path= entries start from): the home trash, then
    the trash folders at the top of the volume that holds `original`."""
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    dirs = [(data_home / "Trash", data_home)]
    top = _mount_point(original.parent)
    uid = os.getuid() if hasattr(os, "getuid") else 0
    dirs += [(top / ".Trash" / str(uid), top), (top / f".Trash-{uid}", top)]
    return [(trash, base) for trash, base in dirs if (trash / "info").is_dir()]


def _mount_point(folder: Path) -> Path:
    path = Path(os.path.realpath(folder))
    while not path.exists() and path != path.parent:
        path = path.parent
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def _read_info(info: Path) -> tuple[str, str] | None:
    """(Path=, DeletionDate=) of a .trashinfo file, or None when it is not one."""
    try:
        lines = info.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    if "Path" not in values:
        return None
    # Path= is percent-encoded bytes: a name that is not UTF-8 comes back as the OS has it.
    return os.fsdecode(unquote_to_bytes(values["Path"])), values.get("DeletionDate", "")


def _freedesktop_trashed(original: Path) -> tuple[Path, Path]:
    """The trashed file and its .trashinfo: Path= matches, the latest DeletionDate wins."""
    best: tuple[tuple[str, float], Path, Path] | None = None
    for trash, base in freedesktop_trash_dirs(original):
        for info in (trash / "info").glob("*.trashinfo"):
            entry = _read_info(info)
            if entry is None:
                continue
            path, deleted = entry
            if Path(os.path.abspath(base / path)) != original:  # an absolute Path= stays as is
                continue
            stored = trash / "files" / info.name.removesuffix(".trashinfo")
            if not os.path.lexists(stored):
                continue
            rank = (deleted, info.stat().st_mtime)
            if best is None or rank > best[0]:
                best = (rank, stored, info)
    if best is None:
        raise TrashError(f"{original}: not found in the trash")
    return best[1], best[2]


def _mac_trashed(original: Path, size: int | None) -> Path:
    """~/.Trash/<name> (or Finder's renamed "<stem> 2.ext", "<stem> 12.34.56.ext"): same
    size, most recently trashed."""
    trash = Path.home() / ".Trash"
    stem, suffix = original.stem, original.suffix
    candidates = [
        p for p in (trash.iterdir() if trash.is_dir() else [])
        if (p.name == original.name or (p.name.startswith(f"{stem} ") and p.suffix == suffix))
        and (size is None or p.stat().st_size == size)
    ]
    if not candidates:
        raise TrashError(f"{original}: not found in the trash")
    return max(candidates, key=lambda p: p.stat().st_ctime)
