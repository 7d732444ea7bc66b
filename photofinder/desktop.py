"""Add PhotoFinder to the desktop's application menu (XDG): a .desktop entry and the icon."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from photofinder.core.errors import PhotoFinderError
from photofinder.core.storage.atomic import atomic_write_bytes
from photofinder.core.storage.resources import resource_path

APP_ID = "photofinder"
GUI_COMMAND = "photofinder-gui"
# The entry's fields; packaging/photofinder.desktop holds the same with a bare Exec (a test
# checks they agree).
ENTRY_FIELDS = (
    ("Type", "Application"),
    ("Name", "PhotoFinder"),
    ("GenericName", "Similar photo finder"),
    ("Comment", "Find similar photos and duplicates in your photo library, offline"),
    ("Icon", APP_ID),
    ("Terminal", "false"),
    ("Categories", "Graphics;Photography;Viewer;Qt;"),
    ("MimeType", "image/jpeg;image/png;image/webp;image/tiff;image/bmp;image/gif;image/heic;"
                 "image/heif;image/avif;"),
    ("Keywords", "photo;duplicate;similar;search;image;"),
)
ICONS = (("icons/photofinder.svg", "scalable"), ("icons/photofinder-256.png", "256x256"))


@dataclass(frozen=True)
class DesktopFiles:
    entry: Path
    icons: list[Path]


def data_home() -> Path:
    """$XDG_DATA_HOME, else ~/.local/share."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def gui_launcher() -> Path:
    """The GUI's executable: beside this one in a packaged app, else on PATH or in the venv."""
    beside = Path(sys.executable).resolve().parent / GUI_COMMAND
    if getattr(sys, "frozen", False) and beside.exists():
        return beside
    found = shutil.which(GUI_COMMAND)
    if found:
        return Path(found).resolve()
    in_prefix = Path(sys.prefix) / "bin" / GUI_COMMAND
    if in_prefix.exists():
        return in_prefix
    raise PhotoFinderError(f"cannot find the `{GUI_COMMAND}` program to put in the menu")


def entry_text(launcher: Path) -> str:
    """The .desktop file that starts `launcher` with the photos it is given."""
    exec_line = f'"{launcher}" %F' if " " in str(launcher) else f"{launcher} %F"
    fields = [*ENTRY_FIELDS[:4], ("Exec", exec_line), *ENTRY_FIELDS[4:]]
    return "[Desktop Entry]\n" + "".join(f"{key}={value}\n" for key, value in fields)


def planned_files(home: Path) -> DesktopFiles:
    """Where the entry and icons go under a data folder (~/.local/share)."""
    icons = [home / "icons" / "hicolor" / size / "apps" / f"{APP_ID}{Path(source).suffix}"
             for source, size in ICONS]
    return DesktopFiles(home / "applications" / f"{APP_ID}.desktop", icons)


def install(home: Path | None = None, launcher: Path | None = None) -> DesktopFiles:
    """Write the entry (pointing at this installation's GUI) and the icons."""
    home = home or data_home()
    files = planned_files(home)
    try:
        for (source, _), target in zip(ICONS, files.icons, strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, resource_path(source).read_bytes())
        files.entry.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(files.entry, entry_text(launcher or gui_launcher()).encode())
    except OSError as exc:
        raise PhotoFinderError(f"cannot add PhotoFinder to the menu: {exc}") from exc
    return files


def uninstall(home: Path | None = None) -> list[Path]:
    """Remove what `install` wrote; returns the files that were there."""
    files = planned_files(home or data_home())
    removed = []
    for path in (files.entry, *files.icons):
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed
