"""Locate bundled resources (model projections, icons) in a checkout or an installed copy."""

from __future__ import annotations

import site
import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[3] / "resources"
# Where a wheel's data files land (pyproject's data-files: share/photofinder/...): the
# environment's prefix, or the user's base for `pip install --user`.
_INSTALLED = (
    Path(sys.prefix) / "share" / "photofinder",
    Path(site.getuserbase()) / "share" / "photofinder",
)
APP_ICON_FILES = ("icons/photofinder.svg", "icons/photofinder-256.png")  # scalable first


def resource_path(relative: str) -> Path:
    """The checkout's resources/ (editable installs), else the copy a wheel installs."""
    for base in (_CHECKOUT, *_INSTALLED):
        candidate = base / relative
        if candidate.exists():
            return candidate
    return _CHECKOUT / relative


def app_icon_files() -> list[Path]:
    """The application icon's files that are there, the scalable one first."""
    return [path for path in map(resource_path, APP_ICON_FILES) if path.exists()]
