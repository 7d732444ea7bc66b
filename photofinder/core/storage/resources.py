"""Locate bundled resources (the shipped model, its projection, icons) in a checkout or an
installed copy (a wheel, pipx, a PyInstaller bundle)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[2]  # the `photofinder` package folder
# A source checkout keeps them in <repository>/resources; a wheel installs that folder as the
# package data of `photofinder.resources` (pyproject's package-dir), and PyInstaller copies it
# to the same place beside the frozen package.
RESOURCE_DIRS = (_PACKAGE.parent / "resources", _PACKAGE / "resources")
APP_ICON_FILES = ("icons/photofinder.svg", "icons/photofinder-256.png")  # scalable first


def resource_path(relative: str) -> Path:
    """The checkout's resources/ (editable installs), else the copy installed with the package."""
    for base in RESOURCE_DIRS:
        candidate = base / relative
        if candidate.exists():
            return candidate
    return RESOURCE_DIRS[0] / relative


def app_icon_files() -> list[Path]:
    """The application icon's files that are there, the scalable one first."""
    return [path for path in map(resource_path, APP_ICON_FILES) if path.exists()]
